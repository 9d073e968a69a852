package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Column;
import dev.relay.api.CompletionLedger;
import dev.relay.api.DeadLetter;
import dev.relay.api.InvalidTaskException;
import dev.relay.api.LaneSpec;
import dev.relay.api.PullException;
import dev.relay.api.Puller;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.inmemory.InMemoryTaskQueue;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The engine on real threads with the in-memory queue. Waits are bounded by generous timeouts, never asserted. */
class RelayTest {

    static final RowSchema SCHEMA = RowSchema.of(new Column("ID", JDBCType.VARCHAR), new Column("N", JDBCType.BIGINT));
    static final RetryPolicy FAST_RETRY = RetryPolicy.builder().maxAttempts(3).initialDelay(Duration.ofMillis(5))
            .maxDelay(Duration.ofMillis(20)).build();

    final InMemoryTaskQueue queue = InMemoryTaskQueue.create();
    final MemorySink sink = new MemorySink();
    final List<Relay> relays = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Relay r : relays) {
            r.shutdown(Duration.ofSeconds(5));
        }
    }

    static Task task(String lane, int i) {
        return Task.builder(lane, "vds30sec")
                .scope(Window.starting(LocalDateTime.of(2024, 3, 14, 0, 0).plusMinutes(10L * i), Duration.ofMinutes(10)))
                .parameter("district", "7").build();
    }

    /** Yields {@code rows} rows per task; tasks whose source is "poison" fail retryably, "invalid" fail for good. */
    static Puller puller(int rows) {
        return task -> {
            if (task.source().equals("poison")) {
                throw new PullException("poison task " + task.id() + " always fails", null);
            }
            if (task.source().equals("invalid")) {
                throw new InvalidTaskException("unknown source 'invalid'");
            }
            return new ListCursor(task, rows);
        };
    }

    Relay.Builder relay() {
        return Relay.builder().queue(queue).puller(puller(3)).sink(sink).idlePollInterval(Duration.ofMillis(5));
    }

    Relay started(Relay.Builder b) {
        Relay r = b.build().start();
        relays.add(r);
        return r;
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(2);
        }
    }

    // ---------------------------------------------------------------- builder validation

    @Test
    void build_withoutQueue_failsNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Relay.builder().puller(puller(1)).sink(sink).lane(LaneSpec.of("a")).build());
        assertTrue(e.getMessage().contains("queue"), e.getMessage());
    }

    @Test
    void build_withoutPuller_failsNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Relay.builder().queue(queue).sink(sink).lane(LaneSpec.of("a")).build());
        assertTrue(e.getMessage().contains("puller"), e.getMessage());
    }

    @Test
    void build_withoutLanes_fails() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> relay().build());
        assertTrue(e.getMessage().contains("lane"), e.getMessage());
    }

    @Test
    void build_withADuplicateLane_failsNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> relay().lane(LaneSpec.of("a")).lane(LaneSpec.of("a")).build());
        assertTrue(e.getMessage().contains("[a]"), e.getMessage());
    }

    @Test
    void build_laneWithoutSink_failsNamingTheLane() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Relay.builder().queue(queue).puller(puller(1)).lane(LaneSpec.of("a"), sink).lane(LaneSpec.of("b")).build());
        assertTrue(e.getMessage().contains("[b]"), e.getMessage());
    }

    @Test
    void build_dedicatingMoreThanThePermits_fails() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> relay().sourcePermits(2).lane(LaneSpec.builder("a").dedicatedPermits(2).maxInFlight(2).build())
                        .lane(LaneSpec.builder("b").dedicatedPermits(1).build()).build());
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("2"), e.getMessage());
    }

    @Test
    void build_allPermitsDedicated_withALaneLeftWithout_failsNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> relay().sourcePermits(1).lane(LaneSpec.builder("a").dedicatedPermits(1).build())
                        .lane(LaneSpec.of("b")).build());
        assertTrue(e.getMessage().contains("[b]"), e.getMessage());
    }

    @Test
    void builderSetters_rejectBadValues_namingThem() {
        Relay.Builder b = Relay.builder();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.sourcePermits(0)).getMessage().contains("0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.quantum(Duration.ZERO)).getMessage().contains("PT0S"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.quantumRows(0)).getMessage().contains("0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.idlePollInterval(Duration.ZERO)).getMessage().contains("PT0S"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.shutdownTimeout(Duration.ofSeconds(-1))).getMessage().contains("-1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.suspendAfterFailures(-2)).getMessage().contains("-2"));
        assertThrows(NullPointerException.class, () -> b.queue(null));
    }

    @Test
    void start_twice_fails() {
        Relay r = started(relay().lane(LaneSpec.of("a")));
        assertThrows(IllegalStateException.class, r::start);
    }

    // ---------------------------------------------------------------- relaying

    @Test
    void offeredTasks_areRelayedToTheSink_andCompleted() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Relay r = started(relay().sourcePermits(2).lane(LaneSpec.of("a")).lane(LaneSpec.builder("b").weight(3).build())
                .meterRegistry(registry));
        for (int i = 0; i < 40; i++) {
            queue.offer(task(i % 2 == 0 ? "a" : "b", i));
        }
        await(() -> r.snapshot().completed() == 40, "40 completions");
        assertEquals(40, sink.committed.size());
        sink.committed.values().forEach(rows -> assertEquals(3, rows));
        RelaySnapshot s = r.snapshot();
        assertEquals(20, s.lane("a").orElseThrow().completed());
        assertEquals(120, s.lane("a").orElseThrow().rows() + s.lane("b").orElseThrow().rows());
        assertTrue(s.maxPermitsInUse() <= 2);
        assertEquals(20.0, registry.get("relay.lane.completed").tag("lane", "b").functionCounter().count());
        assertEquals(20, registry.get("relay.lane.wait").tag("lane", "a").timer().count());
        assertEquals(2.0, registry.get("relay.permits").gauge().value());
        assertEquals(0, queue.backlog("a") + queue.backlog("b"));
    }

    @Test
    void ledger_isWrittenAfterTheSinkCommitted_andBeforeTheLeaseCompletes() throws Exception {
        Map<String, Boolean> committedWhenRecorded = new ConcurrentHashMap<>();
        CompletionLedger ledger = (t, rows) -> committedWhenRecorded.put(t.id(), sink.committed.containsKey(t.id()));
        Relay r = started(relay().lane(LaneSpec.of("a")).ledger(ledger));
        for (int i = 0; i < 5; i++) {
            queue.offer(task("a", i));
        }
        await(() -> r.snapshot().completed() == 5, "5 completions");
        assertEquals(5, committedWhenRecorded.size());
        committedWhenRecorded.values().forEach(Assertions_True::check);
    }

    private static final class Assertions_True {
        static void check(Boolean b) {
            assertTrue(b, "recorded before the sink committed");
        }
    }

    @Test
    void poisonTask_isDeadLetteredAfterItsAttempts_andTheLaneFlowsOn() throws Exception {
        Relay r = started(relay().lane(LaneSpec.builder("a").retryPolicy(FAST_RETRY).build()).suspendAfterFailures(0));
        Task poison = Task.builder("a", "poison").scope(task("a", 0).scope()).build();
        queue.offer(poison);
        for (int i = 1; i <= 10; i++) {
            queue.offer(task("a", i));
        }
        await(() -> r.snapshot().lane("a").orElseThrow().deadLettered() == 1 && r.snapshot().completed() == 10, "poison dead");
        List<DeadLetter> dead = queue.deadLetters("a");
        assertEquals(1, dead.size());
        assertEquals(poison.id(), dead.get(0).task().id());
        assertEquals(3, dead.get(0).task().attempt());
        assertTrue(dead.get(0).reason().contains("always fails"), dead.get(0).reason());
        assertEquals(2, r.snapshot().lane("a").orElseThrow().retried());
    }

    @Test
    void invalidTask_isDeadLetteredAtOnce() throws Exception {
        Relay r = started(relay().lane(LaneSpec.builder("a").retryPolicy(FAST_RETRY).build()));
        queue.offer(Task.builder("a", "invalid").scope(task("a", 0).scope()).build());
        await(() -> r.snapshot().lane("a").orElseThrow().deadLettered() == 1, "dead letter");
        assertEquals(1, queue.deadLetters("a").get(0).task().attempt());
        assertTrue(queue.deadLetters("a").get(0).reason().contains("not retryable"));
    }

    @Test
    void taskBeyondItsAttempts_fromLostLeases_isDeadLetteredWithoutRunning() throws Exception {
        Relay r = started(relay().lane(LaneSpec.builder("a").retryPolicy(FAST_RETRY).build()));
        Task crashedThrice = task("a", 1).withAttempt(4);
        queue.offer(crashedThrice);
        await(() -> r.snapshot().lane("a").orElseThrow().deadLettered() == 1, "dead letter");
        assertFalse(sink.committed.containsKey(crashedThrice.id()));
        assertTrue(queue.deadLetters("a").get(0).reason().contains("attempt 4"));
    }

    @Test
    void failingLane_isSuspended_andTheOtherLaneFlows() throws Exception {
        Sink broken = (task, schema) -> {
            throw new dev.relay.api.SinkException("warehouse down for lane b", null);
        };
        Relay r = started(relay().lane(LaneSpec.of("a")).lane(LaneSpec.builder("b").retryPolicy(RetryPolicy.builder()
                .maxAttempts(100).initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofSeconds(1)).build()).build(), broken)
                .suspendAfterFailures(2));
        for (int i = 0; i < 5; i++) {
            queue.offer(task("b", i));
        }
        await(() -> r.snapshot().lane("b").orElseThrow().state() == LaneState.SUSPENDED, "b suspended");
        for (int i = 0; i < 30; i++) {
            queue.offer(task("a", i));
        }
        await(() -> r.snapshot().lane("a").orElseThrow().completed() == 30, "a flows");
        assertEquals(0, r.snapshot().lane("b").orElseThrow().completed());
        assertEquals(0, r.snapshot().lane("b").orElseThrow().deadLettered(), "b's tasks wait, none is lost");
    }

    @Test
    void sameTaskDeliveredTwice_runsOnce_andTheSecondDeliveryCompletesWithTheFirst() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch pulling = new CountDownLatch(1);
        Puller slow = task -> {
            pulling.countDown();
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new ListCursor(task, 2);
        };
        Relay r = started(relay().puller(slow).sourcePermits(2).lane(LaneSpec.of("realtime")).lane(LaneSpec.of("backfill")));
        Task t = task("realtime", 1);
        queue.offer(t);
        assertTrue(pulling.await(10, TimeUnit.SECONDS));
        queue.offer(t.withLane("backfill")); // the same window planned again, into another lane
        await(() -> queue.leased("backfill") == 1, "the second delivery leased");
        gate.countDown();
        await(() -> r.snapshot().lane("backfill").orElseThrow().duplicates() == 1, "the second delivery completed");
        assertEquals(1, sink.sessions.get(), "the task ran once");
        assertEquals(1, queue.completed("realtime"));
        assertEquals(1, queue.completed("backfill"));
    }

    // ---------------------------------------------------------------- admin

    @Test
    void pauseAndResume_holdAndReleaseALane() throws Exception {
        Relay r = started(relay().lane(LaneSpec.of("a")));
        r.pause("a").get(5, TimeUnit.SECONDS);
        for (int i = 0; i < 5; i++) {
            queue.offer(task("a", i));
        }
        Thread.sleep(50);
        assertEquals(0, r.snapshot().completed());
        assertEquals(LaneState.PAUSED, r.snapshot().lane("a").orElseThrow().state());
        r.resume("a").get(5, TimeUnit.SECONDS);
        await(() -> r.snapshot().completed() == 5, "resumed");
    }

    @Test
    void permitLimit_loweredAndRaised_boundsTheTasksInFlight() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        CountDownLatch gate = new CountDownLatch(1);
        Puller held = task -> {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            running.decrementAndGet();
            return new ListCursor(task, 1);
        };
        Relay r = started(relay().puller(held).sourcePermits(3).lane(LaneSpec.of("a")));
        r.permitLimit(1).get(5, TimeUnit.SECONDS);
        for (int i = 0; i < 6; i++) {
            queue.offer(task("a", i));
        }
        await(() -> running.get() == 1, "one task running");
        Thread.sleep(50);
        assertEquals(1, most.get(), "the limit holds");
        assertEquals(1, r.snapshot().permitLimit());
        r.permitLimit(3).get(5, TimeUnit.SECONDS);
        await(() -> running.get() == 3, "raising the limit starts work at once");
        gate.countDown();
        await(() -> r.snapshot().completed() == 6, "all six");
        assertEquals(3, most.get(), "never above P");
        assertThrows(IllegalArgumentException.class, () -> r.permitLimit(4));
    }

    @Test
    void addLane_atRunTime_relaysItsTasks_andDuplicatesFail() throws Exception {
        Relay r = started(relay().lane(LaneSpec.of("a")));
        r.addLane(LaneSpec.builder("late").weight(2).build()).get(5, TimeUnit.SECONDS);
        queue.offer(task("late", 1));
        await(() -> r.snapshot().lane("late").map(LaneSnapshot::completed).orElse(0L) == 1, "late lane");
        Exception e = assertThrows(Exception.class, () -> r.addLane(LaneSpec.of("a")).get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IllegalArgumentException && e.getCause().getMessage().contains("'a'"));
    }

    @Test
    void updateLane_changesTheWeight() throws Exception {
        Relay r = started(relay().lane(LaneSpec.of("a")));
        r.updateLane(LaneSpec.builder("a").weight(7).build()).get(5, TimeUnit.SECONDS);
        await(() -> r.snapshot().lane("a").orElseThrow().weight() == 7, "weight published");
        Exception e = assertThrows(Exception.class, () -> r.updateLane(LaneSpec.of("nope")).get(5, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("'nope'"));
    }

    @Test
    void drain_finishesWhatTheLaneHolds_andTakesNoMore() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Puller slow = task -> {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new ListCursor(task, 1);
        };
        Relay r = started(relay().puller(slow).lane(LaneSpec.builder("a").buffer(2).build()));
        for (int i = 0; i < 3; i++) {
            queue.offer(task("a", i));
        }
        await(() -> r.snapshot().lane("a").orElseThrow().inFlight() == 1, "one in flight");
        var drained = r.drain("a");
        queue.offer(task("a", 99));
        gate.countDown();
        drained.get(10, TimeUnit.SECONDS);
        assertEquals(LaneState.DRAINED, r.snapshot().lane("a").orElseThrow().state());
        long done = r.snapshot().completed();
        assertTrue(done >= 1 && done <= 3, "completed " + done);
        assertTrue(queue.backlog("a") >= 1, "the lane took nothing new after the drain began");
        r.resume("a").get(5, TimeUnit.SECONDS);
        await(() -> r.snapshot().completed() == 4, "all after resume");
    }

    @Test
    void removeLane_givesBufferedTasksBack() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Puller slow = task -> {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new ListCursor(task, 1);
        };
        Relay r = started(relay().puller(slow).lane(LaneSpec.of("a")).lane(LaneSpec.of("b")));
        for (int i = 0; i < 4; i++) {
            queue.offer(task("b", i));
        }
        await(() -> r.snapshot().lane("b").orElseThrow().inFlight() == 1, "b in flight");
        var removed = r.removeLane("b");
        gate.countDown();
        removed.get(10, TimeUnit.SECONDS);
        assertTrue(r.snapshot().lane("b").isEmpty());
        assertEquals(3, queue.backlog("b"), "the three buffered tasks are back in the queue");
        assertEquals(1, sink.committed.size());
    }

    // ---------------------------------------------------------------- shutdown

    @Test
    void shutdown_midWork_acksNothingUncommitted_andLosesNothing() throws Exception {
        CountDownLatch pulling = new CountDownLatch(2);
        Puller stuck = task -> new ListCursor(task, 2) {
            private final CountDownLatch never = new CountDownLatch(1);

            @Override
            public List<Row> next() {
                pulling.countDown();
                try {
                    never.await(); // a query that does not return until cancelled
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PullException("interrupted", e);
                }
                return List.of();
            }

            @Override
            public void cancel() {
                never.countDown();
            }
        };
        Relay r = relay().puller(stuck).sourcePermits(2).lane(LaneSpec.of("a")).build().start();
        for (int i = 0; i < 10; i++) {
            queue.offer(task("a", i));
        }
        assertTrue(pulling.await(10, TimeUnit.SECONDS));
        boolean clean = r.shutdown(Duration.ofMillis(100));
        assertFalse(clean, "two tasks had to be abandoned");
        assertTrue(sink.committed.isEmpty(), "nothing was committed");
        assertEquals(0, queue.completed("a"), "nothing was acknowledged");
        // a new relay gets every task back and finishes them
        Relay again = started(relay().lane(LaneSpec.of("a")));
        await(() -> again.snapshot().completed() == 10, "all ten after restart");
        assertEquals(10, sink.committed.size());
        assertEquals(10, queue.completed("a"));
    }

    @Test
    void shutdown_letsTasksInFlightFinish_withinTheTimeout() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Puller slowish = task -> {
            started.countDown();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new ListCursor(task, 1);
        };
        Relay r = relay().puller(slowish).lane(LaneSpec.of("a")).build().start();
        queue.offer(task("a", 1));
        assertTrue(started.await(10, TimeUnit.SECONDS));
        assertTrue(r.shutdown(Duration.ofSeconds(10)));
        assertEquals(1, sink.committed.size());
        assertEquals(1, queue.completed("a"));
    }

    // ---------------------------------------------------------------- test doubles

    static class ListCursor implements RowCursor {
        private final Task task;
        private final int rows;
        private boolean done;

        ListCursor(Task task, int rows) {
            this.task = task;
            this.rows = rows;
        }

        @Override
        public RowSchema schema() {
            return SCHEMA;
        }

        @Override
        public List<Row> next() {
            if (done) {
                return List.of();
            }
            done = true;
            List<Row> out = new ArrayList<>();
            for (int i = 0; i < rows; i++) {
                out.add(Row.of(SCHEMA, task.id(), (long) i));
            }
            return out;
        }

        @Override
        public void cancel() {
        }

        @Override
        public void close() {
        }
    }

    /** Replace-by-task: a repeated task leaves one copy. */
    static final class MemorySink implements Sink {
        final Map<String, Integer> committed = new ConcurrentHashMap<>();
        final AtomicInteger sessions = new AtomicInteger();

        @Override
        public SinkSession open(Task task, RowSchema schema) {
            sessions.incrementAndGet();
            return new SinkSession() {
                int rows;

                @Override
                public void write(List<Row> chunk) {
                    rows += chunk.size();
                }

                @Override
                public void commit() {
                    committed.put(task.id(), rows);
                }

                @Override
                public void abort() {
                }

                @Override
                public void close() {
                }
            };
        }
    }
}
