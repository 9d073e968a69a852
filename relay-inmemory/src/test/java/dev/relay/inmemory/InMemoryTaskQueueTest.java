package dev.relay.inmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.QueueException;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the in-memory backend adds to the contract (the contract itself runs in relay-testkit). */
class InMemoryTaskQueueTest {

    final MutableClock clock = new MutableClock();
    final InMemoryTaskQueue queue = InMemoryTaskQueue.builder().clock(clock).leaseTimeout(Duration.ofMinutes(1)).build();

    static Task task(String lane, int i) {
        return Task.window(lane, "s", Window.starting(LocalDateTime.of(2024, 1, 1, 0, 0).plusMinutes(i), Duration.ofMinutes(1)));
    }

    @Test
    void expiredLease_comesBackWithItsAttemptCounted_andTheOldLeaseIsLost() {
        queue.offer(task("a", 1));
        Lease first = queue.poll("a", 1).get(0);
        clock.advance(Duration.ofMinutes(2));
        List<Lease> again = queue.poll("a", 1);
        assertEquals(1, again.size());
        assertEquals(2, again.get(0).task().attempt());
        LeaseLostException e = assertThrows(LeaseLostException.class, first::complete);
        assertTrue(e.getMessage().contains(first.task().id()));
        again.get(0).complete();
        assertEquals(1, queue.completed("a"));
    }

    @Test
    void offer_ofATaskAlreadyPending_isDropped() {
        queue.offer(task("a", 1));
        queue.offer(task("a", 1).withAttempt(3));
        assertEquals(1, queue.backlog("a"));
        Lease l = queue.poll("a", 10).get(0);
        queue.offer(task("a", 1)); // still leased: a duplicate
        assertEquals(0, queue.backlog("a"));
        l.complete();
        queue.offer(task("a", 1)); // completed: a new request to run it again
        assertEquals(1, queue.backlog("a"));
    }

    @Test
    void boundedQueue_rejectsBeyondItsCapacity_namingTheLane() {
        InMemoryTaskQueue small = InMemoryTaskQueue.builder().capacityPerLane(2).build();
        small.offer(task("a", 1));
        small.offer(task("a", 2));
        QueueException e = assertThrows(QueueException.class, () -> small.offer(task("a", 3)));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("2"), e.getMessage());
        small.offer(task("b", 3)); // other lanes have their own capacity
        small.poll("a", 1).get(0).complete();
        small.offer(task("a", 3));
    }

    @Test
    void nextDueAt_reportsTheEarliestRetryOrLeaseDeadline() {
        queue.offer(task("a", 1));
        queue.offer(task("a", 2));
        List<Lease> l = queue.poll("a", 2);
        l.get(0).retry(Duration.ofSeconds(10), "later");
        assertEquals(clock.instant().plusSeconds(10), queue.nextDueAt("a"));
        l.get(1).complete();
        assertEquals(clock.instant().plusSeconds(10), queue.nextDueAt("a"));
    }

    @Test
    void close_losesOpenLeases_andRefusesOffers() {
        queue.offer(task("a", 1));
        Lease l = queue.poll("a", 1).get(0);
        queue.close();
        assertThrows(LeaseLostException.class, l::complete);
        assertThrows(QueueException.class, () -> queue.offer(task("a", 2)));
        assertTrue(queue.poll("a", 1).isEmpty());
    }

    @Test
    void builder_rejectsBadValues() {
        assertThrows(IllegalArgumentException.class, () -> InMemoryTaskQueue.builder().leaseTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> InMemoryTaskQueue.builder().capacityPerLane(0));
        assertThrows(IllegalArgumentException.class, () -> queue.poll("a", 0));
        assertThrows(NullPointerException.class, () -> queue.offer(null));
    }

    @Test
    void retry_withNegativeDelay_fails() {
        queue.offer(task("a", 1));
        Lease l = queue.poll("a", 1).get(0);
        assertThrows(IllegalArgumentException.class, () -> l.retry(Duration.ofSeconds(-1), "x"));
        l.complete();
    }

    /** A clock that moves only when told; threadsafe. */
    static final class MutableClock extends Clock {
        private volatile Instant now = Instant.parse("2024-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }

        synchronized void advance(Duration d) {
            now = now.plus(d);
        }
    }
}
