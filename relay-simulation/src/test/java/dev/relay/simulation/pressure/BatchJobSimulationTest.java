package dev.relay.simulation.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.core.pressure.Brake;
import dev.relay.core.pressure.BrakeCheck;
import dev.relay.core.pressure.Pressure;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The knee source of {@link KneeSourceSimulationTest} with a batch job from 01:00 to 02:00: every pull takes three
 * times longer and the knee falls to 2 (the batch job holds the rest). The relay must back off during the hour,
 * come back up after it, never exceed {@code P}, keep the config lane within its bound, and lose little backfill
 * time against the best fixed {@code P}. A second run stops it with a brake instead (a DBA's check that says stop
 * during the hour), polled on virtual time.
 */
class BatchJobSimulationTest {

    static final int KNEE = 4;
    static final int P = 8;
    static final Instant BATCH_START = PressureScenario.T0.plus(Duration.ofHours(1));
    static final Instant BATCH_END = PressureScenario.T0.plus(Duration.ofHours(2));
    /** Stated: within this many completions of the batch's start {@code P_eff} is at most 2 (measured: 11). */
    static final long BACKS_OFF_WITHIN = 20;
    /** Stated: within this many completions of the batch's end {@code P_eff} is back in [knee, knee+1] for good (measured: 10). */
    static final long RECOVERS_WITHIN = 30;
    /** Stated: the backfill takes at most this factor of the best fixed {@code P}'s time (measured: 1.09). */
    static final double FACTOR = 1.25;

    static PressureScenario scenario() {
        return new PressureScenario(KneeSource.steady(KNEE, 0.25, 2.0).slowBetween(BATCH_START, BATCH_END, 2, 3.0));
    }

    @Test
    void aimd_batchJob_backsOffForTheHourAndComesBack() {
        FixedLimits fixed = new FixedLimits(P, BatchJobSimulationTest::scenario, BATCH_START, BATCH_END);
        PressureScenario a = scenario();
        a.pressure = Pressure.builder().build();
        a.run(Duration.ofDays(7));

        long atStart = a.completionsBy(BATCH_START);
        long atEnd = a.completionsBy(BATCH_END);
        long backedOff = a.trace.stream().filter(p -> p.completion() > atStart && p.limit() <= 2).mapToLong(PressureScenario.Point::completion)
                .findFirst().orElse(Long.MAX_VALUE) - atStart;
        long recovered = a.convergedAfter(KNEE, KNEE + 1, a.completions) - atEnd;
        double load = a.meanConcurrency(BATCH_START, BATCH_END);
        double ratio = fixed.ratio(a.backfillTime());
        System.out.printf("%nBatch job 01:00-02:00 (pulls 3x slower, knee 2) on the knee source (knee %d, P %d):%n%s", KNEE, P,
                fixed.table());
        System.out.printf("  adaptive: backfill %s = %.3f x the best fixed P (P=%d); mean pulls on the source during the batch "
                + "%.2f (best fixed P: %.2f)%n", FixedLimits.fmt(a.backfillTime()), ratio, fixed.best, load, fixed.load[fixed.best]);
        System.out.printf("  P_eff <= 2 after %d completions of the batch; back in [%d, %d] %d completions after it; mean P_eff "
                + "before %.2f, during %.2f, after %.2f%n", backedOff, KNEE, KNEE + 1, recovered,
                a.meanLimit(PressureScenario.T0.plus(Duration.ofMinutes(10)), BATCH_START), a.meanLimit(BATCH_START, BATCH_END),
                a.meanLimit(BATCH_END, a.backfillDone));
        System.out.printf("  config: worst wait %s, at most %.0f %% of its bound%n", FixedLimits.fmt(a.worstWait(2)),
                100 * a.worstBoundUse(2));

        assertTrue(a.trace.stream().allMatch(p -> p.limit() >= 1 && p.limit() <= P));
        assertTrue(a.maxInUse <= P);
        assertEquals(0, a.startsAboveLimit);
        assertTrue(backedOff <= BACKS_OFF_WITHIN, "backed off after " + backedOff + " completions");
        assertTrue(load < 2, "relay kept " + load + " pulls on the source during the batch job");
        assertTrue(recovered >= 0 && recovered <= RECOVERS_WITHIN, "recovered " + recovered + " completions after the batch");
        assertTrue(ratio <= FACTOR, "backfill took " + ratio + " x the best fixed P");
        assertTrue(a.boundViolations().isEmpty(), "starvation bound: " + a.boundViolations());
        for (int lane = 0; lane < PressureScenario.LANES.length; lane++) {
            assertEquals(0, a.unbounded(lane), "a task of " + PressureScenario.LANES[lane] + " waited without a bound");
        }
    }

