package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.relay.core.BoundHarness.Job;
import dev.relay.core.BoundHarness.LaneDef;
import dev.relay.core.BoundHarness.Scenario;
import dev.relay.core.Workloads.CostModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * How tight the starvation bound is on ordinary workloads: the ratio wait / bound over every head-of-lane wait, for
 * the guaranteed bound ({@link FairScheduler#startBound}: declared maxima, elapsed times), the same bound in
 * hindsight (the class comment's statement with each task's actual remaining time and true-up, each lane's true
 * largest cost and its smallest estimate over the run: how tight the proof is) and the bound stated before issue 18,
 * {@code r + (1 + ⌈D_i/Q_i⌉) · Σ_{j≠i} ⌈Q_j/m_j⌉ · C_j} (evaluated with the actual remaining time r and each
 * lane's true smallest and largest cost, as its property test did). A report, not a check: it runs only with
 * {@code -Drelay.bound.report=true}:
 *
 * <pre>
 * mvn -B -ntp -pl relay-core -am test -Dtest=BoundRatiosReport -Drelay.bound.report=true -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * <p>Workloads (time unit 1 ms, quantum 1 s, costs = run times, each lane's declared maximum = its largest task):
 * six lanes of weights 4, 2, 1, 1, 2, 1 on 1, 2, 4 and 8 permits; lane 0 a backlogged flood, the others Poisson
 * arrivals loading the permits to about 90 % ({@code -flood}: every lane backlogged, so that every head waits a
 * round). <em>Typical</em>: lognormal costs, medians 0.2 to 5 s, σ = 0.3 or 0.8; <em>heavy-tailed</em>: Pareto
 * costs, α = 1.3, capped at 200 times the scale.
 */
class BoundRatiosReport {

    private static final long Q = 1_000;
    private static final int[] WEIGHTS = {4, 2, 1, 1, 2, 1};
    private static final double[] MEDIANS = {2_000, 1_000, 5_000, 200, 800, 3_000};

    @Test
    void report() {
        assumeTrue(Boolean.getBoolean("relay.bound.report"), "a report: run with -Drelay.bound.report=true");
        StringBuilder out = new StringBuilder();
        out.append("| workload | P | waits | guaranteed bound, after: p50 / p90 / p99 / max | statement in hindsight, after"
                + " | statement in hindsight, before | run-time figure before: waits above it, worst |\n");
        out.append("|---|---|---|---|---|---|---|\n");
        double worst = 0;
        double worstHindsight = 0;
        for (String kind : new String[] {"lognormal-0.3", "lognormal-0.8", "pareto-1.3", "lognormal-0.3-flood",
                "lognormal-0.8-flood", "pareto-1.3-flood"}) {
            for (int permits : new int[] {1, 2, 4, 8}) {
                List<double[]> all = new ArrayList<>();
                for (long seed = 1; seed <= 5; seed++) {
                    Scenario sc = ordinary(kind, permits, seed);
                    long[] max = sc.trueMax();
                    long[] min = sc.trueMin();
                    long[] minEstimate = BoundHarness.run(sc, new SplittableRandom(seed), null).minEstimate;
                    BoundHarness.Result res = BoundHarness.run(sc, new SplittableRandom(seed),
                            (s, ls, i, running, now) -> oldBound(s, ls, i, running, now, max, min, sc),
                            BoundRatiosReport::oldRunTime, new BoundHarness.Hindsight(max, minEstimate));
                    assertTrue(res.violations.isEmpty(), res.violations.toString());
                    for (Job j : res.measured) {
                        long wait = j.start - j.headSince;
                        long oldRunTime = j.headOldRunTime;
                        all.add(new double[] {ratio(wait, j.headBound), ratio(wait, j.headHindsight), ratio(wait, j.headOld),
                            ratio(wait, oldRunTime)});
                        worstHindsight = Math.max(worstHindsight, ratio(wait, j.headHindsight));
                    }
                    worst = Math.max(worst, res.worstRatio);
                }
                long above = all.stream().filter(v -> v[3] > 1).count();
                double worstOld = all.stream().mapToDouble(v -> v[3]).max().orElse(0);
                out.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %s | %.2f %%, %.1f× |%n", kind, permits, all.size(),
                        quantiles(all, 0), quantiles(all, 1), quantiles(all, 2), 100.0 * above / Math.max(1, all.size()), worstOld));
            }
        }
        out.append(String.format(Locale.ROOT, "worst wait / guaranteed bound: %.4f, / bound in hindsight: %.4f%n", worst,
                worstHindsight));
        System.out.print(out);
        assertTrue(worst <= 1.0, "a wait exceeded its guaranteed bound: " + worst);
        assertTrue(worstHindsight <= 1.0, "a wait exceeded its bound in hindsight: " + worstHindsight);
    }

    private static double ratio(long wait, long bound) {
        if (bound == FairScheduler.UNBOUNDED) {
            return 0;
        }
        return bound == 0 ? (wait == 0 ? 0 : Double.POSITIVE_INFINITY) : (double) wait / bound;
    }

    private static String quantiles(List<double[]> all, int k) {
        double[] v = new double[all.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = all.get(i)[k];
        }
        Arrays.sort(v);
        if (v.length == 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.4f / %.4f / %.3f / %.3f", v[v.length / 2], v[(int) (v.length * 0.9)],
                v[(int) (v.length * 0.99)], v[v.length - 1]);
    }

    /** The ordinary workloads of the class comment. */
    static Scenario ordinary(String kind, int permits, long seed) {
        SplittableRandom r = new SplittableRandom(seed * 7919 + permits);
        Scenario sc = new Scenario(kind, permits, Q);
        sc.seed = seed;
        int n = WEIGHTS.length;
        CostModel[] models = new CostModel[n];
        double meanSum = 0;
        for (int i = 0; i < n; i++) {
            models[i] = kind.startsWith("lognormal-0.3") ? Workloads.lognormal(MEDIANS[i], 0.3, Long.MAX_VALUE)
                    : kind.startsWith("lognormal-0.8") ? Workloads.lognormal(MEDIANS[i], 0.8, Long.MAX_VALUE)
                    : Workloads.pareto(MEDIANS[i] / 2, 1.3, (long) (MEDIANS[i] * 100));
        }
        boolean flood = kind.endsWith("flood");
        long horizon = 4_000_000L; // a bit over an hour of virtual time
        for (int i = 0; i < n; i++) {
            if (i == 0 || flood) { // backlogged throughout
                for (int k = 0; k < horizon / MEDIANS[i] * 2 / permits / (flood ? n : 1) + 50; k++) {
                    sc.jobs.add(new Job(i, 0, models[i].next(r)));
                }
                continue;
            }
            // Poisson arrivals: the five other lanes together offer about 90 % of the permits' capacity
            double mean = meanCost(models[i], r);
            meanSum += mean;
            double rate = 0.9 * permits / (n - 1) / mean; // arrivals per ms
            double t = 0;
            while (t < horizon) {
                t += -Math.log(1.0 - r.nextDouble()) / rate;
                sc.jobs.add(new Job(i, (long) t, models[i].next(r)));
            }
        }
        for (int i = 0; i < n; i++) {
            sc.reactiveCosts.add(new long[0]);
        }
        long[] max = sc.trueMax();
        for (int i = 0; i < n; i++) {
            sc.lanes.add(new LaneDef(WEIGHTS[i], Integer.MAX_VALUE, 0, 0, 1, Math.max(1, max[i])));
        }
        return sc;
    }

    private static double meanCost(CostModel m, SplittableRandom r) {
        SplittableRandom probe = r.split();
        double sum = 0;
        for (int k = 0; k < 20_000; k++) {
            sum += m.next(probe);
        }
        return sum / 20_000;
    }

    /**
     * The run-time figure before issue 18: {@code r + startBound(lane)}, r the actual shortest remaining time on the
     * shared permits (as the issue measured it) and {@code startBound} as it was: {@code (1 + ⌈D/Q_i⌉) · Σ S_j} over
     * the lanes with work, {@code S_j = ⌈Q_j / m_j⌉ · max(maxCost_j, e_j)} from the costs seen so far.
     */
    private static long oldRunTime(FairScheduler<Job> s, List<FairScheduler.Lane<Job>> ls, int i,
            List<BoundHarness.InFlightView> running, long now) {
        FairScheduler.Lane<Job> lane = ls.get(i);
        long r = Long.MAX_VALUE;
        int shared = 0;
        for (BoundHarness.InFlightView f : running) {
            if (f.ticket() >= 0) {
                shared++;
                r = Math.min(r, f.start() + f.cost() - now);
            }
        }
        if (shared < s.sharedPermits() || shared == 0) {
            r = 0;
        }
        long others = 0;
        for (FairScheduler.Lane<Job> j : ls) {
            if (j == lane || (j.ready() == 0 && j.inFlight() == 0)) {
                continue;
            }
            long c = Math.max(j.maxCost(), j.estimate());
            long m = Math.max(1, j.minEstimate);
            others += Math.min(FairScheduler.MAX_STARTS_PER_VISIT, (j.quantum + m - 1) / m) * c;
        }
        long pending = (long) (lane.inFlight() - lane.dedicatedInUse)
                * Math.max(0, Math.max(lane.maxCost(), lane.estimate()) - lane.minEstimate);
        long debt = Math.max(0, pending - lane.deficit());
        return r + (1 + (debt + lane.quantum - 1) / lane.quantum) * others;
    }

    /**
     * The bound stated before issue 18: {@code r + (1 + ⌈D_i/Q_i⌉) · Σ_{j≠i} ⌈Q_j/m_j⌉ · C_j}, r the shortest
     * remaining time on the shared permits (0 if one is free), m_j = min(Q_j, smallest cost of lane j), C_j its
     * largest, D_i what lane i's tasks in flight will still be charged beyond their estimates less its deficit.
     */
    private static long oldBound(FairScheduler<Job> s, List<FairScheduler.Lane<Job>> ls, int i, List<BoundHarness.InFlightView> running,
            long now, long[] max, long[] min, Scenario sc) {
        long r = Long.MAX_VALUE;
        long pending = 0;
        int shared = 0;
        for (BoundHarness.InFlightView f : running) {
            if (f.ticket() >= 0) {
                shared++;
                r = Math.min(r, f.start() + f.cost() - now);
                if (f.lane() == i) {
                    pending += f.cost() - f.ticket();
                }
            }
        }
        if (shared < s.sharedPermits() || shared == 0) {
            r = 0;
        }
        long others = 0;
        for (int j = 0; j < ls.size(); j++) {
            if (j == i) {
                continue;
            }
            long qj = (long) sc.lanes.get(j).weight() * sc.quantum;
            long mj = Math.max(1, Math.min(qj, min[j]));
            others += ((qj + mj - 1) / mj) * max[j];
        }
        long qi = (long) sc.lanes.get(i).weight() * sc.quantum;
        long debt = Math.max(0, pending - ls.get(i).deficit());
        return r + (1 + (debt + qi - 1) / qi) * others;
    }
}
