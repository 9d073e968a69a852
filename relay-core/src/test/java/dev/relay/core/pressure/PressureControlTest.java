package dev.relay.core.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PressureControlTest {

    static final Instant T0 = Instant.parse("2024-06-01T00:00:00Z");
    static final Duration WINDOW = Duration.ofMinutes(10);

    final TestClock clock = new TestClock(T0);

    PressureControl start(Pressure p, int permits, int floor) {
        return p.start(permits, floor, clock, Runnable::run, (d, r) -> { }, () -> { });
    }

    /** AIMD stepping one permit up per healthy pull and 0.9 down, so that each verdict shows. */
    static final AimdRule STEP = AimdRule.builder().increase(1).backoff(0.9).build();

    PressureControl aimd(int permits) {
        return start(Pressure.builder().rule(STEP).build(), permits, 1);
    }

    /** A successful pull of 10,000 rows that started at {@code started} and took {@code seconds}. */
    static PullSample pull(Instant started, double seconds, boolean atLimit) {
        return new PullSample("vds30sec", started, Duration.ofMillis((long) (seconds * 1000)), 10_000, WINDOW,
                PullSample.Outcome.SUCCESS, atLimit);
    }

    /** Completes a pull that started now and took {@code seconds}: moves the clock to its end. */
    boolean complete(PressureControl c, double seconds, boolean atLimit) {
        Instant started = clock.instant();
        clock.advance(Duration.ofMillis((long) (seconds * 1000)));
        return c.record(pull(started, seconds, atLimit));
    }

    @Test
    void start_adaptive_startsAtTheFloor() {
        assertEquals(1, aimd(8).limit());
        assertEquals(3, start(Pressure.builder().build(), 8, 3).limit());
        assertEquals(5, start(Pressure.builder().initialLimit(5).build(), 8, 1).limit());
    }

    @Test
    void start_off_isP() {
        PressureControl c = start(Pressure.off(), 6, 1);
        assertEquals(6, c.limit());
        for (int i = 0; i < 5; i++) {
            complete(c, 100, true);
        }
        assertEquals(6, c.limit(), "the fixed rule never moves");
    }

    @Test
    void record_firstPullOfASource_learnsWithoutMoving() {
        PressureControl c = aimd(8);
        assertFalse(complete(c, 20, true));
        assertEquals(1, c.limit());
        PressureSnapshot s = c.snapshot();
        assertTrue(Double.isNaN(s.lastRatio()));
        assertEquals(2.0, s.baselines().get("vds30sec"), 1e-9, "20 s for 10,000 rows = 2 s per 1,000 rows");
        assertTrue(complete(c, 20, true), "the second pull is a verdict");
        assertEquals(2, c.limit());
    }

    @Test
    void record_healthyPullsAtTheLimit_raiseOneStepPerGeneration() {
        PressureControl c = aimd(8);
        complete(c, 20, true);
        complete(c, 20, true);
        assertEquals(2, c.limit());
        // two pulls that started before the rise end healthy: they ran under the old limit, they do not count
        Instant before = clock.instant().minusSeconds(5);
        assertFalse(c.record(pull(before, 20, true)));
        assertFalse(c.record(pull(before, 20, true)));
        assertEquals(2, c.limit());
        assertEquals(2, c.snapshot().stale());
        // a pull started under the new limit confirms it
        assertTrue(complete(c, 20, true));
        assertEquals(3, c.limit());
    }

    @Test
    void record_healthyPullBelowTheLimit_holds() {
        PressureControl c = aimd(8);
        complete(c, 20, true);
        complete(c, 20, false);
        assertEquals(1, c.limit(), "permits idled: no evidence for more");
    }

    @Test
    void record_slowGeneration_lowersOnce() {
        PressureControl c = start(Pressure.builder().rule(STEP).initialLimit(6).build(), 8, 1);
        complete(c, 20, true);
        Instant generation = clock.instant();
        clock.advance(Duration.ofSeconds(40));
        assertTrue(c.record(pull(generation, 40, true)), "2x slower than the baseline");
        assertEquals(5, c.limit(), "6 * 0.9 = 5.4");
        for (int i = 0; i < 4; i++) {
            assertFalse(c.record(pull(generation, 40, true)), "the rest of the slow generation");
        }
        assertEquals(5, c.limit());
        assertEquals(1, c.snapshot().decreases());
        assertEquals(2.0, c.snapshot().lastRatio(), 1e-9);
    }

    @Test
    void record_defaultAimd_stepsUpEverySecondHealthyPullAndFallsByAFifth() {
        PressureControl c = start(Pressure.builder().build(), 8, 1);
        complete(c, 20, true);
        assertFalse(complete(c, 20, true), "1.5");
        assertTrue(complete(c, 20, true), "2.0");
        assertEquals(2, c.limit());
        assertFalse(complete(c, 20, true));
        assertTrue(complete(c, 20, true));
        assertEquals(3, c.limit());
        assertTrue(complete(c, 40, true), "slow: 3 * 0.8 = 2.4");
        assertEquals(2, c.limit());
        assertEquals(2.4, c.snapshot().ruleLimit(), 1e-9);
    }

    @Test
    void record_sourceTimeout_lowers() {
        PressureControl c = start(Pressure.builder().initialLimit(4).build(), 8, 1);
        Instant started = clock.instant();
        clock.advance(Duration.ofMinutes(5));
        assertTrue(c.record(new PullSample("vds30sec", started, Duration.ofMinutes(5), 0, WINDOW, PullSample.Outcome.SOURCE_TIMEOUT,
                false)));
        assertEquals(3, c.limit());
        assertEquals(1, c.snapshot().timeouts());
        assertTrue(c.snapshot().baselines().isEmpty(), "a timeout teaches no baseline");
    }

    @Test
    void record_otherFailure_isIgnored() {
        PressureControl c = start(Pressure.builder().initialLimit(4).build(), 8, 1);
        Instant started = clock.instant();
        assertFalse(c.record(new PullSample("vds30sec", started, Duration.ofSeconds(1), 0, WINDOW, PullSample.Outcome.FAILED, true)));
        assertEquals(4, c.limit());
        assertEquals(1, c.snapshot().samples());
    }

    @Test
    void record_smallPull_isNotMeasuredUnderRows() {
        PressureControl c = aimd(8);
        complete(c, 20, true);
        Instant started = clock.instant();
        clock.advance(Duration.ofSeconds(30));
        c.record(new PullSample("vds30sec", started, Duration.ofSeconds(30), 10, WINDOW, PullSample.Outcome.SUCCESS, true));
        assertEquals(1, c.limit(), "10 rows: overhead, not evidence");
    }

    @Test
    void record_windowMinutes_measuresEmptyWindowsButNotSnapshots() {
        PressureControl c = start(Pressure.builder().costBasis(CostBasis.WINDOW_MINUTES).build(), 8, 1);
        Instant s = clock.instant();
        clock.advance(Duration.ofSeconds(20));
        c.record(new PullSample("vds30sec", s, Duration.ofSeconds(20), 0, WINDOW, PullSample.Outcome.SUCCESS, true));
        assertEquals(2.0, c.snapshot().baselines().get("vds30sec"), 1e-9, "20 s for 10 window-minutes");
        assertEquals("s/window-minute", c.snapshot().unit());
        c.record(new PullSample("PEMS.CONFIG", s, Duration.ofSeconds(20), 500, Duration.ZERO, PullSample.Outcome.SUCCESS, true));
        assertFalse(c.snapshot().baselines().containsKey("PEMS.CONFIG"));
    }

    @Test
    void floor_raisedAboveTheLimit_liftsIt() {
        PressureControl c = aimd(8);
        assertTrue(c.floor(3));
        assertEquals(3, c.limit());
        assertFalse(c.floor(2), "lowering the floor lowers nothing");
        assertEquals(3, c.limit());
        assertTrue(c.floor(20));
        assertEquals(8, c.limit(), "the floor is capped at P");
        assertThrows(IllegalArgumentException.class, () -> c.floor(0));
    }

    @Test
    void record_ruleReturningNaN_failsNamingTheRule() {
        LimitRule broken = new LimitRule() {
            @Override
            public double next(double limit, Signal signal) {
                return Double.NaN;
            }

            @Override
            public String toString() {
                return "broken rule";
            }
        };
        PressureControl c = start(Pressure.builder().rule(broken).build(), 4, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> complete(c, 1, true));
        assertTrue(e.getMessage().contains("broken rule"), e.getMessage());
    }

    @Test
    void customRule_isPluggable() {
        // a rule that jumps straight to the ceiling on any healthy measurement and to the floor on any slow one
        LimitRule bang = (limit, signal) -> !signal.measured() ? limit : signal.ratio() > 1.2 ? 0 : 1e9;
        PressureControl c = start(Pressure.builder().rule(bang).build(), 7, 2);
        complete(c, 10, true);
        complete(c, 10, true);
        assertEquals(7, c.limit(), "clamped to P");
        complete(c, 30, true);
        assertEquals(2, c.limit(), "clamped to the floor");
    }

    @Test
    void validate_limitsAboveP_failAtBuildOfTheRelay() {
        Pressure p = Pressure.builder().minLimit(3).initialLimit(5).build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p.validate(4)).getMessage().contains("initialLimit 5"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p.validate(2)).getMessage().contains("minLimit 3"));
        assertThrows(IllegalArgumentException.class, () -> Pressure.builder().minLimit(4).initialLimit(2).build());
        assertThrows(IllegalArgumentException.class, () -> Pressure.builder().baselineWindow(Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> Pressure.builder().minRows(0));
    }

    @Test
    void isSourceTimeout_recognisesTimeoutsThroughCausesAndRedaction() {
        assertTrue(Pressure.isSourceTimeout(new RuntimeException(new SQLTimeoutException("slow"))));
        assertTrue(Pressure.isSourceTimeout(new RuntimeException("pull", new SQLException("canceled", "57014"))));
        assertTrue(Pressure.isSourceTimeout(new SQLException("ORA-01013: user requested cancel", "72000", 1013)));
        SQLException chained = new SQLException("batch", "XX000");
        chained.setNextException(new SQLTimeoutException("inner"));
        assertTrue(Pressure.isSourceTimeout(chained));
        assertTrue(Pressure.isSourceTimeout(new java.net.SocketTimeoutException("read timed out")));
        assertFalse(Pressure.isSourceTimeout(new RuntimeException("sink down", new SQLException("duplicate key", "23505"))));
        assertFalse(Pressure.isSourceTimeout(null));
        PressureControl c = aimd(2);
        assertEquals(PullSample.Outcome.SOURCE_TIMEOUT, c.outcomeOf(new SQLTimeoutException("slow")));
        assertEquals(PullSample.Outcome.FAILED, c.outcomeOf(new IllegalStateException("boom")));
    }

    @Test
    void record_anySequence_staysWithinFloorAndP() {
        qt().withExamples(150).forAll(longs().all(), integers().between(1, 16), integers().between(1, 16))
                .checkAssert((seed, permits, floorWanted) -> {
                    TestClock clk = new TestClock(T0);
                    PressureControl c = Pressure.builder().build().start(permits, floorWanted, clk, Runnable::run, (d, r) -> { }, () -> { });
                    int floor = Math.min(permits, floorWanted);
                    SplittableRandom r = new SplittableRandom(seed);
                    for (int i = 0; i < 200; i++) {
                        Instant started = clk.instant().minusSeconds(r.nextInt(60));
                        clk.advance(Duration.ofSeconds(r.nextInt(30)));
                        PullSample.Outcome o = PullSample.Outcome.values()[r.nextInt(3)];
                        c.record(new PullSample("q" + r.nextInt(3), started, Duration.ofMillis(r.nextInt(60_000)),
                                r.nextInt(50_000), WINDOW, o, r.nextBoolean()));
                        if (r.nextInt(20) == 0) {
                            floor = Math.min(permits, 1 + r.nextInt(permits));
                            c.floor(floor);
                        }
                        assertTrue(c.limit() >= floor && c.limit() <= permits,
                                "seed " + seed + ": P_eff " + c.limit() + " outside [" + floor + ", " + permits + "]");
                    }
                });
    }
}
