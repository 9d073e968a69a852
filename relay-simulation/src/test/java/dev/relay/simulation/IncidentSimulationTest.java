package dev.relay.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.core.RelaySnapshot;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The PeMS incident, replayed on virtual time against the real engine: one source permit, a backfill lane
 * holding two weeks of missed windows (18,000 tasks of about 20 s), a realtime lane receiving 9 district windows
 * every 10 minutes (2–5 s each) and a config lane receiving the 6 config snapshots at 19:00 (10–60 s each), for
 * two simulated weeks. The old relay held the config uploads back for a week; relay must start each at most
 * about one backfill task plus one round after it is ready.
 */
class IncidentSimulationTest {

    static final ZoneId LA = ZoneId.of("America/Los_Angeles");
    static final int[] DISTRICTS = {3, 4, 5, 6, 7, 8, 10, 11, 12};
    static final String[] CONFIG = {"CONTROLLER_CONFIG", "CONTROLLER_CONFIG_LOG", "DETECTOR_CONFIG",
        "DETECTOR_CONFIG_LOG", "STATION_CONFIG", "STATION_CONFIG_LOG"};

    // scenario parameters: the bound below is computed from them
    static final Duration QUANTUM = Duration.ofSeconds(1);
    static final int W_BACKFILL = 1;
    static final int W_REALTIME = 4;
    static final int W_CONFIG = 8;
    static final long BACKFILL_MIN_MS = 18_000;
    static final long BACKFILL_MAX_MS = 22_000;
    static final long REALTIME_MIN_MS = 2_000;
    static final long REALTIME_MAX_MS = 5_000;
    static final long CONFIG_MIN_MS = 10_000;
    static final long CONFIG_MAX_MS = 60_000;

