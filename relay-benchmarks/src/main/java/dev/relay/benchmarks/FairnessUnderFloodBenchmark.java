package dev.relay.benchmarks;

import dev.relay.api.LaneSpec;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Fairness under a flood, on the real engine: three lanes of weights 4 : 2 : 1 — {@code realtime},
 * {@code hourly}, {@code backfill} — share {@code permits} source permits, and {@code backfill} is flooded
 * with {@code flood} queued tasks, each {@code floodScale} times longer than the others' (a week of backfill
 * windows in front of short realtime pulls: the incident). The other two lanes are kept backlogged with
 * {@code depth} tasks each outstanding at all times (each acknowledged task is offered again at once), so all
 * three lanes are backlogged throughout and the weighted shares apply. A task's work is a park of
 * {@code taskMicros} (times {@code floodScale} for backfill): source time is waiting on the database, not CPU.
 * Run it with one benchmark thread (the default).
 *
 * <p>The score is acknowledged tasks per second. Auxiliary counters, per measurement iteration:
 * <ul>
 *   <li>{@code realtimeTasks}, {@code hourlyTasks}, {@code backfillTasks} — completions per second per lane
 *       (backfill completes fewer: its tasks are bigger, and lanes are charged in source time, not tasks);
 *   <li>{@code shareRealtimePct}, {@code shareHourlyPct}, {@code shareBackfillPct} — each lane's share of the
 *       source time (from dispatch to completion, as the engine charges it), expected 57.14, 28.57, 14.29;
 *   <li>{@code shareMaxErrPct} — the largest relative deviation of a share from its weight's, in percent
 *       (goal: ≤ 1);
 *   <li>{@code waitP99RealtimeUs}, {@code waitMaxRealtimeUs}, {@code waitP99HourlyUs}, {@code waitMaxHourlyUs} —
 *       the non-flooded lanes' wait from ready to start, in µs (goal: bounded, independent of {@code flood});
 *   <li>{@code waitP50BackfillMs} — the flooded lane's median wait, in ms, for contrast: it grows with the flood.
 * </ul>
 * JMH prints all of them with the unit {@code ops/s}; only the {@code …Tasks} counters are rates, the others
 * are the plain values (percent, µs, ms): see {@link Lanes}.
 *
 * <p>Run:
 * <pre>
 *   java -jar relay-benchmarks/target/benchmarks.jar FairnessUnderFloodBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 4)
@Fork(2)
@State(Scope.Benchmark)
public class FairnessUnderFloodBenchmark {

    /** Acknowledgements per invocation. */
    static final int BATCH = 50;

    static final String[] LANES = {"realtime", "hourly", "backfill"};
    static final int[] WEIGHTS = {4, 2, 1};
    static final int FLOODED = 2;

    /** Source permits shared by the three lanes (and worker threads). */
    @Param({"2"})
    public int permits;

    /** Tasks queued in the flooded lane, kept at that level. */
    @Param({"1000", "10000"})
    public int flood;

    /** Tasks outstanding in each non-flooded lane, kept at that level. */
    @Param({"8"})
    public int depth;

    /** A non-flooded task's work, in µs. */
    @Param({"100"})
    public int taskMicros;

    /** How many times longer a flooded task's work is. */
    @Param({"4"})
    public int floodScale;

    /** The scheduler's base quantum, in µs of source time. */
    @Param({"1000"})
    public int quantumMicros;

    private final Semaphore acked = new Semaphore(0);
    private volatile Stats stats = new Stats();
    /** When the iteration's first invocation began; benchmark thread only. */
    private long iterationStart;
    private InMemoryTaskQueue queue;
    private ThreadPoolExecutor workers;
    private Relay relay;

    /** One iteration's observations, written by the relay's control thread (the listener), read by the benchmark. */
    static final class Stats {
        final AtomicLong[] completed = {new AtomicLong(), new AtomicLong(), new AtomicLong()};
        final AtomicLong[] sourceNanos = {new AtomicLong(), new AtomicLong(), new AtomicLong()};
        final LogHistogram[] waits = {new LogHistogram(), new LogHistogram(), new LogHistogram()};
    }

