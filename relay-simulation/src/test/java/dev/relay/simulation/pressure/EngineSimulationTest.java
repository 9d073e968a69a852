package dev.relay.simulation.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.core.RelaySnapshot;
import dev.relay.core.pressure.Brake;
import dev.relay.core.pressure.BrakeCheck;
import dev.relay.core.pressure.Pressure;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The pressure control inside the real engine ({@link dev.relay.core.Relay#builder()}{@code .pressure(…)}), on
 * virtual time: the knee source of {@link KneeSourceSimulationTest}, 600 backfill windows, realtime windows
 * every 10 minutes, config snapshots at 00:30.
 */
class EngineSimulationTest {

    static final int KNEE = 4;
    static final int P = 8;
    /** Stated, as for the scheduler-level run: within [knee, knee + 1] for good from this completion on. */
    static final long CONVERGED_WITHIN = 20;
    /** Stated: the backfill takes at most this factor of the best fixed {@code P}'s time. */
    static final double FACTOR = 1.25;

    @Test
    void relayWithAimd_kneeSource_convergesAndNeverStartsAboveTheLimit() {
        KneeSource source = KneeSource.steady(KNEE, 0.25, 2.0);
        Duration best = null;
        int bestP = 0;
        for (int p = KNEE - 1; p <= KNEE + 1; p++) { // the knee's neighbours (the scheduler-level run tries every P)
            EngineScenario f = new EngineScenario(source);
            f.permits = p;
            f.backfillTasks = 600;
            f.run();
            if (best == null || f.backfillTime().compareTo(best) < 0) {
                best = f.backfillTime();
                bestP = p;
            }
        }
        EngineScenario a = new EngineScenario(source);
        a.backfillTasks = 600;
        a.pressure = Pressure.builder().build();
        a.run();
        RelaySnapshot snap = a.relay.snapshot();
        long converged = a.convergedAfter(KNEE, KNEE + 1);
        double ratio = (double) a.backfillTime().toNanos() / best.toNanos();
        System.out.printf("%nEngine, knee source (knee %d, P %d): best fixed P=%d %s; adaptive %s = %.3f x; P_eff in [%d, %d] from "
                + "completion %d of %d on; %d rises, %d falls; most permits at once %d%n", KNEE, P, bestP, FixedLimits.fmt(best),
                FixedLimits.fmt(a.backfillTime()), ratio, KNEE, KNEE + 1, converged, a.completions, snap.pressure().increases(),
                snap.pressure().decreases(), snap.maxPermitsInUse());

        assertEquals(KNEE, bestP);
        assertTrue(snap.maxPermitsInUse() <= P);
        for (EngineScenario.Start s : a.starts) {
            assertTrue(s.inUse() <= s.limit(), "started " + s.task().id() + " with " + s.inUse() + " in use above P_eff " + s.limit());
        }
        assertTrue(converged <= CONVERGED_WITHIN, "converged after " + converged);
        assertTrue(ratio <= FACTOR, "backfill " + ratio + " x the best fixed P");
        assertEquals(snap.pressure().limit(), snap.permitLimit(), "the relay uses P_eff");
        assertTrue(snap.pressure().samples() >= a.completions);
        assertTrue(snap.pressure().baselines().containsKey("vds30sec"));
    }

    @Test
    void relayWithBrake_batchHour_startsNothingWhileBrakedNotEvenOnDedicatedPermits() {
        Instant on = EngineScenario.T0.plus(Duration.ofMinutes(20));
        Instant off = EngineScenario.T0.plus(Duration.ofMinutes(50));
        EngineScenario[] self = new EngineScenario[1];
        BrakeCheck dba = () -> {
            Instant now = self[0].sim.now();
            return now.isBefore(on) || !now.isBefore(off) ? BrakeCheck.Verdict.go("no batch job") : BrakeCheck.Verdict.stop("batch job");
        };
        EngineScenario b = new EngineScenario(KneeSource.steady(KNEE, 0.25, 2.0));
        self[0] = b;
        b.configDedicated = 1;
        b.backfillTasks = 400;
        b.pressure = Pressure.builder().brake(Brake.builder(dba).interval(Duration.ofSeconds(15)).executor(r -> self[0].sim.workers()
                .execute(r)).build()).build();
        b.run();
        RelaySnapshot snap = b.relay.snapshot();
        var brake = snap.pressure().brake();
        long startedWhileBraked = b.starts.stream().filter(s -> !s.at().isBefore(on.plusSeconds(15)) && s.at().isBefore(off)).count();
        Instant firstConfig = b.starts.stream().filter(s -> s.task().lane().equals("config")).map(EngineScenario.Start::at)
                .min(Instant::compareTo).orElseThrow();
        System.out.printf("%nEngine with a brake 00:20-00:50 (check every 15 s): braked %s in %d spells; starts while braked %d; "
                + "the first config snapshot of 00:30 started at %s; floor %d; config's dedicated permits %d%n",
                FixedLimits.fmt(brake.timeBraked()), brake.spells(), startedWhileBraked, firstConfig, snap.pressure().floor(),
                snap.lane("config").orElseThrow().dedicatedPermits());

        assertTrue(b.starts.stream().noneMatch(EngineScenario.Start::braked), "a pull started while braked");
        assertEquals(0, startedWhileBraked);
        assertEquals(off, firstConfig, "config (a dedicated permit) waited for the brake, then started at once");
        assertTrue(brake.timeBraked().compareTo(Duration.ofMinutes(30)) >= 0
                && brake.timeBraked().compareTo(Duration.ofMinutes(31)) <= 0, "braked " + brake.timeBraked());
        assertEquals(2, snap.pressure().floor(), "one lane with a dedicated permit: floor 2");
        assertEquals(1, snap.lane("config").orElseThrow().dedicatedPermits());
        assertTrue(snap.maxPermitsInUse() <= P);
    }
}