    @Test
    void twoWeeksOfBackfill_neverHoldConfigOrRealtimeBack() {
        LocalDateTime outageStart = LocalDateTime.of(2024, 6, 1, 0, 0);
        Instant restart = outageStart.plusDays(14).atZone(LA).toInstant();
        Simulation sim = new Simulation(restart, 375);
        SplittableRandom rnd = sim.split();
        Map<String, Duration> durations = new HashMap<>();
        InMemoryTaskQueue queue = sim.queue();
        RunRecorder rec = new RunRecorder();
        Simulation.RecordingSink sink = sim.sink();

        Relay relay = Relay.builder()
                .queue(queue)
                .puller(sim.puller(t -> durations.get(t.id()), t -> 24))
                .sink(sink)
                .lane(LaneSpec.builder("backfill").weight(W_BACKFILL).build())
                .lane(LaneSpec.builder("realtime").weight(W_REALTIME).build())
                .lane(LaneSpec.builder("config").weight(W_CONFIG).build())
                .sourcePermits(1)
                .quantum(QUANTUM)
                .clock(sim.clock()).control(sim.control()).workers(sim.workers()).random(sim.random())
                .idlePollInterval(Duration.ofMinutes(1))
                .listener(rec)
                .build();
        relay.start();

        // the backlog of the outage: 2,000 ten-minute windows x 9 districts = 18,000 tasks of ~20 s
        int backfillTasks = 0;
        for (LocalDateTime w = outageStart; backfillTasks < 18_000; w = w.plusMinutes(10)) {
            for (int d : DISTRICTS) {
                Task t = Task.builder("backfill", "vds30sec").scope(Window.starting(w, Duration.ofMinutes(10)))
                        .parameter("district", Integer.toString(d)).build();
                durations.put(t.id(), Duration.ofMillis(between(rnd, BACKFILL_MIN_MS, BACKFILL_MAX_MS)));
                queue.offer(t);
                backfillTasks++;
            }
        }
        Instant end = restart.plus(Duration.ofDays(14));
        // realtime: every 10 minutes, the window that just closed, 9 districts
        List<Instant> realtimeTicks = new ArrayList<>();
        sim.every(restart.plus(Duration.ofMinutes(10)), Duration.ofMinutes(10), end, at -> {
            realtimeTicks.add(at);
            LocalDateTime closed = LocalDateTime.ofInstant(at, LA).minusMinutes(10);
            for (int d : DISTRICTS) {
                Task t = Task.builder("realtime", "vds30sec").scope(Window.starting(closed, Duration.ofMinutes(10)))
                        .parameter("district", Integer.toString(d)).build();
                durations.put(t.id(), Duration.ofMillis(between(rnd, REALTIME_MIN_MS, REALTIME_MAX_MS)));
                queue.offer(t);
            }
        });
        // config: 6 snapshots at 19:00 local every day
        List<Instant> configTimes = new ArrayList<>();
        for (LocalDate day = LocalDate.ofInstant(restart, LA); ; day = day.plusDays(1)) {
            Instant at = ZonedDateTime.of(day, LocalTime.of(19, 0), LA).toInstant();
            if (at.isBefore(restart)) {
                continue;
            }
            if (!at.isBefore(end)) {
                break;
            }
            configTimes.add(at);
            LocalDate asOf = day;
            sim.at(at, () -> {
                for (String table : CONFIG) {
                    Task t = Task.builder("config", "PEMS." + table).scope(Snapshot.of(asOf)).build();
                    durations.put(t.id(), Duration.ofMillis(between(rnd, CONFIG_MIN_MS, CONFIG_MAX_MS)));
                    queue.offer(t);
                }
            });
        }

        long wallStart = System.nanoTime();
        sim.runUntil(end);
        double wallSeconds = (System.nanoTime() - wallStart) / 1e9;
        RelaySnapshot snap = relay.snapshot();

        // ---- the figures
        Instant backfillDone = lastCompletion(rec, "backfill");
        System.out.printf("%nIncident simulation: P=1, weights backfill:realtime:config = %d:%d:%d, quantum %s, 14 days "
                + "(%d events in %.1f s of wall time)%n", W_BACKFILL, W_REALTIME, W_CONFIG, QUANTUM, sim.eventsRun(), wallSeconds);
        System.out.print(rec.table());
        System.out.printf("backfill of %d tasks finished after %s%n", backfillTasks,
                RunRecorder.fmt(Duration.between(restart, backfillDone)));

        // ---- permits
        assertEquals(1, rec.maxPermitsInUse(), "source permits exceeded");
        assertEquals(1, snap.maxPermitsInUse());

        // ---- every task ran once, nothing lost, nothing dead
        assertEquals(backfillTasks, count(rec, "backfill"), "backfill incomplete");
        assertTrue(rec.deadLettered().isEmpty());
        assertEquals(rec.completions().size(), sink.rowsByTask().size(), "each completed task committed once in the sink");
        sink.commitsByTask().forEach((id, n) -> assertEquals(1, n, "task " + id + " committed " + n + " times"));

        // ---- the starvation bound for a config task arriving at an idle lane:
        // r + S_backfill + S_realtime, S_j = ceil(Q_j / m_j) * C_j; m_j >= min(initial estimate Q_j, smallest cost)
        Duration bound = Duration.ofMillis(BACKFILL_MAX_MS
                + ceilDiv(W_BACKFILL * QUANTUM.toMillis(), Math.min(W_BACKFILL * QUANTUM.toMillis(), BACKFILL_MIN_MS)) * BACKFILL_MAX_MS
                + ceilDiv(W_REALTIME * QUANTUM.toMillis(), Math.min(W_REALTIME * QUANTUM.toMillis(), REALTIME_MIN_MS)) * REALTIME_MAX_MS);
        System.out.printf("stated bound for the first config task of a day: r + S_backfill + S_realtime = %s%n",
                RunRecorder.fmt(bound));
        Duration worstFinish = Duration.ZERO;
        for (Instant at : configTimes) {
            List<RunRecorder.Start> day = rec.starts().stream()
                    .filter(s -> s.task().lane().equals("config") && !s.at().isBefore(at) && s.at().isBefore(at.plus(Duration.ofHours(1))))
                    .toList();
            assertEquals(CONFIG.length, day.size(), "config tasks of " + at);
            Duration firstWait = day.get(0).waited();
            assertTrue(firstWait.compareTo(bound) <= 0, "config at " + at + " waited " + firstWait + " > bound " + bound);
            Instant last = rec.completions().stream().filter(c -> c.task().lane().equals("config")
                    && !c.at().isBefore(at) && c.at().isBefore(at.plus(Duration.ofHours(1)))).map(RunRecorder.Completion::at)
                    .max(Instant::compareTo).orElseThrow();
            Duration finish = Duration.between(at, last);
            worstFinish = finish.compareTo(worstFinish) > 0 ? finish : worstFinish;
        }
        System.out.printf("config: all 6 snapshots finished at worst %s after 19:00 (on %d days)%n",
                RunRecorder.fmt(worstFinish), configTimes.size());
        assertTrue(worstFinish.compareTo(Duration.ofMinutes(15)) <= 0, "config took " + worstFinish);

        // ---- realtime never falls behind: every tick's 9 windows are done before the next tick
        Map<Instant, Integer> doneByTick = new HashMap<>();
        for (RunRecorder.Completion c : rec.completions()) {
            if (c.task().lane().equals("realtime")) {
                Instant tick = ZonedDateTime.of(c.task().window().orElseThrow().end(), LA).toInstant();
                assertTrue(c.at().isBefore(tick.plus(Duration.ofMinutes(10))), "realtime window " + c.task() + " done at " + c.at());
                doneByTick.merge(tick, 1, Integer::sum);
            }
        }
        for (Instant tick : realtimeTicks) {
            if (tick.isBefore(end.minus(Duration.ofMinutes(10)))) {
                assertEquals(DISTRICTS.length, doneByTick.getOrDefault(tick, 0), "realtime tick " + tick);
            }
        }
        List<Duration> rtWaits = rec.waits("realtime");
        System.out.printf("realtime: worst wait %s; every tick's windows finished before the next tick%n",
                RunRecorder.fmt(rtWaits.get(rtWaits.size() - 1)));

        // ---- the backfill still finishes, well within the two weeks
        assertTrue(backfillDone.isBefore(restart.plus(Duration.ofDays(6))), "backfill finished at " + backfillDone);
    }

    static long between(SplittableRandom rnd, long min, long max) {
        return min + rnd.nextLong(max - min + 1);
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    static long count(RunRecorder rec, String lane) {
        return rec.completions().stream().filter(c -> c.task().lane().equals(lane)).count();
    }

    static Instant lastCompletion(RunRecorder rec, String lane) {
        return rec.completions().stream().filter(c -> c.task().lane().equals(lane)).map(RunRecorder.Completion::at)
                .max(Instant::compareTo).orElseThrow();
    }
}
