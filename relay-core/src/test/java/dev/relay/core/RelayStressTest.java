package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.PullException;
import dev.relay.api.Puller;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Task;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Real threads, more workers than permits, random failures and lanes paused, resumed and re-weighted while
 * tasks run: the source never sees more than P pulls at once (counted inside the puller itself), and every task
 * ends in the sink exactly once or in the dead letters.
 */
class RelayStressTest {

    @Test
    void permitsHold_andEveryTaskEndsOnce_underConcurrencyAndChurn() throws Exception {
        int permits = 3;
        int lanes = 6;
        int perLane = 300;
        InMemoryTaskQueue queue = InMemoryTaskQueue.create();
        RelayTest.MemorySink sink = new RelayTest.MemorySink();
        AtomicInteger concurrent = new AtomicInteger();
        AtomicInteger maxConcurrent = new AtomicInteger();
        Puller puller = task -> {
            int now = concurrent.incrementAndGet();
            maxConcurrent.accumulateAndGet(now, Math::max);
            SplittableRandom r = new SplittableRandom(task.id().hashCode() * 31L + task.attempt());
            if (r.nextInt(10) == 0) {
                concurrent.decrementAndGet();
                throw new PullException("flaky source for " + task.id(), null);
            }
            RowCursor inner = new RelayTest.ListCursor(task, 1 + r.nextInt(3));
            return new RowCursor() {
                private boolean closed;

                @Override
                public RowSchema schema() {
                    return inner.schema();
                }

                @Override
                public List<Row> next() {
                    if (r.nextInt(4) == 0) {
                        Thread.onSpinWait();
                        Thread.yield();
                    }
                    return inner.next();
                }

                @Override
                public void cancel() {
                }

                @Override
                public void close() {
                    if (!closed) {
                        closed = true;
                        concurrent.decrementAndGet();
                    }
                }
            };
        };
        ExecutorService workers = Executors.newFixedThreadPool(8);
        Relay.Builder b = Relay.builder().queue(queue).puller(puller).sink(sink).sourcePermits(permits).workers(workers)
                .idlePollInterval(Duration.ofMillis(2)).suspendAfterFailures(0);
        RetryPolicy retry = RetryPolicy.builder().maxAttempts(3).initialDelay(Duration.ofMillis(1)).maxDelay(Duration.ofMillis(5)).build();
        for (int l = 0; l < lanes; l++) {
            b.lane(LaneSpec.builder("l" + l).weight(1 + l).retryPolicy(retry).dedicatedPermits(l == 0 ? 1 : 0).build());
        }
        Relay relay = b.build().start();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < perLane; i++) {
            for (int l = 0; l < lanes; l++) {
                Task t = Task.builder("l" + l, "vds30sec").scope(RelayTest.task("x", i).scope()).parameter("district", "l" + l).build();
                ids.add(t.id());
                queue.offer(t);
            }
            if (i % 50 == 25) {
                relay.pause("l2");
                relay.updateLane(LaneSpec.builder("l3").weight(1 + i % 7).retryPolicy(retry).build());
            } else if (i % 50 == 40) {
                relay.resume("l2");
            }
        }
        relay.resume("l2").get(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            RelaySnapshot s = relay.snapshot();
            long ended = s.lanes().stream().mapToLong(x -> x.completed() + x.deadLettered()).sum();
            if (ended == (long) lanes * perLane) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not done: " + s);
            }
            Thread.sleep(5);
        }
        assertTrue(relay.shutdown(Duration.ofSeconds(10)));
        workers.shutdown();
        assertTrue(maxConcurrent.get() <= permits, "the source saw " + maxConcurrent.get() + " pulls at once");
        assertTrue(relay.snapshot().maxPermitsInUse() <= permits);
        long dead = 0;
        for (int l = 0; l < lanes; l++) {
            dead += queue.deadLetters("l" + l).size();
        }
        assertEquals(ids.size(), sink.committed.size() + dead, "every task ended once: in the sink or the dead letters");
        for (int l = 0; l < lanes; l++) {
            queue.deadLetters("l" + l).forEach(d -> assertTrue(!sink.committed.containsKey(d.task().id())));
            assertEquals(0, queue.backlog("l" + l));
            assertEquals(0, queue.leased("l" + l));
        }
        System.out.printf("stress: %d tasks, %d committed, %d dead-lettered, at most %d pulls at once (P=%d)%n",
                ids.size(), sink.committed.size(), dead, maxConcurrent.get(), permits);
    }
}
