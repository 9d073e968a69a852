package dev.relay.core;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.relay.api.LaneSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Properties of {@link FairScheduler} over random scenarios: random lane counts, weights, cost ranges, 1 to 8
 * permits and arrival patterns (bursts, trickles, idle gaps), driven by a discrete-event loop on integer time where
 * a task's cost is its run time. Each scenario comes from a seed, printed when a property fails. Invariants 1, 3
 * and 4 of the class comment, and the starvation bound; {@link StartBoundPropertiesTest} searches the bound
 * adversarially.
 */
class FairSchedulerPropertiesTest {

    static final long QUANTUM = 5;

    /** One generated task. */
    record Job(int lane, long arrival, long cost, int seq) {
    }

    /** A generated scenario. */
    static final class Scenario {
        final long seed;
        final int permits;
        final int[] weights;
        final long[] minCost;
        final long[] maxCost;
        final List<Job> jobs = new ArrayList<>();
        final long[] costBySeq;

        Scenario(long seed, boolean allBackloggedAtZero) {
            this.seed = seed;
            SplittableRandom r = new SplittableRandom(seed);
            permits = 1 + r.nextInt(8);
            int lanes = 1 + r.nextInt(6);
            weights = new int[lanes];
            minCost = new long[lanes];
            maxCost = new long[lanes];
            int seq = 0;
            for (int i = 0; i < lanes; i++) {
                weights[i] = 1 + r.nextInt(10);
                minCost[i] = 1 + r.nextInt(40);
                maxCost[i] = minCost[i] + r.nextInt(60);
                int n = allBackloggedAtZero ? 400 + r.nextInt(200) : 5 + r.nextInt(120);
                long t = 0;
                int pattern = r.nextInt(3);
                for (int k = 0; k < n; k++) {
                    if (!allBackloggedAtZero) {
                        switch (pattern) {
                            case 0 -> t += r.nextInt(3) == 0 ? r.nextInt(500) : 0; // bursts with gaps
                            case 1 -> t += r.nextInt(60); // trickle
                            default -> t = r.nextInt(2000); // scattered
                        }
                    }
                    long c = minCost[i] + (maxCost[i] > minCost[i] ? r.nextLong(maxCost[i] - minCost[i] + 1) : 0);
                    jobs.add(new Job(i, t, c, seq++));
                }
            }
            jobs.sort((a, b) -> a.arrival != b.arrival ? Long.compare(a.arrival, b.arrival) : Integer.compare(a.seq, b.seq));
            costBySeq = new long[jobs.size()];
            for (Job j : jobs) {
                costBySeq[j.seq()] = j.cost();
            }
        }

        @Override
        public String toString() {
            return "scenario seed=" + seed + " permits=" + permits + " weights=" + Arrays.toString(weights) + " costs="
                    + Arrays.toString(minCost) + ".." + Arrays.toString(maxCost);
        }
    }

    /** A task in flight. */
    static final class Flight implements FairScheduler.Running<Job> {
        final FairScheduler.Lane<Job> lane;
        final Job job;
        final long ticket;
        final long start;
        final long[] now;

        Flight(FairScheduler.Lane<Job> lane, Job job, long ticket, long start, long[] now) {
            this.lane = lane;
            this.job = job;
            this.ticket = ticket;
            this.start = start;
            this.now = now;
        }

        @Override
        public FairScheduler.Lane<Job> lane() {
            return lane;
        }

        @Override
        public long ticket() {
            return ticket;
        }

        @Override
        public long elapsed() {
            return now[0] - start;
        }

        long end() {
            return start + job.cost();
        }
    }

    /** What a run observed. */
    static final class Run {
        final List<String> violations = new ArrayList<>();
        /** Cost of the shared-pool tasks each lane started, up to the first instant a lane ran out of tasks. */
        final long[] startedAtFirstEmpty;
        /** Each lane's true deficit then: deficit plus what its tasks in flight will be refunded. */
        final long[] trueDeficitAtFirstEmpty;
        /** The lowest true deficit each lane had, at any instant before that. */
        final long[] lowestTrueDeficit;
        /** Whether each lane was still in the ring then (the one that ran dry left it, losing its positive deficit). */
        final boolean[] inRingAtFirstEmpty;
        long firstEmptyTime = -1;

