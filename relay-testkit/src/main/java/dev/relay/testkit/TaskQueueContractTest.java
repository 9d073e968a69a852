package dev.relay.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.DeadLetter;
import dev.relay.api.DeadLetters;
import dev.relay.api.Lease;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.api.Window;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link TaskQueue} backend passes. A backend's test subclasses it and says how to make a
 * queue, how time passes for it and how a consumer crashes. Dead letters are read, replayed and purged through
 * {@link TaskQueue#deadLetters()}, which every backend under this contract provides.
 *
 * <p>Backends that deliver asynchronously (Kafka) are polled until a {@linkplain #patience() deadline}; a
 * synchronous backend answers at once. Not threadsafe: JUnit runs one test at a time on an instance.
 */
public abstract class TaskQueueContractTest {

    /** The lanes every test queue serves. */
    protected static final Set<String> LANES = Set.of("alpha", "beta");

    /** The queue under test, made before each test. */
    protected TaskQueue queue;

    /**
     * Makes an empty queue serving {@link #LANES}, already {@linkplain TaskQueue#subscribe subscribed}.
     *
     * @return the queue
     * @throws Exception if it cannot be made
     */
    protected abstract TaskQueue createQueue() throws Exception;

    /**
     * Lets {@code d} pass for the queue: advance a virtual clock, or sleep for a real-time backend.
     *
     * @param d the duration
     * @throws InterruptedException if interrupted
     */
    protected abstract void advance(Duration d) throws InterruptedException;

    /**
     * The holder of the queue's open leases crashes without ending them; returns the queue a restarted
     * consumer uses (possibly the same object) over the same durable state.
     *
     * @param crashed the queue whose holder crashed
     * @return the queue to use from now on
     * @throws Exception if the restart fails
     */
    protected abstract TaskQueue crashAndRestart(TaskQueue crashed) throws Exception;

    /**
     * @return the clock the backend stamps dead letters with (the system clock unless the backend's test injects
     *     another)
     */
    protected Clock clock() {
        return Clock.systemUTC();
    }

    /**
     * @param q a queue
     * @return its dead letters; the contract requires them
     */
    protected static DeadLetters dead(TaskQueue q) {
        return q.deadLetters().orElseThrow(() -> new AssertionError(q + " has no dead letters (TaskQueue.deadLetters())"));
    }

    /**
     * Lists a lane's dead letters until there are {@code n} or the patience ran out (a backend may write them
     * asynchronously).
     *
     * @param q the queue
     * @param lane the lane
     * @param n how many to wait for
     * @return the last listing
     * @throws InterruptedException if interrupted
     */
    protected List<DeadLetter> awaitDeadLetters(TaskQueue q, String lane, int n) throws InterruptedException {
        long deadline = System.nanoTime() + patience().toNanos();
        List<DeadLetter> got = dead(q).list(lane);
        while (got.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
            got = dead(q).list(lane);
        }
        return got;
    }

    /**
     * Offers tasks, polls each once and dead-letters it with the reason {@code "poison " + its number}.
     *
     * @param lane the lane
     * @param numbers the tasks' numbers ({@link #task(String, int)})
     * @return the tasks
     * @throws InterruptedException if interrupted
     */
    protected List<Task> deadLetterTasks(String lane, int... numbers) throws InterruptedException {
        List<Task> tasks = new ArrayList<>();
        for (int i : numbers) {
            Task t = task(lane, i);
            tasks.add(t);
            queue.offer(t);
        }
        List<Lease> got = pollAtLeast(queue, lane, tasks.size());
        assertEquals(tasks.size(), got.size(), "setup: every task handed out once");
        for (Lease l : got) {
            for (int k = 0; k < tasks.size(); k++) {
                if (tasks.get(k).id().equals(l.task().id())) {
                    l.deadLetter("poison " + numbers[k]);
                }
            }
        }
        return tasks;
    }

    private static DeadLetter entryOf(List<DeadLetter> list, Task t) {
        return list.stream().filter(d -> d.taskId().equals(t.id())).findFirst()
                .orElseThrow(() -> new AssertionError("no dead letter of task " + t.id() + " in " + list));
    }

    /** @return how long to keep polling for an asynchronous backend */
    protected Duration patience() {
        return Duration.ofSeconds(2);
    }

    /**
     * @return how long to watch a queue to show that nothing arrives (a synchronous backend can answer at once;
     *     an asynchronous one needs time to deliver what it would)
     */
    protected Duration quietPeriod() {
        return Duration.ofMillis(1500);
    }

    /** @return a retry delay long enough for the backend to show that it holds the task back */
    protected Duration retryDelay() {
        return Duration.ofSeconds(2);
    }

    @BeforeEach
    void makeQueue() throws Exception {
        queue = createQueue();
    }

    @AfterEach
    void closeQueue() {
        if (queue != null) {
            queue.close();
        }
    }

    /**
     * @param lane a lane
     * @param i a distinguishing number
     * @return a window task
     */
    protected static Task task(String lane, int i) {
        LocalDateTime start = LocalDateTime.of(2024, 3, 14, 0, 0).plusMinutes(10L * i);
        return Task.builder(lane, "vds30sec").scope(Window.starting(start, Duration.ofMinutes(10)))
                .parameter("district", "7").build();
    }

    /**
     * Polls until {@code n} leases were collected or the patience ran out.
     *
     * @param q the queue
     * @param lane the lane
     * @param n how many to collect
     * @return the leases collected
     * @throws InterruptedException if interrupted
     */
    protected List<Lease> pollAtLeast(TaskQueue q, String lane, int n) throws InterruptedException {
        List<Lease> got = new ArrayList<>();
        long deadline = System.nanoTime() + patience().toNanos();
        while (got.size() < n) {
            got.addAll(q.poll(lane, n - got.size()));
            if (got.size() >= n || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(10);
        }
        return got;
    }

    /**
     * Polls for the whole patience and returns what arrived (to show that nothing does).
     *
     * @param q the queue
     * @param lane the lane
     * @return the leases collected
     * @throws InterruptedException if interrupted
     */
    protected List<Lease> pollForAWhile(TaskQueue q, String lane) throws InterruptedException {
        List<Lease> got = new ArrayList<>();
        long deadline = System.nanoTime() + quietPeriod().toNanos();
        do {
            got.addAll(q.poll(lane, 100));
            Thread.sleep(10);
        } while (System.nanoTime() < deadline);
        return got;
    }

    @Test
    void offer_thenPoll_handsOutTheSameTask() throws Exception {
        Task t = task("alpha", 1);
        queue.offer(t);
        List<Lease> got = pollAtLeast(queue, "alpha", 1);
        assertEquals(1, got.size(), "one lease");
        Task back = got.get(0).task();
        assertEquals(t.id(), back.id());
        assertEquals("alpha", back.lane());
        assertEquals(t.scope(), back.scope());
        assertEquals(t.parameters(), back.parameters());
        assertEquals(1, back.attempt());
        got.get(0).complete();
    }

    @Test
    void offer_snapshotTask_roundTrips() throws Exception {
        Task t = Task.builder("beta", "PEMS.DETECTOR_CONFIG").scope(Snapshot.of(LocalDate.of(2024, 6, 1))).build();
        queue.offer(t);
        List<Lease> got = pollAtLeast(queue, "beta", 1);
        assertEquals(1, got.size());
        assertEquals(t.id(), got.get(0).task().id());
        assertEquals(t.scope(), got.get(0).task().scope());
        got.get(0).complete();
    }

    @Test
    void poll_otherLane_seesNothing() throws Exception {
        queue.offer(task("alpha", 1));
        assertTrue(pollForAWhile(queue, "beta").isEmpty(), "beta must not see alpha's task");
        assertEquals(1, pollAtLeast(queue, "alpha", 1).size());
    }

    @Test
    void poll_respectsMax() throws Exception {
        for (int i = 0; i < 10; i++) {
            queue.offer(task("alpha", i));
        }
        List<Lease> all = new ArrayList<>();
        long deadline = System.nanoTime() + patience().toNanos();
        while (all.size() < 10 && System.nanoTime() < deadline) {
            List<Lease> batch = queue.poll("alpha", 3);
            assertTrue(batch.size() <= 3, "poll(max=3) returned " + batch.size());
            all.addAll(batch);
            Thread.sleep(5);
        }
        assertEquals(10, all.size());
        all.forEach(Lease::complete);
    }

    @Test
    void complete_taskIsNeverHandedOutAgain() throws Exception {
        queue.offer(task("alpha", 1));
        pollAtLeast(queue, "alpha", 1).forEach(Lease::complete);
        queue = crashAndRestart(queue);
        assertTrue(pollForAWhile(queue, "alpha").isEmpty(), "a completed task came back");
    }

    @Test
    void endTwice_throwsIllegalState() throws Exception {
        queue.offer(task("alpha", 1));
        Lease l = pollAtLeast(queue, "alpha", 1).get(0);
        l.complete();
        assertThrows(IllegalStateException.class, l::complete);
        assertThrows(IllegalStateException.class, () -> l.retry(Duration.ZERO, "again"));
        assertThrows(IllegalStateException.class, () -> l.deadLetter("again"));
    }

    @Test
    void retry_handsOutAgainAfterTheDelay_withAttemptCounted() throws Exception {
        Task t = task("alpha", 1);
        queue.offer(t);
        pollAtLeast(queue, "alpha", 1).get(0).retry(retryDelay(), "sink down");
        assertTrue(queue.poll("alpha", 10).isEmpty(), "a retry must wait for its delay");
        advance(retryDelay().plusMillis(100));
        List<Lease> again = pollAtLeast(queue, "alpha", 1);
        assertEquals(1, again.size(), "the retried task must come back after its delay");
        assertEquals(t.id(), again.get(0).task().id());
        assertEquals(2, again.get(0).task().attempt());
        again.get(0).complete();
    }

    @Test
    void retry_doesNotBlockTheTasksBehindIt() throws Exception {
        queue.offer(task("alpha", 1));
        queue.offer(task("alpha", 2));
        Lease first = pollAtLeast(queue, "alpha", 1).get(0);
        first.retry(Duration.ofHours(1), "poison");
        List<Lease> next = pollAtLeast(queue, "alpha", 1);
        assertEquals(1, next.size(), "the second task must not wait behind the first one's retry");
        assertFalse(next.get(0).task().id().equals(first.task().id()));
        next.get(0).complete();
    }

    @Test
    void deadLetter_recordsTheReason_andNeverHandsOutAgain() throws Exception {
        Task t = task("alpha", 1);
        queue.offer(t);
        pollAtLeast(queue, "alpha", 1).get(0).deadLetter("poison: always fails");
        assertTrue(pollForAWhile(queue, "alpha").isEmpty());
        Map<String, String> dead = new LinkedHashMap<>();
        awaitDeadLetters(queue, "alpha", 1).forEach(d -> dead.put(d.taskId(), d.reason()));
        assertEquals(Set.of(t.id()), dead.keySet());
        assertTrue(dead.get(t.id()).contains("poison"), dead.toString());
        assertTrue(dead(queue).list("beta").isEmpty());
    }

    @Test
    void deadLetters_listShowTaskLaneAttemptsReasonTime_andReplayHandsTheTaskOutFreshWithTheSameId() throws Exception {
        Task t = task("alpha", 1);
        queue.offer(t);
        pollAtLeast(queue, "alpha", 1).get(0).retry(Duration.ZERO, "sink down");
        Lease second = pollAtLeast(queue, "alpha", 1).get(0);
        assertEquals(2, second.task().attempt());
        Instant before = clock().instant().truncatedTo(ChronoUnit.MILLIS);
        second.deadLetter("poison: always fails");
        List<DeadLetter> dead = awaitDeadLetters(queue, "alpha", 1);
        Instant after = clock().instant();
        assertEquals(1, dead.size(), dead.toString());
        DeadLetter d = dead.get(0);
        assertEquals("alpha", d.lane());
        assertNotNull(d.task(), d.toString());
        assertEquals(t.id(), d.task().id());
        assertEquals(t.scope(), d.task().scope());
        assertEquals(t.parameters(), d.task().parameters());
        assertEquals(2, d.attempts(), "dead after its second attempt");
        assertTrue(d.reason().contains("poison: always fails"), d.reason());
        assertFalse(d.at().isBefore(before) || d.at().isAfter(after), d.at() + " not within [" + before + ", " + after + "]");
        assertEquals(List.of(), dead(queue).list("beta"));

        assertEquals(List.of(d), dead(queue).replay("alpha", List.of(d.id())));
        List<Lease> again = pollAtLeast(queue, "alpha", 1);
        assertEquals(1, again.size(), "the replayed task must be handed out again");
        assertEquals(t.id(), again.get(0).task().id(), "same task id");
        assertEquals(1, again.get(0).task().attempt(), "fresh attempts");
        assertEquals("alpha", again.get(0).task().lane());
        again.get(0).complete();
        assertEquals(List.of(), dead(queue).list("alpha"), "a replayed entry is no dead letter any more");
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> dead(queue).replay("alpha", List.of(d.id())));
        assertTrue(twice.getMessage().contains(d.id()), twice.getMessage());
    }

    @Test
    void replay_intoAnotherLane_keepsTheId_andUnknownIdsFailNamingThemReplayingNothing() throws Exception {
        List<Task> tasks = deadLetterTasks("alpha", 1, 2);
        List<DeadLetter> dead = awaitDeadLetters(queue, "alpha", 2);
        assertEquals(2, dead.size(), dead.toString());
        DeadLetter first = entryOf(dead, tasks.get(0));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> dead(queue).replay("alpha", List.of(first.id(), "no-such-entry"), "beta"));
        assertTrue(e.getMessage().contains("no-such-entry"), e.getMessage());
        assertFalse(e.getMessage().contains(first.id() + ","), "only the unknown id is named: " + e.getMessage());
        assertTrue(pollForAWhile(queue, "beta").isEmpty(), "a failed replay replays nothing");
        assertEquals(2, dead(queue).list("alpha").size());

        assertEquals(List.of(first), dead(queue).replay("alpha", List.of(first.id()), "beta"));
        List<Lease> moved = pollAtLeast(queue, "beta", 1);
        assertEquals(1, moved.size(), "the task replayed into beta");
        assertEquals(tasks.get(0).id(), moved.get(0).task().id());
        assertEquals("beta", moved.get(0).task().lane());
        assertEquals(1, moved.get(0).task().attempt());
        moved.get(0).complete();
        List<DeadLetter> left = dead(queue).list("alpha");
        assertEquals(List.of(tasks.get(1).id()), left.stream().map(DeadLetter::taskId).toList());
    }

    @Test
    void purge_removesTheChosenOnly_andPurgeAllEmptiesOneLaneLeavingTheOthers() throws Exception {
        List<Task> alpha = deadLetterTasks("alpha", 1, 2, 3);
        List<Task> beta = deadLetterTasks("beta", 4);
        List<DeadLetter> dead = awaitDeadLetters(queue, "alpha", 3);
        assertEquals(3, dead.size(), dead.toString());
        assertEquals(1, awaitDeadLetters(queue, "beta", 1).size());
        DeadLetter second = entryOf(dead, alpha.get(1));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> dead(queue).purge("alpha", List.of("no-such-entry", second.id())));
        assertTrue(e.getMessage().contains("no-such-entry"), e.getMessage());
        assertEquals(3, dead(queue).list("alpha").size(), "a failed purge purges nothing");

        assertEquals(List.of(second), dead(queue).purge("alpha", List.of(second.id())));
        assertEquals(Set.of(alpha.get(0).id(), alpha.get(2).id()),
                new HashSet<>(dead(queue).list("alpha").stream().map(DeadLetter::taskId).toList()));
        assertThrows(IllegalArgumentException.class, () -> dead(queue).purge("alpha", List.of(second.id())),
                "a purged entry is gone");

        assertEquals(2, dead(queue).purgeAll("alpha"));
        assertEquals(List.of(), dead(queue).list("alpha"));
        assertEquals(List.of(beta.get(0).id()), dead(queue).list("beta").stream().map(DeadLetter::taskId).toList(),
                "other lanes' dead letters are kept");
    }

    @Test
    void release_handsOutAgainWithoutCountingAnAttempt() throws Exception {
        Task t = task("alpha", 1);
        queue.offer(t);
        pollAtLeast(queue, "alpha", 1).get(0).release();
        List<Lease> again = pollAtLeast(queue, "alpha", 1);
        assertEquals(1, again.size());
        assertEquals(t.id(), again.get(0).task().id());
        assertEquals(1, again.get(0).task().attempt());
        again.get(0).complete();
    }

    @Test
    void crash_leasedTasksComeBack_completedOnesDoNot() throws Exception {
        for (int i = 0; i < 6; i++) {
            queue.offer(task("alpha", i));
        }
        List<Lease> leases = pollAtLeast(queue, "alpha", 6);
        assertEquals(6, leases.size());
        Set<String> open = new HashSet<>();
        for (int i = 0; i < leases.size(); i++) {
            if (i % 2 == 0) {
                leases.get(i).complete();
            } else {
                open.add(leases.get(i).task().id());
            }
        }
        queue = crashAndRestart(queue);
        List<Lease> back = pollAtLeast(queue, "alpha", open.size());
        Set<String> backIds = new HashSet<>();
        for (Lease l : back) {
            backIds.add(l.task().id());
            assertTrue(l.task().attempt() >= 1);
        }
        assertTrue(backIds.containsAll(open), "lost leases must come back: missing " + diff(open, backIds));
        back.forEach(Lease::complete);
    }

    @Test
    void manyTasks_eachDeliveredAndCompletedOnce() throws Exception {
        int n = 200;
        for (int i = 0; i < n; i++) {
            queue.offer(task(i % 2 == 0 ? "alpha" : "beta", i));
        }
        Map<String, Integer> seen = new HashMap<>();
        long deadline = System.nanoTime() + patience().toNanos() * 3;
        while (seen.size() < n && System.nanoTime() < deadline) {
            for (String lane : LANES) {
                for (Lease l : queue.poll(lane, 50)) {
                    seen.merge(l.task().id(), 1, Integer::sum);
                    l.complete();
                }
            }
            Thread.sleep(5);
        }
        assertEquals(n, seen.size());
        seen.forEach((id, c) -> assertEquals(1, c, "task " + id + " delivered " + c + " times"));
    }

    @Test
    void concurrentOffers_allArrive() throws Exception {
        int threads = 4;
        int per = 50;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger failures = new AtomicInteger();
        try {
            for (int t = 0; t < threads; t++) {
                int base = t * per;
                pool.execute(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < per; i++) {
                            queue.offer(task("alpha", base + i));
                        }
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                });
            }
            start.countDown();
            pool.shutdown();
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, failures.get());
        List<Lease> got = pollAtLeast(queue, "alpha", threads * per);
        assertEquals(threads * per, got.size());
        got.forEach(Lease::complete);
    }

    @Test
    void listener_isToldAfterAnOffer() throws Exception {
        CountDownLatch told = new CountDownLatch(1);
        queue.setAvailabilityListener(told::countDown);
        queue.offer(task("alpha", 1));
        assertTrue(told.await(patience().toMillis() * 2, TimeUnit.MILLISECONDS), "the listener was not called");
        pollAtLeast(queue, "alpha", 1).forEach(Lease::complete);
    }

    @Test
    void backlog_countsWaitingTasks() throws Exception {
        for (int i = 0; i < 5; i++) {
            queue.offer(task("beta", i));
        }
        long deadline = System.nanoTime() + patience().toNanos();
        long b = queue.backlog("beta");
        while (b != -1 && b < 5 && System.nanoTime() < deadline) {
            Thread.sleep(10);
            b = queue.backlog("beta");
        }
        assertTrue(b == -1 || b == 5, "backlog of beta was " + b);
        pollAtLeast(queue, "beta", 5).forEach(Lease::complete);
        deadline = System.nanoTime() + patience().toNanos();
        b = queue.backlog("beta");
        while (b > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
            b = queue.backlog("beta");
        }
        assertTrue(b == -1 || b == 0, "backlog after completing all was " + b);
    }

    private static Set<String> diff(Set<String> a, Set<String> b) {
        Set<String> d = new HashSet<>(a);
        d.removeAll(b);
        return d;
    }
}
