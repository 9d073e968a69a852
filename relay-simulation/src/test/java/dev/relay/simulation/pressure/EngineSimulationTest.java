package dev.relay.simulation.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.PullException;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Puller;
import dev.relay.api.RowCursor;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.core.RelaySnapshot;
import dev.relay.core.pressure.Brake;
import dev.relay.core.pressure.BrakeCheck;
import dev.relay.core.pressure.Pressure;
import dev.relay.inmemory.InMemoryTaskQueue;
import dev.relay.simulation.Simulation;
import java.sql.SQLTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.Map;
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

    @Test
    void relayWithAimd_sourceTimeouts_lowerTheLimit() {
        // the knee source with a 60 s query timeout: a pull the model makes longer (7 or more at once: 20 s x 1.75
        // x 1.75 = 61 s) fails with a timeout after 60 s. The relay starts at P_eff = P = 8, where the pulls started
        // as the 7th and 8th at once time out.
        KneeSource source = KneeSource.steady(KNEE, 0.25, 2.0);
        Duration queryTimeout = Duration.ofSeconds(60);
        Simulation sim = new Simulation(EngineScenario.T0, 11);
        java.util.PriorityQueue<Instant> ends = new java.util.PriorityQueue<>();
        Map<String, Boolean> timesOut = new HashMap<>();
        Puller inner = sim.puller(task -> {
            Instant now = sim.now();
            while (!ends.isEmpty() && !ends.peek().isAfter(now)) {
                ends.poll();
            }
            Duration d = Duration.ofNanos((long) (source.seconds(ends.size() + 1, 10_000, now) * 1e9));
            boolean timeout = d.compareTo(queryTimeout) > 0;
            timesOut.put(task.id(), timeout);
            d = timeout ? queryTimeout : d;
            ends.add(now.plus(d));
            return d;
        }, t -> 10_000);
        Puller puller = task -> {
            RowCursor c = inner.open(task);
            if (timesOut.get(task.id())) {
                c.close();
                throw new PullException("pull of " + task.id() + " timed out", new SQLTimeoutException("query timeout"));
            }
            return c;
        };
        Relay[] self = new Relay[1];
        java.util.List<long[]> limits = new java.util.ArrayList<>(); // (completions so far, P_eff) at every start
        InMemoryTaskQueue queue = sim.queue();
        Relay relay = Relay.builder().queue(queue).puller(puller).sink(sim.sink())
                .lane(LaneSpec.builder("backfill").retryPolicy(RetryPolicy.builder().maxAttempts(10).build()).build())
                .sourcePermits(P).pressure(Pressure.builder().initialLimit(P).build())
                .clock(sim.clock()).control(sim.control()).workers(sim.workers()).random(sim.random())
                .idlePollInterval(Duration.ofMinutes(1)).listener(new dev.relay.core.RelayListener() {
                    @Override
                    public void started(Task task, Instant at, Duration waited, int permitsInUse) {
                        RelaySnapshot s = self[0].snapshot();
                        limits.add(new long[] {s.completed(), s.pressure().limit()});
                    }
                }).build();
        self[0] = relay;
        relay.start();
        LocalDateTime w = LocalDateTime.of(2024, 6, 1, 0, 0);
        for (int i = 0; i < 300; i++) {
            queue.offer(Task.builder("backfill", "vds30sec").scope(Window.starting(w.plusMinutes(10L * i), Duration.ofMinutes(10)))
                    .build());
        }
        sim.runUntil(() -> relay.snapshot().completed() == 300, EngineScenario.T0.plus(Duration.ofDays(1)));
        RelaySnapshot snap = relay.snapshot();
        int most = limits.stream().filter(l -> l[0] >= 20).mapToInt(l -> (int) l[1]).max().orElse(0);
        System.out.printf("%nEngine, knee source with a 60 s query timeout, starting at P_eff = %d: %d timeouts, %d falls; from the "
                + "20th completion on P_eff at most %d; 300 tasks done after %s%n", P, snap.pressure().timeouts(),
                snap.pressure().decreases(), most, FixedLimits.fmt(Duration.between(EngineScenario.T0, sim.now())));
        assertEquals(300, snap.completed(), "every task completed (the timed-out ones on retry)");
        assertTrue(snap.pressure().timeouts() > 0, "the pulls started beyond 6 at once timed out");
        assertTrue(snap.pressure().timeouts() <= 2 * P, "timeouts went on: " + snap.pressure().timeouts());
        assertTrue(most <= KNEE + 1, "P_eff " + most + " after the 20th completion");
    }
}