    @Test
    void brake_batchJob_startsNothingWhileBrakedAndInFlightPullsFinish() {
        Duration interval = Duration.ofSeconds(10);
        PressureScenario b = scenario();
        // the DBA's check, on the simulation's clock: stop while the batch job runs
        BrakeCheck dba = () -> {
            Instant now = b.now();
            return now.isBefore(BATCH_START) || !now.isBefore(BATCH_END) ? BrakeCheck.Verdict.go("no batch job")
                    : BrakeCheck.Verdict.stop("batch job running");
        };
        b.pressure = Pressure.builder().brake(Brake.builder(dba).interval(interval).executor(b::work).build()).build();
        b.run(Duration.ofDays(7));

        var brake = b.control.snapshot().brake();
        assertEquals(2, b.spells.size(), "the start (until the first check) and the batch hour");
        Instant on = b.spells.get(1)[0];
        Instant off = b.spells.get(1)[1];
        long inFlightAtOn = b.pulls.stream().filter(p -> p.start().isBefore(on) && p.end().isAfter(on)).count();
        Instant lastEnd = b.pulls.stream().filter(p -> p.start().isBefore(on) && p.end().isAfter(on)).map(PressureScenario.Pull::end)
                .max(Instant::compareTo).orElse(on);
        long startedWhileBraked = b.pulls.stream().filter(p -> !p.start().isBefore(on) && p.start().isBefore(off)).count();
        System.out.printf("%nBrake during the batch job (check every %ds, AIMD on): braked %s to %s (%s in all, %d checks); "
                + "%d pulls in flight when it went on, the last finished at %s; pulls started while braked: %d; backfill %s; "
                + "config worst wait %s%n", interval.toSeconds(), on, off, FixedLimits.fmt(brake.timeBraked()), brake.checks(),
                inFlightAtOn, lastEnd, startedWhileBraked, FixedLimits.fmt(b.backfillTime()), FixedLimits.fmt(b.worstWait(2)));

        assertEquals(0, startedWhileBraked, "a pull started while braked");
        assertEquals(0, b.startsWhileBraked);
        assertTrue(!on.isBefore(BATCH_START) && on.isBefore(BATCH_START.plus(interval).plusSeconds(1)), "brake on at " + on);
        assertTrue(!off.isBefore(BATCH_END) && off.isBefore(BATCH_END.plus(interval).plusSeconds(1)), "brake off at " + off);
        assertTrue(inFlightAtOn > 0, "the brake went on while pulls ran");
        assertTrue(lastEnd.isAfter(on), "pulls in flight ran to their end after the brake went on");
        assertTrue(b.pulls.stream().anyMatch(p -> !p.start().isBefore(off) && p.start().isBefore(off.plusSeconds(1))),
                "pulls start again at once when the brake goes off");
        assertTrue(brake.timeBraked().compareTo(Duration.between(on, off)) >= 0);
        assertTrue(b.maxInUse <= P);
        assertEquals(0, b.startsAboveLimit);
        assertTrue(b.boundViolations().isEmpty(), "starvation bound (evaluated anew when the brake went off): " + b.boundViolations());
        assertEquals(0, b.unbounded(2), "a config task started without a bound: " + b.waits.stream()
                .filter(w -> w.job().lane() == 2 && w.deadline() == null).toList());
        assertTrue(b.waits.stream().filter(w -> w.job().lane() == 2 && w.started().isAfter(off.minusSeconds(1)))
                .allMatch(w -> w.deadline() != null && !w.evaluated().isBefore(off)), "the config tasks that waited out the brake had a "
                + "bound from its end");
    }
}