    static int index(String lane) {
        for (int i = 0; i < LANES.length; i++) {
            if (LANES[i].equals(lane)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown lane '" + lane + "'");
    }

    /** Floods the queue and starts the relay. */
    @Setup(Level.Trial)
    public void setUp() {
        queue = InMemoryTaskQueue.create();
        LocalDateTime start = LocalDateTime.of(2024, 3, 14, 0, 0);
        for (int lane = 0; lane < LANES.length; lane++) {
            int n = lane == FLOODED ? flood : depth;
            for (int i = 0; i < n; i++) {
                queue.offer(Task.window(LANES[lane], "vds30sec", Window.starting(start.plusMinutes(i), Duration.ofMinutes(1))));
            }
        }
        long shortNanos = TimeUnit.MICROSECONDS.toNanos(taskMicros);
        long longNanos = shortNanos * floodScale;
        workers = EngineThroughputBenchmark.pool(permits, "flood-worker");
        Relay.Builder b = Relay.builder().queue(queue).sourcePermits(permits).workers(workers)
                .quantum(Duration.ofNanos(TimeUnit.MICROSECONDS.toNanos(quantumMicros)))
                .puller(task -> {
                    work(task.lane().equals(LANES[FLOODED]) ? longNanos : shortNanos);
                    return NoOp.EMPTY;
                })
                .sink(NoOp.SINK)
                .listener(new RelayListener() {
                    @Override
                    public void started(Task task, Instant at, Duration waited, int permitsInUse) {
                        stats.waits[index(task.lane())].record(waited.toNanos());
                    }

                    @Override
                    public void completed(Task task, Instant at, Duration service, long rows) {
                        Stats s = stats;
                        int i = index(task.lane());
                        s.completed[i].incrementAndGet();
                        s.sourceNanos[i].addAndGet(service.toNanos());
                        queue.offer(task); // keep the lane's backlog where it was: same id, completed, so accepted again
                        acked.release();
                    }
                });
        for (int i = 0; i < LANES.length; i++) {
            b.lane(LaneSpec.builder(LANES[i]).weight(WEIGHTS[i]).build());
        }
        relay = b.build().start();
    }

    private static void work(long nanos) {
        long deadline = System.nanoTime() + nanos;
        for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    /** Starts a fresh iteration's observations. */
    @Setup(Level.Iteration)
    public void newIteration() {
        stats = new Stats();
        acked.drainPermits();
        iterationStart = 0;
    }

    /** Stops the relay. */
    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        relay.shutdown(Duration.ofSeconds(10));
        EngineThroughputBenchmark.stop(workers);
        queue.close();
    }

    /**
     * Per-lane figures of the measurement iteration. JMH reports an {@code OPERATIONS} counter divided by the
     * iteration's time, averaged over iterations and forks with its error. The {@code …Tasks} fields are counts,
     * so they print as completions per second. The shares and waits are values, not counts: they are stored
     * multiplied by the seconds elapsed since the iteration's first invocation began (which is when JMH's own
     * timer starts, within microseconds), so that what JMH prints — {@code ops/s} is then the wrong unit — is
     * the value itself: its mean over the iterations with a proper error. ({@code EVENTS} counters would be
     * summed over iterations instead.)
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Lanes {
        /** Realtime (weight 4) tasks acknowledged. */
        public long realtimeTasks;
        /** Hourly (weight 2) tasks acknowledged. */
        public long hourlyTasks;
        /** Backfill (weight 1, flooded) tasks acknowledged. */
        public long backfillTasks;
        /** Realtime's share of source time, percent (weight share 57.14). */
        public double shareRealtimePct;
        /** Hourly's share, percent (28.57). */
        public double shareHourlyPct;
        /** Backfill's share, percent (14.29). */
        public double shareBackfillPct;
        /** Largest relative deviation of a lane's share from its weight share, percent of that weight share. */
        public double shareMaxErrPct;
        /** 99th percentile wait of realtime tasks, µs. */
        public double waitP99RealtimeUs;
        /** Longest wait of a realtime task, µs. */
        public double waitMaxRealtimeUs;
        /** 99th percentile wait of hourly tasks, µs. */
        public double waitP99HourlyUs;
        /** Longest wait of an hourly task, µs. */
        public double waitMaxHourlyUs;
        /** Median wait of the flooded lane's tasks, ms. */
        public double waitP50BackfillMs;

        /** Zeroes the counters. */
        @Setup(Level.Iteration)
        public void clear() {
            realtimeTasks = 0;
            hourlyTasks = 0;
            backfillTasks = 0;
            shareRealtimePct = 0;
            shareHourlyPct = 0;
            shareBackfillPct = 0;
            shareMaxErrPct = 0;
            waitP99RealtimeUs = 0;
            waitMaxRealtimeUs = 0;
            waitP99HourlyUs = 0;
            waitMaxHourlyUs = 0;
            waitP50BackfillMs = 0;
        }

        void update(Stats s, double elapsedSeconds) {
            realtimeTasks = s.completed[0].get();
            hourlyTasks = s.completed[1].get();
            backfillTasks = s.completed[2].get();
            long[] src = new long[LANES.length];
            long total = 0;
            int weights = 0;
            for (int i = 0; i < LANES.length; i++) {
                src[i] = s.sourceNanos[i].get();
                total += src[i];
                weights += WEIGHTS[i];
            }
            if (total == 0) {
                return;
            }
            double err = 0;
            double[] share = new double[LANES.length];
            for (int i = 0; i < LANES.length; i++) {
                share[i] = 100.0 * src[i] / total;
                double expected = 100.0 * WEIGHTS[i] / weights;
                err = Math.max(err, Math.abs(share[i] - expected) / expected * 100.0);
            }
            double t = elapsedSeconds;
            shareRealtimePct = share[0] * t;
            shareHourlyPct = share[1] * t;
            shareBackfillPct = share[2] * t;
            shareMaxErrPct = err * t;
            waitP99RealtimeUs = s.waits[0].percentile(0.99) / 1e3 * t;
            waitMaxRealtimeUs = s.waits[0].max() / 1e3 * t;
            waitP99HourlyUs = s.waits[1].percentile(0.99) / 1e3 * t;
            waitMaxHourlyUs = s.waits[1].max() / 1e3 * t;
            waitP50BackfillMs = s.waits[2].percentile(0.5) / 1e6 * t;
        }
    }

    /**
     * Waits for the next {@value #BATCH} acknowledgements, then brings the counters up to date.
     *
     * @param lanes the per-lane counters
     * @throws InterruptedException if interrupted
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void flood(Lanes lanes) throws InterruptedException {
        if (iterationStart == 0) {
            iterationStart = System.nanoTime();
        }
        acked.acquire(BATCH);
        lanes.update(stats, (System.nanoTime() - iterationStart) / 1e9);
    }
}
