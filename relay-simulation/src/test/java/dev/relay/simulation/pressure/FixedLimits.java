package dev.relay.simulation.pressure;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The best fixed {@code P} chosen in hindsight: the same scenario run with every fixed limit from 1 to {@code P}
 * and no adaptation.
 */
final class FixedLimits {

    final Duration[] backfill;
    final double[] load;
    int best;

    /**
     * @param permits the largest {@code P} tried
     * @param scenario a fresh scenario each call (the caller's source and workload)
     * @param loadFrom the start of the span whose mean concurrency is recorded, or null
     * @param loadUntil its end
     */
    FixedLimits(int permits, Supplier<PressureScenario> scenario, java.time.Instant loadFrom, java.time.Instant loadUntil) {
        backfill = new Duration[permits + 1];
        load = new double[permits + 1];
        for (int p = 1; p <= permits; p++) {
            PressureScenario s = scenario.get();
            s.permits = p;
            s.run(Duration.ofDays(7));
            backfill[p] = s.backfillTime();
            if (loadFrom != null) {
                load[p] = s.meanConcurrency(loadFrom, loadUntil);
            }
            if (best == 0 || backfill[p].compareTo(backfill[best]) < 0) {
                best = p;
            }
        }
    }

    Duration bestTime() {
        return backfill[best];
    }

    double ratio(Duration d) {
        return (double) d.toNanos() / bestTime().toNanos();
    }

    String table() {
        StringBuilder b = new StringBuilder();
        for (int p = 1; p < backfill.length; p++) {
            b.append(String.format("  fixed P=%d: backfill %s%s%n", p, fmt(backfill[p]),
                    load[p] > 0 ? String.format(", mean pulls on the source during the slow hour %.2f", load[p]) : ""));
        }
        return b.toString();
    }

    static String fmt(Duration d) {
        long s = d.toSeconds();
        return String.format("%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60);
    }
}
