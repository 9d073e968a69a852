package dev.relay.simulation.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.core.pressure.Pressure;
import dev.relay.core.pressure.PressureSnapshot;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A source whose pull time grows with concurrency above a knee ({@link KneeSource}: knee 4, contention 0.25, 2 s
 * per 1,000 rows unloaded — a 10,000-row window takes 20 s alone, 31 s at 5 pulls, 80 s at 8), a relay configured
 * with {@code P = 8} (twice the knee, as a hand-chosen ceiling might be), 2,000 backfill windows, realtime windows
 * every 10 minutes and config snapshots at 00:30 and 01:30. The real scheduler and the real pressure control run on
 * virtual time; every fixed {@code P} from 1 to 8 runs the same workload for the best-in-hindsight comparison.
 */
class KneeSourceSimulationTest {

    static final int KNEE = 4;
    static final int P = 8;
    /** Stated: {@code P_eff} is within [knee, knee + 1] for good from this completion on (measured: 10). */
    static final long CONVERGED_WITHIN = 20;
    /** Stated: the backfill takes at most this factor of the best fixed {@code P}'s time (measured: 1.13). */
    static final double FACTOR = 1.25;

    static PressureScenario scenario() {
        return new PressureScenario(KneeSource.steady(KNEE, 0.25, 2.0));
    }

    @Test
    void aimd_sourceWithAKnee_convergesToTheKneeAndNeverExceedsP() {
        FixedLimits fixed = new FixedLimits(P, KneeSourceSimulationTest::scenario, null, null);
        PressureScenario a = scenario();
        a.permits = P;
        a.pressure = Pressure.builder().build();
        a.run(Duration.ofDays(7));

        long converged = a.convergedAfter(KNEE, KNEE + 1, a.completions);
        int[] range = a.rangeFrom(converged);
        double ratio = fixed.ratio(a.backfillTime());
        PressureSnapshot snap = a.control.snapshot();
        System.out.printf("%nKnee source (knee %d, P %d), AIMD %s:%n%s", KNEE, P, snap.rule(), fixed.table());
        System.out.printf("  adaptive: backfill %s = %.3f x the best fixed P (P=%d; fixed P=%d: %.2f x)%n",
                FixedLimits.fmt(a.backfillTime()), ratio, fixed.best, P, fixed.ratio(fixed.backfill[P]));
        System.out.printf("  P_eff: in [%d, %d] from completion %d of %d on; mean %.2f; %d rises, %d falls, %d stale pulls; trace %s%n",
                range[0], range[1], converged, a.completions, a.meanLimit(PressureScenario.T0, a.backfillDone),
                snap.increases(), snap.decreases(), snap.stale(), a.traceSummary(14));
        System.out.printf("  most pulls at once %d; config: worst wait %s, at most %.0f %% of its bound%n",
                a.maxInUse, FixedLimits.fmt(a.worstWait(2)), 100 * a.worstBoundUse(2));

        assertEquals(KNEE, fixed.best, "the model's best fixed P is its knee");
        assertTrue(a.trace.stream().allMatch(p -> p.limit() >= 1 && p.limit() <= P), "P_eff within [1, P]");
        assertTrue(a.maxInUse <= P, "more than P pulls at once: " + a.maxInUse);
        assertEquals(0, a.startsAboveLimit, "a pull started while P_eff or more were running");
        assertTrue(converged <= CONVERGED_WITHIN, "P_eff settled in [knee, knee+1] only after completion " + converged);
        assertEquals(KNEE, range[0]);
        assertEquals(KNEE + 1, range[1]);
        assertTrue(ratio <= FACTOR, "backfill took " + ratio + " x the best fixed P");
        assertTrue(a.boundViolations().isEmpty(), "starvation bound: " + a.boundViolations());
        for (int lane = 0; lane < PressureScenario.LANES.length; lane++) {
            assertEquals(0, a.unbounded(lane), "a task of " + PressureScenario.LANES[lane] + " waited without a bound");
        }
        assertEquals(2 * PressureScenario.CONFIG_TABLES, a.waits.stream().filter(w -> w.job().lane() == 2).count());
    }
}
