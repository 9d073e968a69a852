package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Health;
import dev.relay.api.HealthIssue;
import dev.relay.api.HealthStatus;
import dev.relay.api.LaneSpec;
import dev.relay.api.Lease;
import dev.relay.api.QueueException;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A queue that refuses the engine's subscription (issue 19: credentials refused, an ACL missing): the refusal reaches
 * {@link Relay#health()}, the snapshot and the listener, is retried with a capped backoff, and the relay subscribes
 * and relays by itself once the queue accepts — on virtual time ({@link VirtualTurns}).
 */
class SubscriptionTest {

    final VirtualTurns v = new VirtualTurns();
    final InMemoryTaskQueue memory = InMemoryTaskQueue.builder().clock(v).build();
    final RelayTest.MemorySink sink = new RelayTest.MemorySink();

    /** The in-memory queue, refusing subscriptions while {@link #refuse} is set. */
    static final class RefusingQueue implements TaskQueue {
        final InMemoryTaskQueue delegate;
        volatile boolean refuse = true;
        final AtomicInteger attempts = new AtomicInteger();

        RefusingQueue(InMemoryTaskQueue delegate) {
            this.delegate = delegate;
        }

        @Override
        public void offer(Task task) {
            delegate.offer(task);
        }

        @Override
        public void subscribe(Set<String> lanes) {
            attempts.incrementAndGet();
            if (refuse) {
                throw new QueueException("not authorized to access topics [pems.a] (the broker at 10.0.0.7:9093)", null, true);
            }
            delegate.subscribe(lanes);
        }

        @Override
        public List<Lease> poll(String lane, int max) {
            return delegate.poll(lane, max);
        }

        @Override
        public long backlog(String lane) {
            return delegate.backlog(lane);
        }

        @Override
        public void setAvailabilityListener(Runnable listener) {
            delegate.setAvailabilityListener(listener);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    @Test
    void subscribe_refused_isReportedRetriedWithCappedBackoff_andRecoversByItself() {
        RefusingQueue queue = new RefusingQueue(memory);
        List<String> heard = new ArrayList<>();
        Relay r = Relay.builder().queue(queue).puller(RelayTest.puller(2)).sink(sink).clock(v).control(v)
                .workers(v.workers).idlePollInterval(Duration.ofSeconds(1)).lane(LaneSpec.of("a"))
                .listener(new RelayListener() {
                    @Override
                    public void subscriptionFailed(Set<String> lanes, Instant at, Duration retryIn, Throwable error) {
                        heard.add("failed " + lanes + " retry in " + retryIn.toSeconds() + " s");
                    }

                    @Override
                    public void subscribed(Set<String> lanes, Instant at) {
                        heard.add("subscribed " + lanes);
                    }
                }).build().start();
        v.runReady();
        v.advance(Duration.ZERO); // the subscription turn
        Instant first = v.instant();

        Health h = r.health();
        assertEquals(HealthStatus.DOWN, h.status(), h.toString());
        HealthIssue refused = h.issuesOf(HealthIssue.QUEUE).get(0);
        assertEquals(HealthIssue.Kind.QUEUE_UNREACHABLE, refused.kind());
        assertTrue(refused.message().contains("not authorized") && refused.message().contains("[a]"), refused.message());
        assertEquals(first, refused.since());
        assertEquals(HealthStatus.DOWN, r.snapshot().health().status());
        assertEquals(List.of("failed [a] retry in 5 s"), heard);

        // 5, 10, 20, 40, then 60 s (capped): 5 attempts more in 135 s, 2 more in the next 120 s
        v.advance(Duration.ofSeconds(135));
        assertEquals(6, queue.attempts.get());
        v.advance(Duration.ofSeconds(120));
        assertEquals(8, queue.attempts.get());
        assertEquals("failed [a] retry in 60 s", heard.get(heard.size() - 1));
        assertEquals(first, r.health().issuesOf(HealthIssue.QUEUE).get(0).since(), "since the first refusal");

        // the ACL is granted: the next retry subscribes, the relay relays, health is up, no restart
        queue.refuse = false;
        memory.offer(RelayTest.task("a", 1));
        v.advance(Duration.ofSeconds(60));
        assertEquals("subscribed [a]", heard.get(heard.size() - 1));
        assertEquals(Health.up(), r.health());
        assertEquals(1, sink.committed.size(), "the task offered meanwhile was relayed");
        v.advance(Duration.ofMinutes(5));
        assertEquals(9, queue.attempts.get(), "no retry after the success");
    }
}
