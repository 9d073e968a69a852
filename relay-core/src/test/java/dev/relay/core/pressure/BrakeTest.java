package dev.relay.core.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** The brake's polling and time accounting, on a hand-driven clock, control queue and timer. */
class BrakeTest {

    static final Instant T0 = Instant.parse("2024-06-01T00:00:00Z");

    final TestClock clock = new TestClock(T0);
    final List<Runnable> controlQueue = new ArrayList<>();
    final Deque<Runnable> timers = new ArrayDeque<>();
    final List<Duration> delays = new ArrayList<>();
    final Executor control = controlQueue::add;
    final BiConsumer<Duration, Runnable> timer = (d, r) -> {
        delays.add(d);
        timers.add(r);
    };
    final AtomicInteger changes = new AtomicInteger();
    final Deque<Object> answers = new ArrayDeque<>();
    final AtomicInteger checks = new AtomicInteger();

    /** Answers from {@link #answers}: a Verdict, or an Exception to throw. */
    final BrakeCheck scripted = () -> {
        checks.incrementAndGet();
        Object a = answers.poll();
        if (a instanceof Exception e) {
            throw e;
        }
        return (BrakeCheck.Verdict) a;
    };

    PressureControl start(Brake brake) {
        return Pressure.builder().rule(LimitRule.none()).brake(brake).build()
                .start(4, 1, clock, control, timer, changes::incrementAndGet);
    }

    Brake brake(boolean stopOnError) {
        return Brake.builder(scripted).interval(Duration.ofSeconds(5)).stopOnError(stopOnError).executor(Runnable::run).build();
    }

    void runControl() {
        while (!controlQueue.isEmpty()) {
            controlQueue.remove(0).run();
        }
    }

    /** Advances the clock by the interval and fires the next poll, then runs the control turns it caused. */
    void nextPoll() {
        clock.advance(Duration.ofSeconds(5));
        timers.poll().run();
        runControl();
    }

    @Test
    void start_withBrake_isBrakedUntilTheFirstCheckSaysGo() {
        answers.add(BrakeCheck.Verdict.go("sessions 3 ≤ 30"));
        PressureControl c = start(brake(true));
        assertEquals(0, c.limit(), "braked before the first answer");
        assertTrue(c.snapshot().brake().braked());
        assertEquals("waiting for the first brake check", c.snapshot().brake().reason());
        assertEquals(1, checks.get(), "the first check runs at start");
        clock.advance(Duration.ofMillis(300));
        runControl();
        assertEquals(4, c.limit());
        assertEquals(1, changes.get());
        assertEquals(Duration.ofMillis(300), c.timeBraked());
        assertEquals(List.of(Duration.ofSeconds(5)), delays, "next check an interval after the answer");
    }

    @Test
    void verdicts_stopThenGo_brakeAndCountTheTime() {
        answers.add(BrakeCheck.Verdict.go("ok"));
        PressureControl c = start(brake(true));
        runControl();
        answers.add(BrakeCheck.Verdict.stop("active sessions 42 > 30"));
        answers.add(BrakeCheck.Verdict.stop("active sessions 40 > 30"));
        answers.add(BrakeCheck.Verdict.go("active sessions 12 ≤ 30"));
        nextPoll();
        assertEquals(0, c.limit());
        assertEquals(2, changes.get());
        PressureSnapshot.BrakeStatus s = c.snapshot().brake();
        assertTrue(s.braked());
        assertEquals(T0.plusSeconds(5), s.since());
        assertEquals("active sessions 42 > 30", s.reason());
        nextPoll();
        assertEquals(0, c.limit());
        assertEquals(Duration.ofSeconds(5), c.timeBraked(), "the open spell counts");
        nextPoll();
        assertEquals(4, c.limit());
        assertEquals(3, changes.get(), "a change per transition, none per repeated verdict");
        s = c.snapshot().brake();
        assertFalse(s.braked());
        assertEquals(Duration.ofSeconds(10), s.timeBraked());
        assertEquals(2, s.spells(), "the start and one stop");
        assertEquals(4, s.checks());
        clock.advance(Duration.ofHours(1));
        assertEquals(Duration.ofSeconds(10), c.timeBraked(), "closed spells only");
    }

    @Test
    void failingCheck_stopsByDefault() {
        answers.add(BrakeCheck.Verdict.go("ok"));
        PressureControl c = start(brake(true));
        runControl();
        answers.add(new java.io.IOException("connection refused"));
        nextPoll();
        assertEquals(0, c.limit());
        assertTrue(c.snapshot().brake().reason().contains("connection refused"), c.snapshot().brake().reason());
        assertEquals(1, c.snapshot().brake().errors());
    }

    @Test
    void failingCheck_goesOnWhenStopOnErrorIsOff() {
        answers.add(new IllegalStateException("endpoint gone"));
        PressureControl c = start(brake(false));
        runControl();
        assertEquals(4, c.limit());
        assertTrue(c.snapshot().brake().reason().contains("going on"), c.snapshot().brake().reason());
    }

    @Test
    void nullVerdict_isAnError() {
        answers.add(BrakeCheck.Verdict.go("ok"));
        PressureControl c = start(brake(true));
        runControl();
        nextPoll(); // the script is empty: the check returns null
        assertEquals(0, c.limit());
        assertTrue(c.snapshot().brake().reason().contains("returned null"));
    }

    @Test
    void close_stopsPolling() {
        answers.add(BrakeCheck.Verdict.go("ok"));
        PressureControl c = start(brake(true));
        runControl();
        c.close();
        timers.poll().run();
        runControl();
        assertEquals(1, checks.get(), "no check after close");
        assertTrue(timers.isEmpty());
        c.close();
    }

    @Test
    void closeDuringACheck_dropsItsVerdict() {
        answers.add(BrakeCheck.Verdict.go("ok"));
        PressureControl c = start(brake(true));
        c.close();
        runControl();
        assertEquals(0, c.limit(), "a verdict after close changes nothing");
        assertTrue(timers.isEmpty());
    }

    @Test
    void rejectingExecutor_isACheckError() {
        Executor rejecting = r -> {
            throw new java.util.concurrent.RejectedExecutionException("pool shut down");
        };
        PressureControl c = start(Brake.builder(scripted).executor(rejecting).build());
        assertEquals(0, c.limit());
        assertEquals(1, c.snapshot().brake().errors());
        assertEquals(1, timers.size(), "polling goes on");
    }

    @Test
    void builder_badInterval_failsNamingIt() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Brake.builder(scripted).interval(Duration.ofMillis(1)))
                .getMessage().contains("PT0.001S"));
    }

    @Test
    void defaultExecutor_runsChecksOnItsOwnThreadAndStopsAtClose() throws Exception {
        answers.add(BrakeCheck.Verdict.go("ok"));
        java.util.concurrent.CountDownLatch delivered = new java.util.concurrent.CountDownLatch(1);
        List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        BrakeCheck named = () -> {
            threads.add(Thread.currentThread().getName());
            return scripted.check();
        };
        Executor signalling = r -> {
            controlQueue.add(r);
            delivered.countDown();
        };
        PressureControl c = Pressure.builder().brake(Brake.builder(named).build()).build()
                .start(2, 1, clock, runnable -> {
                    synchronized (controlQueue) {
                        signalling.execute(runnable);
                    }
                }, timer, () -> { });
        assertTrue(delivered.await(30, java.util.concurrent.TimeUnit.SECONDS), "the check answered");
        synchronized (controlQueue) {
            runControl();
        }
        assertEquals(List.of("relay-brake"), threads);
        assertEquals(1, c.limit());
        c.close();
    }
}
