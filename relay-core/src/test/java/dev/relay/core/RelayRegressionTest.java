package dev.relay.core;

import static dev.relay.core.RelayTest.await;
import static dev.relay.core.RelayTest.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.Puller;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.inmemory.InMemoryTaskQueue;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What users found in the engine, each named after what broke, on real threads with the in-memory queue. Waits
 * poll for a condition up to a generous deadline; no timing is asserted.
 */
class RelayRegressionTest {

    final InMemoryTaskQueue queue = InMemoryTaskQueue.create();
    final RelayTest.MemorySink sink = new RelayTest.MemorySink();
    final List<Relay> relays = new ArrayList<>();
    final List<ExecutorService> pools = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Relay r : relays) {
            r.shutdown(Duration.ofSeconds(5));
        }
        pools.forEach(ExecutorService::shutdownNow);
    }

    Relay started(Relay.Builder b) {
        Relay r = b.build().start();
        relays.add(r);
        return r;
    }

    Relay.Builder relay() {
        return Relay.builder().queue(queue).puller(RelayTest.puller(2)).sink(sink).idlePollInterval(Duration.ofMillis(5));
    }

    /** A puller whose tasks wait at a gate; counts the cursors opened. */
    static final class GatedPuller implements Puller {
        final CountDownLatch gate = new CountDownLatch(1);
        final AtomicInteger opened = new AtomicInteger();
        final AtomicInteger waiting = new AtomicInteger();

        @Override
        public dev.relay.api.RowCursor open(Task task) {
            opened.incrementAndGet();
            waiting.incrementAndGet();
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            waiting.decrementAndGet();
            return new RelayTest.ListCursor(task, 1);
        }
    }

    @Test
    void pause_givesTheBufferedLeasesBackAtOnce_andTakesNoNewOnes() throws Exception {
        GatedPuller gated = new GatedPuller();
        Relay r = started(relay().puller(gated).lane(LaneSpec.builder("a").buffer(8).build()));
        for (int i = 0; i < 6; i++) {
            queue.offer(task("a", i));
        }
        await(() -> gated.waiting.get() == 1 && queue.leased("a") == 6, "one running, five buffered");
        r.pause("a").get(5, TimeUnit.SECONDS);
        assertEquals(1, queue.leased("a"), "only the running task keeps its lease");
        assertEquals(5, queue.backlog("a"));
        assertEquals(0, r.snapshot().lane("a").orElseThrow().buffered());
        gated.gate.countDown();
        await(() -> r.snapshot().completed() == 1, "the running task finishes");
        Thread.sleep(30); // several idle polls: a paused lane takes nothing
        assertEquals(0, queue.leased("a"));
        assertEquals(5, queue.backlog("a"));
        r.resume("a").get(5, TimeUnit.SECONDS);
        await(() -> r.snapshot().completed() == 6, "all six after the resume");
        assertEquals(6, sink.sessions.get(), "each task ran once");
    }

    @Test
    void sameTaskInTwoLanesWithTheirOwnSinks_reachesBothSinks() throws Exception {
        RelayTest.MemorySink first = new RelayTest.MemorySink();
        RelayTest.MemorySink second = new RelayTest.MemorySink();
        Relay r = started(Relay.builder().queue(queue).puller(RelayTest.puller(3)).sourcePermits(2)
                .idlePollInterval(Duration.ofMillis(5))
                .lane(LaneSpec.of("warehouse"), first).lane(LaneSpec.of("archive"), second));
        List<Task> pulls = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            pulls.add(task("warehouse", i));
        }
        for (Task t : pulls) {
            queue.offer(t);
            queue.offer(t.withLane("archive")); // the same pull, bound for the other lane's sink
        }
        await(() -> r.snapshot().completed() == 100, "both lanes' deliveries");
        for (Task t : pulls) {
            assertEquals(3, first.committed.get(t.id()), "warehouse has every row of " + t.id());
            assertEquals(3, second.committed.get(t.id()), "archive has every row of " + t.id());
        }
        assertEquals(50, first.sessions.get());
        assertEquals(50, second.sessions.get());
        assertEquals(0, r.snapshot().lane("archive").orElseThrow().duplicates(), "nothing was taken for a duplicate");
    }

    @Test
    void sinkDown_failsTheAttemptWithoutQueryingTheSource() throws Exception {
        AtomicInteger queried = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        Sink down = new Sink() {
            @Override
            public SinkSession open(Task task, RowSchema schema) {
                throw new AssertionError("the engine opens sessions before the pull");
            }

            @Override
            public SinkSession openBeforePull(Task task, Supplier<RowSchema> schema) {
                refused.incrementAndGet();
                throw new SinkException("warehouse unreachable", null);
            }
        };
        Puller counting = task -> {
            queried.incrementAndGet();
            return new RelayTest.ListCursor(task, 1);
        };
        Relay r = started(relay().puller(counting).sink(down).suspendAfterFailures(0)
                .lane(LaneSpec.builder("a").retryPolicy(RelayTest.FAST_RETRY).build()));
        queue.offer(task("a", 1));
        await(() -> r.snapshot().lane("a").orElseThrow().deadLettered() == 1, "dead-lettered after its attempts");
        assertEquals(3, refused.get());
        assertEquals(0, queried.get(), "no source query for a sink that is down");
    }

    @Test
    void unservedLane_backlogIsReportedInTheSnapshotAndTheMetrics() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Relay r = started(relay().lane(LaneSpec.of("realtime")).meterRegistry(registry));
        for (int i = 0; i < 3; i++) {
            queue.offer(task("realtme", i)); // a typo: no relay serves this lane
        }
        queue.offer(task("realtime", 9));
        await(() -> r.snapshot().unservedBacklog().equals(Map.of("realtme", 3L)), "the unserved lane reported");
        assertEquals(3.0, registry.get("relay.unserved.backlog").gauge().value());
        assertEquals(1.0, registry.get("relay.unserved.lanes").gauge().value());
        await(() -> r.snapshot().completed() == 1, "the served lane is relayed");
    }

    @Test
    void listener_hearsWhenATaskReachesTheHeadOfItsLane_andTheSnapshotShowsDeficitAndBound() throws Exception {
        GatedPuller gated = new GatedPuller();
        List<String> heads = new CopyOnWriteArrayList<>();
        Map<String, Long> bounds = new ConcurrentHashMap<>();
        RelayListener listener = new RelayListener() {
            @Override
            public void reachedHead(Task task, Instant at, long bound) {
                heads.add(task.lane() + ":" + task.id());
                bounds.put(task.id(), bound);
            }
        };
        long minute = Duration.ofMinutes(1).toNanos(); // declared maximum cost: the bound is a guarantee
        Relay r = started(relay().puller(gated).listener(listener).lane(LaneSpec.builder("a").maxTaskCost(minute).build())
                .lane(LaneSpec.builder("b").maxTaskCost(minute).build()));
        List<Task> tasks = List.of(task("a", 1), task("a", 2), task("b", 3));
        tasks.forEach(queue::offer);
        await(() -> heads.size() >= 3, "every task reached the head of its lane");
        for (Task t : tasks) {
            assertTrue(heads.contains(t.lane() + ":" + t.id()), t + " in " + heads);
            assertTrue(bounds.get(t.id()) >= 0 && bounds.get(t.id()) < FairScheduler.UNBOUNDED, "bound " + bounds);
        }
        RelaySnapshot s = r.snapshot();
        assertEquals(0, s.lane("a").orElseThrow().deficit(), "after a's first start: its quantum less its estimate, both Q");
        LaneSnapshot b = s.lane("b").orElseThrow();
        assertTrue(b.headBound() > 0 && b.headBound() <= 3 * minute, "b's head waits for a's task, at most its declared cost, and a's "
                + "visit: " + b);
        assertTrue(b.headEstimate() > 0 && b.headEstimate() < FairScheduler.UNBOUNDED, b.toString());
        gated.gate.countDown();
        await(() -> r.snapshot().completed() == 3, "all three");
    }

    @Test
    void cancelInFlight_stopsTheRunningTasks_andTheirLeasesComeBackWithoutAnAttempt() throws Exception {
        GatedPuller gated = new GatedPuller();
        Puller cancellable = task -> new RelayTest.ListCursor(task, 1) {
            private final CountDownLatch cancelled = new CountDownLatch(1);

            @Override
            public List<dev.relay.api.Row> next() {
                gated.waiting.incrementAndGet();
                try {
                    if (cancelled.await(30, TimeUnit.SECONDS)) {
                        throw new dev.relay.api.PullException("cancelled", null);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.next();
            }

            @Override
            public void cancel() {
                cancelled.countDown();
            }
        };
        Relay r = started(relay().puller(cancellable).sourcePermits(2).lane(LaneSpec.of("a")));
        queue.offer(task("a", 1));
        queue.offer(task("a", 2));
        await(() -> gated.waiting.get() == 2, "both running");
        r.permitLimit(0).get(5, TimeUnit.SECONDS);
        assertEquals(2, r.cancelInFlight().get(5, TimeUnit.SECONDS));
        await(() -> r.snapshot().inFlight() == 0 && queue.backlog("a") == 2, "both given back");
        assertEquals(0, r.snapshot().lane("a").orElseThrow().retried(), "no attempt counted");
        assertEquals(0, queue.completed("a"));
        List<dev.relay.api.Lease> back = queue.poll("a", 2);
        back.forEach(l -> assertEquals(1, l.task().attempt()));
        back.forEach(dev.relay.api.Lease::release);
    }

    @Test
    void finishingWorker_runsTheNextTaskItself_insteadOfHandingItToTheExecutor() throws Exception {
        AtomicInteger executed = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(1);
        pools.add(pool);
        Executor counting = command -> {
            executed.incrementAndGet();
            pool.execute(command);
        };
        for (int i = 0; i < 200; i++) {
            queue.offer(task("a", i));
        }
        Relay r = started(relay().workers(counting).idlePollInterval(Duration.ofHours(1))
                .lane(LaneSpec.builder("a").buffer(500).build()));
        await(() -> r.snapshot().completed() == 200, "200 tasks");
        // nearly always 1: the start turn's dispatch; more only where another thread was running a turn when the
        // worker finished (then that thread hands the next task over through the executor)
        assertTrue(executed.get() < 100, "200 tasks on one permit took " + executed.get() + " executor hand-offs");
    }
}
