package dev.relay.core.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.relay.api.Column;
import dev.relay.api.LaneSpec;
import dev.relay.api.Puller;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.core.RelaySnapshot;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/**
 * A relay on real threads with a brake, for the end-to-end brake tests: an in-memory queue, the test's puller, a
 * recording sink, one lane, {@code P = 2}. Records every start and completion with the relay's clock.
 *
 * <p>The scenario every brake test runs: two pulls start and are held in flight on the source; the brake's check
 * turns to stop; the relay brakes; the held pulls are let go and finish (their rows committed) while braked; the
 * check answers several more times and no pull starts; the check turns to go; every task completes; and no start
 * happened between the brake going on and the check turning to go.
 */
final class BrakeRelayHarness implements AutoCloseable {

    static final RowSchema SCHEMA = RowSchema.of(new Column("N", JDBCType.INTEGER));
    static final int TASKS = 6;
    static final Duration DEADLINE = Duration.ofSeconds(60);

    record Event(String taskId, Instant at) {
    }

    final List<Event> starts = new CopyOnWriteArrayList<>();
    final List<Event> completions = new CopyOnWriteArrayList<>();
    final Map<String, Integer> committedRows = new ConcurrentHashMap<>();
    final InMemoryTaskQueue queue = InMemoryTaskQueue.create();
    final Relay relay;

    BrakeRelayHarness(Puller puller, Brake brake) {
        RelayListener recorder = new RelayListener() {
            @Override
            public void started(Task task, Instant at, Duration waited, int permitsInUse) {
                starts.add(new Event(task.id(), at));
            }

            @Override
            public void completed(Task task, Instant at, Duration service, long rows) {
                completions.add(new Event(task.id(), at));
            }
        };
        relay = Relay.builder().queue(queue).puller(puller)
                .sink((Task task, RowSchema schema) -> new SinkSession() {
                    int rows;

                    @Override
                    public void write(List<Row> chunk) {
                        rows += chunk.size();
                    }

                    @Override
                    public void commit() {
                        committedRows.put(task.id(), rows);
                    }

                    @Override
                    public void abort() {
                        rows = 0;
                    }

                    @Override
                    public void close() {
                    }
                })
                .lane(LaneSpec.of("backfill")).sourcePermits(2)
                .pressure(Pressure.builder().rule(LimitRule.none()).brake(brake).build())
                .listener(recorder).idlePollInterval(Duration.ofMillis(50)).shutdownTimeout(Duration.ofSeconds(10))
                .build();
    }

    /**
     * Runs the scenario.
     *
     * @param holdInFlight makes the pulls that start from now on wait on the source until {@code releaseInFlight}
     * @param inFlightOnSource whether the held pulls are confirmed running on the source (for example in
     *     {@code pg_stat_activity}); the HTTP test's puller confirms them itself
     * @param stop turns the check to stop
     * @param releaseInFlight lets the held pulls finish
     * @param go turns the check to go
     */
    void run(Runnable holdInFlight, BooleanSupplier inFlightOnSource, Runnable stop, Runnable releaseInFlight, Runnable go)
            throws InterruptedException {
        holdInFlight.run();
        relay.start();
        LocalDateTime w = LocalDateTime.of(2024, 6, 1, 0, 0);
        for (int i = 0; i < TASKS; i++) {
            queue.offer(Task.builder("backfill", "vds30sec").scope(Window.starting(w.plusMinutes(10L * i), Duration.ofMinutes(10)))
                    .parameter("district", "7").build());
        }
        await("two pulls in flight on the source", () -> starts.size() == 2 && inFlightOnSource.getAsBoolean()
                && relay.snapshot().inFlight() == 2); // the listener hears of a start before the turn publishes it

        stop.run();
        await("the relay braked", () -> relay.snapshot().pressure().brake().braked());
        RelaySnapshot braked = relay.snapshot();
        Instant since = braked.pressure().brake().since();
        assertEquals(0, braked.permitLimit(), "P_eff is 0 while braked");
        assertEquals(2, braked.inFlight(), "the brake cancels nothing");

        releaseInFlight.run();
        await("the pulls in flight finished while braked", () -> completions.size() == 2 && relay.snapshot().inFlight() == 0);
        long checks = relay.snapshot().pressure().brake().checks();
        await("five more checks said stop", () -> relay.snapshot().pressure().brake().checks() >= checks + 5);
        assertTrue(relay.snapshot().pressure().brake().braked());
        assertEquals(2, starts.size(), "a pull started while braked");
        assertEquals(2, committedRows.size(), "the in-flight pulls' rows were committed");

        Instant flip = Instant.now();
        go.run();
        await("every task completed after the brake let go", () -> completions.size() == TASKS);
        RelaySnapshot after = relay.snapshot();
        var brake = after.pressure().brake();
        assertTrue(!brake.braked() && brake.spells() == 2, "braked at start (first check) and once more: " + brake);
        assertTrue(brake.timeBraked().compareTo(Duration.between(since, flip)) >= 0, "time braked " + brake.timeBraked());
        for (Event e : starts) {
            assertTrue(e.at().isBefore(since) || e.at().isAfter(flip), "pull " + e.taskId() + " started at " + e.at()
                    + " while braked (" + since + " to " + flip + ")");
        }
        assertEquals(TASKS, committedRows.size());
        assertEquals(TASKS, after.lane("backfill").orElseThrow().completed());
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("waited " + DEADLINE + " for: " + what);
            }
            Thread.sleep(10);
        }
    }

    @Override
    public void close() {
        try {
            relay.shutdown(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