        Run(int lanes) {
            inRingAtFirstEmpty = new boolean[lanes];
            startedAtFirstEmpty = new long[lanes];
            trueDeficitAtFirstEmpty = new long[lanes];
            lowestTrueDeficit = new long[lanes];
        }
    }

    static Run drive(Scenario sc) {
        FairScheduler<Job> s = FairScheduler.builder().permits(sc.permits).quantum(QUANTUM).build();
        int lanes = sc.weights.length;
        List<FairScheduler.Lane<Job>> ls = new ArrayList<>();
        for (int i = 0; i < lanes; i++) {
            ls.add(s.addLane(LaneSpec.builder("l" + i).weight(sc.weights[i]).maxTaskCost(sc.maxCost[i]).build()));
        }
        Run run = new Run(lanes);
        long[] now = {0};
        PriorityQueue<Flight> byEnd = new PriorityQueue<>((a, b) -> a.end() != b.end() ? Long.compare(a.end(), b.end())
                : Integer.compare(a.job.seq(), b.job.seq()));
        List<Flight> running = new ArrayList<>();
        ArrayDeque<Job> arrivals = new ArrayDeque<>(sc.jobs);
        long[] deadline = new long[sc.jobs.size()];
        Arrays.fill(deadline, Long.MAX_VALUE);
        int[] remaining = new int[lanes];
        long[] started = new long[lanes];
        for (Job j : sc.jobs) {
            remaining[j.lane()]++;
        }
        while (!arrivals.isEmpty() || !byEnd.isEmpty()) {
            long next = Long.MAX_VALUE;
            if (!arrivals.isEmpty()) {
                next = arrivals.peek().arrival();
            }
            if (!byEnd.isEmpty()) {
                next = Math.min(next, byEnd.peek().end());
            }
            now[0] = next;
            while (!byEnd.isEmpty() && byEnd.peek().end() == now[0]) {
                Flight f = byEnd.poll();
                running.remove(f);
                s.complete(f.lane, f.ticket, f.job.cost());
            }
            while (!arrivals.isEmpty() && arrivals.peek().arrival() == now[0]) {
                Job j = arrivals.poll();
                FairScheduler.Lane<Job> l = ls.get(j.lane());
                if (l.ready() == 0) {
                    long b = s.startBound(l, running);
                    deadline[j.seq()] = b == FairScheduler.UNBOUNDED ? Long.MAX_VALUE : now[0] + b;
                }
                s.enqueue(l, j);
            }
            Decision<Job> decision;
            while ((decision = Decision.next(s)) != null) {
                Job j = decision.item();
                Flight f = new Flight(decision.lane(), j, decision.ticket(), now[0], now);
                byEnd.add(f);
                running.add(f);
                remaining[j.lane()]--;
                if (decision.ticket() >= 0) {
                    started[j.lane()] += j.cost();
                }
                if (s.permitsInUse() > sc.permits) {
                    run.violations.add("permits " + s.permitsInUse() + " > " + sc.permits + " at " + now[0]);
                }
                if (now[0] > deadline[j.seq()]) {
                    run.violations.add(j + " started at " + now[0] + ", after its deadline " + deadline[j.seq()]);
                }
                if (run.firstEmptyTime < 0 && remaining[j.lane()] == 0) {
                    run.firstEmptyTime = now[0];
                    for (int i = 0; i < lanes; i++) {
                        run.startedAtFirstEmpty[i] = started[i];
                        run.trueDeficitAtFirstEmpty[i] = trueDeficit(ls.get(i), running);
                        run.inRingAtFirstEmpty[i] = ls.get(i).ready() > 0;
                    }
                }
            }
            if (run.firstEmptyTime < 0) {
                for (int i = 0; i < lanes; i++) {
                    run.lowestTrueDeficit[i] = Math.min(run.lowestTrueDeficit[i], trueDeficit(ls.get(i), running));
                }
            }
            // work conservation: a free permit with a ready lane must not exist after dispatching
            if (s.permitsInUse() < sc.permits) {
                for (FairScheduler.Lane<Job> l : ls) {
                    if (l.ready() > 0) {
                        run.violations.add("permit idle at " + now[0] + " while lane " + l.name() + " has " + l.ready() + " ready");
                    }
                }
            }
            // the bound of every head, evaluated at every instant it waits
            for (FairScheduler.Lane<Job> l : ls) {
                Job head = l.peek();
                if (head != null) {
                    long b = s.startBound(l, running);
                    if (b != FairScheduler.UNBOUNDED) {
                        deadline[head.seq()] = Math.min(deadline[head.seq()], now[0] + b);
                    }
                }
            }
        }
        return run;
    }

