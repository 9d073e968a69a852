package dev.relay.inmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.DeadLetter;
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
    void replay_intoALaneTheQueueDoesNotKnow_failsNamingIt_andKeepsTheDeadLetter() {
        InMemoryTaskQueue fixed = InMemoryTaskQueue.builder().clock(clock).lanes("a").build();
        fixed.offer(task("a", 1));
        fixed.poll("a", 1).get(0).deadLetter("poison");
        DeadLetter d = fixed.deadLetters("a").get(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fixed.deadLetters().orElseThrow().replay("a", List.of(d.id()), "elsewhere"));
        assertTrue(e.getMessage().contains("'elsewhere'"), e.getMessage());
        assertEquals(List.of(d), fixed.deadLetters("a"));
        assertEquals(0, fixed.backlog("a"));
    }

    @Test
    void replay_laneFullHalfWay_replaysTheFirstAndNamesWhatIsStillDead() {
        InMemoryTaskQueue small = InMemoryTaskQueue.builder().clock(clock).capacityPerLane(2).build();
        for (int i = 0; i < 2; i++) {
            small.offer(task("a", i));
        }
        small.poll("a", 2).forEach(l -> l.deadLetter("poison"));
        small.offer(task("a", 10)); // one place left in the lane
        List<String> ids = small.deadLetters("a").stream().map(DeadLetter::id).toList();
        QueueException e = assertThrows(QueueException.class, () -> small.deadLetters().orElseThrow().replay("a", ids));
        assertTrue(e.getMessage().contains("still dead letters: " + ids.subList(1, 2)), e.getMessage());
        assertEquals(ids.subList(1, 2), small.deadLetters("a").stream().map(DeadLetter::id).toList());
        assertEquals(2, small.backlog("a"));
        assertEquals(1, small.poll("a", 10).stream().filter(l -> l.task().id().equals(task("a", 0).id())).count(),
                "the first dead letter was replayed");
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

    @Test
    void offer_toALaneTheQueueWasNotBuiltWith_failsNamingTheLaneAndItsLanes() {
        InMemoryTaskQueue known = InMemoryTaskQueue.builder().lanes("realtime", "config").build();
        known.offer(task("realtime", 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> known.offer(task("realtme", 1)));
        assertTrue(e.getMessage().contains("'realtme'") && e.getMessage().contains("[config, realtime]"), e.getMessage());
        assertEquals(0, known.backlog("realtme"), "nothing was accepted");
    }

    @Test
    void subscribe_makesALaneKnown_inAQueueBuiltWithItsLanes() {
        InMemoryTaskQueue known = InMemoryTaskQueue.builder().lanes(List.of("a")).build();
        assertThrows(IllegalArgumentException.class, () -> known.offer(task("b", 1)));
        known.subscribe(java.util.Set.of("a", "b"));
        known.offer(task("b", 1));
        assertEquals(1, known.backlog("b"));
    }

    @Test
    void builderLanes_rejectsAnInvalidName_orNone() {
        assertThrows(IllegalArgumentException.class, () -> InMemoryTaskQueue.builder().lanes("Not A Lane"));
        assertThrows(IllegalArgumentException.class, () -> InMemoryTaskQueue.builder().lanes(List.of()));
    }

    @Test
    void lanesWithTasks_namesTheLanesHoldingReadyDelayedOrLeasedTasks() {
        queue.subscribe(java.util.Set.of("empty"));
        queue.offer(task("ready", 1));
        queue.offer(task("leased", 1));
        queue.offer(task("delayed", 1));
        queue.offer(task("done", 1));
        queue.poll("leased", 1);
        queue.poll("delayed", 1).get(0).retry(Duration.ofMinutes(5), "later");
        queue.poll("done", 1).get(0).complete();
        assertEquals(java.util.Set.of("ready", "leased", "delayed"), queue.lanesWithTasks().orElseThrow());
    }

    @Test
    void release_putsTheTaskBackAtTheFront_withItsReadyTime_andNoAttemptCounted() {
        queue.offer(task("a", 1));
        clock.advance(Duration.ofSeconds(1));
        queue.offer(task("a", 2));
        Lease first = queue.poll("a", 1).get(0);
        java.time.Instant ready = first.readySince();
        first.release();
        assertThrows(IllegalStateException.class, first::release, "a lease ends once");
        Lease again = queue.poll("a", 1).get(0);
        assertEquals(first.task(), again.task());
        assertEquals(1, again.task().attempt());
        assertEquals(ready, again.readySince());
    }

    @Test
    void concurrentOffersPollsAndCompletions_onSeveralLanes_loseAndDoubleNothing() throws Exception {
        InMemoryTaskQueue q = InMemoryTaskQueue.create();
        int lanes = 4;
        int perLane = 5_000;
        java.util.concurrent.ConcurrentHashMap<String, Boolean> done = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicInteger doubled = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> threads = new java.util.ArrayList<>();
        for (int l = 0; l < lanes; l++) {
            String lane = "l" + l;
            threads.add(new Thread(() -> {
                for (int i = 0; i < perLane; i++) {
                    q.offer(task(lane, i));
                }
            }));
            threads.add(new Thread(() -> {
                int got = 0;
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
                while (got < perLane && System.nanoTime() < deadline) {
                    for (Lease lease : q.poll(lane, 7)) {
                        lease.complete();
                        if (done.put(lane + "/" + lease.task().id(), true) != null) {
                            doubled.incrementAndGet();
                        }
                        got++;
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join(120_000);
        }
        assertEquals(lanes * perLane, done.size());
        assertEquals(0, doubled.get());
        for (int l = 0; l < lanes; l++) {
            assertEquals(perLane, q.completed("l" + l));
            assertEquals(0, q.leased("l" + l));
        }
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
