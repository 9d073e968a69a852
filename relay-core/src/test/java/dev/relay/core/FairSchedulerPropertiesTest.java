package dev.relay.core;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.relay.api.LaneSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Properties of {@link FairScheduler} over random scenarios: random lane counts, weights, cost ranges, permit
 * counts and arrival patterns (bursts, trickles, idle gaps), driven by a discrete-event loop on integer time
 * where a task's cost is its run time. Each scenario comes from a seed, printed when a property fails.
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

        Scenario(long seed, boolean allBackloggedAtZero) {
            this.seed = seed;
            SplittableRandom r = new SplittableRandom(seed);
            permits = 1 + r.nextInt(4);
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

        long[] costBySeq;

        @Override
        public String toString() {
            return "scenario seed=" + seed + " permits=" + permits + " weights=" + java.util.Arrays.toString(weights);
        }
    }

    /** The result of driving a scenario. */
    static final class Run {
        final long[] start;
        final List<String> violations = new ArrayList<>();
        final long[] servedAtFirstEmpty;
        long firstEmptyTime = -1;

        Run(int jobs, int lanes) {
            start = new long[jobs];
            servedAtFirstEmpty = new long[lanes];
        }
    }

    static Run drive(Scenario sc, boolean checkBound) {
        FairScheduler<Job> s = FairScheduler.builder().permits(sc.permits).quantum(QUANTUM).build();
        int lanes = sc.weights.length;
        List<FairScheduler.Lane<Job>> ls = new ArrayList<>();
        for (int i = 0; i < lanes; i++) {
            ls.add(s.addLane(LaneSpec.builder("l" + i).weight(sc.weights[i]).build()));
        }
        Run run = new Run(sc.jobs.size(), lanes);
        // completions: {time, jobSeq, lane, ticket}
        PriorityQueue<long[]> running = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        ArrayDeque<Job> arrivals = new ArrayDeque<>(sc.jobs);
        long[] headSince = new long[sc.jobs.size()];
        long[] headBound = new long[sc.jobs.size()];
        java.util.Arrays.fill(headSince, -1);
        int[] remaining = new int[lanes];
        for (Job j : sc.jobs) {
            remaining[j.lane()]++;
        }
        long now = 0;
        while (!arrivals.isEmpty() || !running.isEmpty()) {
            long next = Long.MAX_VALUE;
            if (!arrivals.isEmpty()) {
                next = arrivals.peek().arrival();
            }
            if (!running.isEmpty()) {
                next = Math.min(next, running.peek()[0]);
            }
            now = next;
            while (!running.isEmpty() && running.peek()[0] == now) {
                long[] c = running.poll();
                s.complete(ls.get((int) c[2]), c[3], jobCost(sc, (int) c[1]));
            }
            while (!arrivals.isEmpty() && arrivals.peek().arrival() == now) {
                Job j = arrivals.poll();
                s.enqueue(ls.get(j.lane()), j);
            }
            // dispatch everything allowed now
            Decision<Job> decision;
            while ((decision = Decision.next(s)) != null) {
                Job started = decision.item();
                FairScheduler.Lane<Job> lane = decision.lane();
                run.start[started.seq()] = now;
                remaining[started.lane()]--;
                running.add(new long[] {now + started.cost(), started.seq(), started.lane(), decision.ticket()});
                if (s.permitsInUse() > sc.permits) {
                    run.violations.add("permits " + s.permitsInUse() + " > " + sc.permits + " at " + now);
                }
                if (checkBound && headSince[started.seq()] >= 0) {
                    long waited = now - headSince[started.seq()];
                    if (waited > headBound[started.seq()]) {
                        run.violations.add("job " + started + " waited " + waited + " at the head of lane " + lane.name()
                                + " > bound " + headBound[started.seq()]);
                    }
                }
                if (run.firstEmptyTime < 0 && remaining[started.lane()] == 0) {
                    run.firstEmptyTime = now;
                    for (int i = 0; i < lanes; i++) {
                        run.servedAtFirstEmpty[i] = ls.get(i).servedShared();
                    }
                }
            }
            // work conservation: a free permit with a ready lane must not exist after dispatching
            if (s.permitsInUse() < sc.permits) {
                for (FairScheduler.Lane<Job> l : ls) {
                    if (l.ready() > 0) {
                        run.violations.add("permit idle at " + now + " while lane " + l.name() + " has " + l.ready() + " ready");
                    }
                }
            }
            // record the bound of every head that became head now
            long r = Long.MAX_VALUE;
            for (long[] c : running) {
                r = Math.min(r, c[0] - now);
            }
            if (s.permitsInUse() < sc.permits || running.isEmpty()) {
                r = 0;
            }
            for (int i = 0; i < lanes; i++) {
                Job head = ls.get(i).peek();
                if (head != null && headSince[head.seq()] < 0) {
                    headSince[head.seq()] = now;
                    long pending = 0; // what lane i's running tasks will still be charged beyond their estimates
                    for (long[] c : running) {
                        if (c[2] == i && c[3] >= 0) {
                            pending += jobCost(sc, (int) c[1]) - c[3];
                        }
                    }
                    headBound[head.seq()] = r + bound(sc, s, ls, i, pending);
                }
            }
        }
        return run;
    }

    /** The stated bound beyond r, with each lane's worst costs known from the scenario. */
    static long jobCost(Scenario sc, int seq) {
        return sc.costBySeq[seq];
    }

    static long bound(Scenario sc, FairScheduler<Job> s, List<FairScheduler.Lane<Job>> ls, int i, long pending) {
        long others = 0;
        for (int j = 0; j < sc.weights.length; j++) {
            if (j == i) {
                continue;
            }
            long qj = sc.weights[j] * QUANTUM;
            long mj = Math.min(qj, sc.minCost[j]); // the estimate starts at Q_j and averages actual costs
            others += ((qj + mj - 1) / mj) * sc.maxCost[j];
        }
        long qi = sc.weights[i] * QUANTUM;
        long debt = Math.max(0, pending - ls.get(i).deficit());
        return (1 + (debt + qi - 1) / qi) * others;
    }

    @Test
    void permitsAreNeverExceeded_noPermitIdlesWhileWorkIsReady_andNoHeadWaitsBeyondTheBound() {
        qt().withExamples(300).withFixedSeed(20241127L).forAll(longs().all()).checkAssert(seed -> {
            Scenario sc = new Scenario(seed, false);
            Run run = drive(sc, true);
            if (!run.violations.isEmpty()) {
                throw new AssertionError(sc + ": " + run.violations.subList(0, Math.min(5, run.violations.size())));
            }
        });
    }

    @Test
    void backloggedLanes_shareServiceInProportionToTheirWeights() {
        qt().withExamples(120).withFixedSeed(375L).forAll(longs().all()).checkAssert(seed -> {
            Scenario sc = new Scenario(seed, true);
            if (sc.weights.length < 2) {
                return;
            }
            Run run = drive(sc, false);
            if (!run.violations.isEmpty()) {
                throw new AssertionError(sc + ": " + run.violations.subList(0, Math.min(5, run.violations.size())));
            }
            // up to the moment the first lane ran dry, all lanes were backlogged: normalized service must agree
            double max = Double.NEGATIVE_INFINITY;
            double min = Double.POSITIVE_INFINITY;
            long slack = 0;
            for (int i = 0; i < sc.weights.length; i++) {
                double norm = (double) run.servedAtFirstEmpty[i] / sc.weights[i];
                max = Math.max(max, norm);
                min = Math.min(min, norm);
                // per lane: one visit's worth beyond the quantum, the tasks in flight, and its estimate error
                slack = Math.max(slack, (sc.permits + 2) * sc.maxCost[i] / sc.weights[i]);
            }
            long bound = 2 * QUANTUM + 2 * slack;
            if (max - min > bound) {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < sc.weights.length; i++) {
                    sb.append(" l").append(i).append(" w=").append(sc.weights[i]).append(" served=")
                            .append(run.servedAtFirstEmpty[i]);
                }
                throw new AssertionError(sc + ": normalized service spread " + (max - min) + " > " + bound + ":" + sb);
            }
        });
    }
}