    /** {@code Δ = deficit + Σ (ticket − cost)} over the lane's shared tasks in flight: its deficit once they are charged. */
    static long trueDeficit(FairScheduler.Lane<Job> l, List<Flight> running) {
        long d = l.deficit();
        for (Flight f : running) {
            if (f.lane == l && f.ticket >= 0) {
                d += f.ticket - f.job.cost();
            }
        }
        return d;
    }

    @Test
    void permitsAreNeverExceeded_noPermitIdlesWhileWorkIsReady_andNoHeadWaitsBeyondItsBound() {
        qt().withExamples(300).withFixedSeed(20241127L).forAll(longs().all()).checkAssert(seed -> {
            Scenario sc = new Scenario(seed, false);
            Run run = drive(sc);
            if (!run.violations.isEmpty()) {
                throw new AssertionError(sc + ": " + run.violations.subList(0, Math.min(5, run.violations.size())));
            }
        });
    }

    /**
     * Invariant 4 for 1 to 8 permits, all lanes backlogged from time 0 until the first one runs dry: (a) the quanta
     * two lanes received differ by at most one; (b) each lane started its quanta less the growth of its true deficit
     * (so the quanta computed from the observations are whole numbers); (c) no lane's true deficit ever fell below
     * {@code −κ_i}; hence the weighted gap in favour of any lane i over any lane j is at most
     * {@code Q + κ_i/w_i + Δ_j/w_j}.
     */
    @Test
    void backloggedLanes_receiveQuantaInTurn_andNoneGetsAheadBeyondInvariant4_forOneToEightPermits() {
        qt().withExamples(150).withFixedSeed(375L).forAll(longs().all()).checkAssert(seed -> {
            Scenario sc = new Scenario(seed, true);
            if (sc.weights.length < 2) {
                return;
            }
            Run run = drive(sc);
            if (!run.violations.isEmpty()) {
                throw new AssertionError(sc + ": " + run.violations.subList(0, Math.min(5, run.violations.size())));
            }
            int n = sc.weights.length;
            long[] quanta = new long[n];
            long[] kappa = new long[n];
            for (int i = 0; i < n; i++) {
                long qi = sc.weights[i] * QUANTUM;
                long granted = run.startedAtFirstEmpty[i] + run.trueDeficitAtFirstEmpty[i]; // Δ(0) = 0
                if (run.inRingAtFirstEmpty[i] && granted % qi != 0) {
                    throw new AssertionError(sc + ": lane " + i + " started " + run.startedAtFirstEmpty[i] + " with true deficit "
                            + run.trueDeficitAtFirstEmpty[i] + ": not a whole number of quanta " + qi);
                }
                quanta[i] = granted / qi;
                int parallel = sc.permits; // no caps: S'_i = S = P
                kappa[i] = sc.maxCost[i] - 1 + (parallel - 1) * (sc.maxCost[i] - 1);
                if (run.lowestTrueDeficit[i] < -kappa[i]) {
                    throw new AssertionError(sc + ": lane " + i + " true deficit " + run.lowestTrueDeficit[i] + " < −κ = " + -kappa[i]);
                }
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (run.inRingAtFirstEmpty[i] && run.inRingAtFirstEmpty[j] && Math.abs(quanta[i] - quanta[j]) > 1) {
                        throw new AssertionError(sc + ": quanta " + Arrays.toString(quanta) + " differ by more than one");
                    }
                    double gap = (double) run.startedAtFirstEmpty[i] / sc.weights[i] - (double) run.startedAtFirstEmpty[j] / sc.weights[j];
                    double bound = QUANTUM + (double) kappa[i] / sc.weights[i]
                            + (double) run.trueDeficitAtFirstEmpty[j] / sc.weights[j];
                    if (gap > bound) {
                        throw new AssertionError(sc + ": lane " + i + " ahead of lane " + j + " by " + gap + " > " + bound);
                    }
                }
            }
        });
    }
}
