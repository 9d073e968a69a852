package dev.relay.benchmarks;

import dev.relay.api.LaneSpec;
import dev.relay.core.FairScheduler;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one scheduling decision: {@link FairScheduler#next(FairScheduler.Starter)} picking the next item,
 * taking a permit and handing the choice to the caller's starter,
 * then {@link FairScheduler#complete} releasing it with the item's actual cost (and the item going back to the
 * tail of its lane, so every lane stays backlogged), over 3, 16 and 256 lanes — against the plain hand-offs it
 * replaces, measured in the same run: an {@link ArrayBlockingQueue} {@code poll} + {@code offer} (one lock, no
 * fairness) and, as the floor, an {@link ArrayDeque} {@code pollFirst} + {@code addLast}.
 *
 * <p>Goals (issue 7): {@code fair} with 256 lanes within 1.5× of {@code fair} with 3 lanes (O(1) per
 * decision), and 0 bytes allocated per decision ({@code gc.alloc.rate.norm} under {@code -prof gc}).
 *
 * <p>The scheduler has one source permit, so every {@code next} starts an item; lanes have weights 4, 2, 1 in
 * turn; costs are drawn (before the run, from a fixed seed) uniformly from [Q/2, 3Q/2] for a quantum Q, so
 * lanes fall into debt and get skipped now and then, as they do for real. All three benchmarks are
 * single-threaded, as the scheduler is: it belongs to the engine's control thread. Run it with one benchmark
 * thread (the default): its states are per thread and the scheduler is not threadsafe.
 *
 * <p>Run:
 * <pre>
 *   java -jar relay-benchmarks/target/benchmarks.jar DecisionCostBenchmark -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class DecisionCostBenchmark {

    /** The scheduler's base quantum in cost units. */
    static final long QUANTUM = 1_000;
    /** Items kept ready in every lane (and in the baseline queues). */
    static final int DEPTH = 4;
    /** Precomputed costs, a power of two. */
    static final int COSTS = 4096;

    /** The fair scheduler with {@link #lanes} backlogged lanes. */
    @State(Scope.Thread)
    public static class Fair implements FairScheduler.Starter<Object> {
        /** Number of lanes, all backlogged. */
        @Param({"3", "16", "256"})
        public int lanes;

        FairScheduler<Object> scheduler;
        final long[] costs = new long[COSTS];
        int next;

        /** Builds the scheduler and fills its lanes. */
        @Setup(Level.Trial)
        public void setUp() {
            scheduler = FairScheduler.builder().permits(1).quantum(QUANTUM)
                    .clock(Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC)).build();
            int[] weights = {4, 2, 1};
            for (int i = 0; i < lanes; i++) {
                FairScheduler.Lane<Object> lane =
                        scheduler.addLane(LaneSpec.builder("lane-" + i).weight(weights[i % weights.length]).build());
                for (int k = 0; k < DEPTH; k++) {
                    scheduler.enqueue(lane, Integer.valueOf(i * DEPTH + k));
                }
            }
            SplittableRandom random = new SplittableRandom(42);
            for (int i = 0; i < COSTS; i++) {
                costs[i] = QUANTUM / 2 + random.nextLong(QUANTUM + 1);
            }
        }

        /** The last decision, as the starter received it (the engine keeps it in its control turn the same way). */
        FairScheduler.Lane<Object> lane;
        Object item;
        long ticket;

        @Override
        public void onStart(FairScheduler.Lane<Object> lane, Object item, long ticket) {
            this.lane = lane;
            this.item = item;
            this.ticket = ticket;
        }

        long cost() {
            long c = costs[next];
            next = (next + 1) & (COSTS - 1);
            return c;
        }
    }

    /** The baseline: an {@link ArrayBlockingQueue} holding as many items. */
    @State(Scope.Thread)
    public static class Abq {
        final ArrayBlockingQueue<Object> queue = new ArrayBlockingQueue<>(DEPTH * 3);

        /** Fills the queue. */
        @Setup(Level.Trial)
        public void setUp() {
            for (int i = 0; i < DEPTH * 3; i++) {
                queue.offer(Integer.valueOf(i));
            }
        }
    }

    /** The floor: an {@link ArrayDeque}, no lock, no fairness. */
    @State(Scope.Thread)
    public static class Deque {
        final ArrayDeque<Object> deque = new ArrayDeque<>(DEPTH * 3);

        /** Fills the deque. */
        @Setup(Level.Trial)
        public void setUp() {
            for (int i = 0; i < DEPTH * 3; i++) {
                deque.addLast(Integer.valueOf(i));
            }
        }
    }

    /**
     * One decision of the fair scheduler and the completion that frees its permit.
     *
     * @param s the scheduler
     * @return the item started
     */
    @Benchmark
    public Object fair(Fair s) {
        FairScheduler<Object> f = s.scheduler;
        f.next(s);
        f.complete(s.lane, s.ticket, s.cost());
        f.enqueue(s.lane, s.item);
        return s.item;
    }

    /**
     * Baseline: take the head of an {@link ArrayBlockingQueue} and hand it back at the tail.
     *
     * @param s the queue
     * @return the item taken
     */
    @Benchmark
    public Object abq(Abq s) {
        Object item = s.queue.poll();
        s.queue.offer(item);
        return item;
    }

    /**
     * Floor: the same with an {@link ArrayDeque}.
     *
     * @param s the deque
     * @return the item taken
     */
    @Benchmark
    public Object arrayDeque(Deque s) {
        Object item = s.deque.pollFirst();
        s.deque.addLast(item);
        return item;
    }
}
