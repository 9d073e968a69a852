package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.relay.api.Health;
import dev.relay.api.LaneSpec;
import dev.relay.api.Lease;
import dev.relay.api.QueueException;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A refused subscription reaches the {@link RelayListener} (issue 19): once when the refusals begin, once when the
 * queue accepts again — not at every retry — on virtual time ({@link VirtualTurns}).
 */
class SubscriptionListenerTest {

    final VirtualTurns v = new VirtualTurns();
    final InMemoryTaskQueue memory = InMemoryTaskQueue.builder().clock(v).build();

    /** The in-memory queue, refusing subscriptions while {@link #refuse} is set. */
    static final class RefusingQueue implements TaskQueue {
        final InMemoryTaskQueue delegate;
        volatile boolean refuse = true;

        RefusingQueue(InMemoryTaskQueue delegate) {
            this.delegate = delegate;
        }

        @Override
        public void offer(Task task) {
            delegate.offer(task);
        }

        @Override
        public void subscribe(Set<String> lanes) {
            if (refuse) {
                throw new QueueException("TopicAuthorizationException: not authorized to access topics [pems.a]", null, true);
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
    void subscriptionRefused_toldOnceWhenItBegins_andOnceWhenItWorksAgain() {
        RefusingQueue queue = new RefusingQueue(memory);
        List<String> heard = new CopyOnWriteArrayList<>();
        Instant startedAt = v.instant();
        Relay r = Relay.builder().queue(queue).puller(RelayTest.puller(1)).sink(new RelayTest.MemorySink()).clock(v)
                .control(v).workers(v.workers).idlePollInterval(Duration.ofSeconds(1)).lane(LaneSpec.of("a"))
                .listener(new RelayListener() {
                    @Override
                    public void subscriptionFailed(Set<String> lanes, Instant at, Throwable error) {
                        heard.add("refused " + lanes + " at " + at + ": " + error.getMessage());
                    }

                    @Override
                    public void subscribed(Set<String> lanes, Instant at) {
                        heard.add("subscribed " + lanes + " at " + at);
                    }
                }).build().start();
        v.runReady();
        v.advance(Duration.ofSeconds(10)); // ten housekeeping retries, still refused
        assertEquals(List.of("refused [a] at " + startedAt
                + ": TopicAuthorizationException: not authorized to access topics [pems.a]"), heard);
        queue.refuse = false;
        Instant grantedBy = v.instant().plusSeconds(1);
        v.advance(Duration.ofSeconds(1));
        assertEquals("subscribed [a] at " + grantedBy, heard.get(1));
        v.advance(Duration.ofSeconds(10));
        assertEquals(2, heard.size(), "nothing more once subscribed: " + heard);
        assertEquals(Health.up(), r.health());
    }
}
