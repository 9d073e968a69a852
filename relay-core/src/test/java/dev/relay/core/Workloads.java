package dev.relay.core;

import dev.relay.core.BoundHarness.Change;
import dev.relay.core.BoundHarness.Job;
import dev.relay.core.BoundHarness.LaneDef;
import dev.relay.core.BoundHarness.Scenario;
import dev.relay.core.BoundHarness.Trigger;
import java.util.SplittableRandom;

/** Scenario generators for the starvation-bound tests, each from a seed. */
final class Workloads {

    private Workloads() {
    }

    /** A cost distribution of one lane. */
    interface CostModel {
        long next(SplittableRandom r);
    }

    static CostModel uniform(long lo, long hi) {
        return r -> lo + (hi > lo ? r.nextLong(hi - lo + 1) : 0);
    }

    /** Lognormal with median {@code median} and shape {@code sigma}, capped. */
    static CostModel lognormal(double median, double sigma, long cap) {
        return r -> Math.min(cap, Math.max(1, Math.round(median * Math.exp(sigma * gaussian(r)))));
    }

    /** Pareto with scale {@code xm} and tail index {@code alpha}: heavy-tailed, capped. */
    static CostModel pareto(double xm, double alpha, long cap) {
        return r -> Math.min(cap, Math.max(1, Math.round(xm / Math.pow(1.0 - r.nextDouble(), 1.0 / alpha))));
    }

    /**
     * Runs of cheap tasks (cost 0 to 2: fast failures, empty windows) that drag the lane's estimate down, then runs of
     * expensive ones near {@code hi}: the estimate lags the cost in both directions.
     */
    static CostModel lagging(long hi) {
        int[] left = {0};
        boolean[] cheap = {true};
        return r -> {
            if (left[0]-- <= 0) {
                cheap[0] = !cheap[0];
                left[0] = cheap[0] ? 3 + r.nextInt(20) : 1 + r.nextInt(8);
            }
            return cheap[0] ? r.nextInt(3) : hi - r.nextLong(Math.max(1, hi / 10));
        };
    }

    static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v);
    }

    /**
     * An adversarial scenario: 1 to 8 permits, 2 to 9 lanes (one in five: 12 to 24), weights up to 100, caps, a
     * dedicated permit, rate limits, heavy-tailed and lagging costs, idle gaps, victim lanes whose tasks arrive right
     * after another lane started one of its most expensive tasks, pauses, limit changes and re-weights.
     *
     * @param seed the seed
     * @return the scenario
     */
    static Scenario adversarial(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int permits = 1 + r.nextInt(8);
        long quantum = 1 + r.nextInt(r.nextBoolean() ? 4 : 40);
        int n = r.nextInt(5) == 0 ? 12 + r.nextInt(13) : 2 + r.nextInt(8);
        Scenario sc = new Scenario("adversarial", permits, quantum);
        sc.seed = seed;
        int victims = 1 + r.nextInt(Math.min(2, n - 1));
        CostModel[] models = new CostModel[n];
        int dedicatedLeft = permits - 1;
        int[] weight = new int[n];
        int[] cap = new int[n];
        int[] dedicated = new int[n];
        double[] rate = new double[n];
        int[] burst = new int[n];
        for (int i = 0; i < n; i++) {
            weight[i] = r.nextInt(4) == 0 ? 1 + r.nextInt(100) : 1 + r.nextInt(8);
            cap[i] = r.nextInt(4) == 0 ? 1 + r.nextInt(permits) : Integer.MAX_VALUE;
            if (dedicatedLeft > 0 && r.nextInt(6) == 0) {
                dedicated[i] = 1;
                dedicatedLeft--;
            }
            if (r.nextInt(8) == 0) {
                rate[i] = 20 + r.nextInt(300);
                burst[i] = 1 + r.nextInt(3);
            }
            long hi = 1 + r.nextInt(r.nextBoolean() ? 50 : 400);
            models[i] = switch (r.nextInt(6)) {
                case 0 -> uniform(r.nextLong(hi + 1), hi);
                case 1 -> lognormal(1 + r.nextInt(30), 0.3 + r.nextDouble() * 1.2, 5_000);
                case 2 -> pareto(1 + r.nextInt(10), 1.05 + r.nextDouble(), 5_000);
                case 3 -> lagging(hi + 5);
                case 4 -> uniform(hi, hi);
                default -> uniform(0, hi);
            };
            int count = 5 + r.nextInt(r.nextInt(3) == 0 ? 300 : 80);
            int pattern = r.nextInt(5);
            long t = r.nextInt(200);
            for (int k = 0; k < count; k++) {
                switch (pattern) {
                    case 0 -> t += r.nextInt(3) == 0 ? r.nextInt(600) : 0; // bursts with gaps: the lane idles and returns
                    case 1 -> t += r.nextInt(40); // trickle
                    case 2 -> t = r.nextInt(3000); // scattered
                    case 3 -> t = 0; // backlogged from the start
                    default -> t += r.nextInt(10) == 0 ? 500 + r.nextInt(2000) : r.nextInt(3); // long idle gaps
                }
                sc.jobs.add(new Job(i, t, models[i].next(r)));
            }
        }
        for (int v = n - victims; v < n; v++) {
            long[] costs = new long[10 + r.nextInt(60)];
            for (int k = 0; k < costs.length; k++) {
                costs[k] = models[v].next(r);
            }
            sc.reactiveCosts.add(costs);
        }
        while (sc.reactiveCosts.size() < n) {
            sc.reactiveCosts.add(0, new long[0]);
        }
        long[] max = sc.trueMax();
        for (int v = n - victims; v < n; v++) {
            for (int j = 0; j < n - victims; j++) {
                if (r.nextInt(3) != 0) {
                    long threshold = Math.max(0, max[j] - max[j] / 5);
                    sc.triggers.add(new Trigger(j, threshold, v, 0.2 + 0.8 * r.nextDouble()));
                }
            }
        }
        // declarations: mostly the true maximum, sometimes above it, sometimes none (with or without a cap)
        for (int i = 0; i < n; i++) {
            long declared = switch (r.nextInt(8)) {
                case 0 -> 0;
                case 1 -> max[i] + r.nextInt(50);
                default -> Math.max(1, max[i]);
            };
            sc.lanes.add(new LaneDef(weight[i], Math.max(cap[i], dedicated[i]), dedicated[i], rate[i], burst[i], declared));
        }
        if (r.nextInt(4) == 0) { // configuration changes: each voids the deadlines set before it
            for (int k = 0, changes = 1 + r.nextInt(4); k < changes; k++) {
                long at = r.nextInt(3000);
                int lane = r.nextInt(n);
                switch (r.nextInt(3)) {
                    case 0 -> {
                        sc.changes.add(new Change(at, "pause", lane, 0));
                        sc.changes.add(new Change(at + 1 + r.nextInt(800), "resume", lane, 0));
                    }
                    case 1 -> {
                        sc.changes.add(new Change(at, "limit", 0, 1 + r.nextInt(permits)));
                        sc.changes.add(new Change(at + 1 + r.nextInt(800), "limit", 0, permits));
                    }
                    default -> sc.changes.add(new Change(at, "weight", lane, 1 + r.nextInt(20)));
                }
            }
            sc.changes.sort((a, b) -> Long.compare(a.at(), b.at()));
        }
        return sc;
    }
}
