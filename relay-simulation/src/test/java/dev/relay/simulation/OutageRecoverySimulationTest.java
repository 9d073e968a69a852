package dev.relay.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.core.plan.InMemoryCompletionLedger;
import dev.relay.core.plan.PlanningLoop;
import dev.relay.core.plan.RealtimeTicker;
import dev.relay.core.plan.SnapshotSchedule;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The planners and the engine together, on virtual time: the relay host was down for three days; at restart the
 * realtime ticker routes the missed windows to the backfill lane and keeps the realtime lane for recent windows,
 * the 19:00 config snapshots keep coming, and the engine (P = 1) works it all off through the completion ledger.
 * Every window ends in the sink exactly once; none is missing.
 */
class OutageRecoverySimulationTest {

    static final ZoneId LA = ZoneId.of("America/Los_Angeles");

    @Test
    void threeDayOutage_recoversEveryWindowOnce_withoutFloodingTheRealtimeLane() {
        LocalDateTime outageStart = LocalDateTime.of(2024, 3, 1, 12, 0);
        Instant restart = outageStart.plusDays(3).atZone(LA).toInstant();
        Instant end = restart.plus(Duration.ofDays(2));
        Simulation sim = new Simulation(restart, 2024);
        InMemoryTaskQueue queue = sim.queue();
        InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
        Simulation.RecordingSink sink = sim.sink();
        RunRecorder rec = new RunRecorder();

        List<SeriesKey> districts = new ArrayList<>();
        for (int d : IncidentSimulationTest.DISTRICTS) {
            districts.add(new SeriesKey("vds30sec", new TreeMap<>(Map.of("district", Integer.toString(d)))));
        }
        List<SeriesKey> config = new ArrayList<>();
        for (String t : IncidentSimulationTest.CONFIG) {
            config.add(new SeriesKey("PEMS." + t, new TreeMap<>()));
        }
        RealtimeTicker ticker = RealtimeTicker.builder().series(districts).windowSize(Duration.ofMinutes(10)).zone(LA)
                .seriesStart(outageStart).lateness(Duration.ofMinutes(5)).horizon(Duration.ofHours(2))
                .backfillChunk(500).queue(queue).ledger(ledger).clock(sim.clock()).build();
        SnapshotSchedule snapshots = SnapshotSchedule.builder().tables(config).at(LocalTime.of(19, 0), LA)
                .queue(queue).ledger(ledger).clock(sim.clock()).build();
        Runnable planning = PlanningLoop.builder().step("realtime", ticker::tick).step("config", snapshots::tick).build();

        Map<String, Instant> plannedAt = new HashMap<>();
        Relay relay = Relay.builder().queue(queue).sink(sink).ledger(ledger)
                .puller(sim.puller(t -> t.lane().equals("config") ? Duration.ofSeconds(30)
                        : Duration.ofMillis(3000 + (t.id().hashCode() & 2047)), t -> 24))
                .lane(LaneSpec.builder("realtime").weight(4).build())
                .lane(LaneSpec.builder("config").weight(8).build())
                .lane(LaneSpec.builder("backfill").weight(1).build())
                .sourcePermits(1).clock(sim.clock()).control(sim.control()).workers(sim.workers()).random(sim.random())
                .idlePollInterval(Duration.ofMinutes(1)).listener(rec)
                .build().start();
        sim.every(restart, Duration.ofMinutes(1), end, at -> planning.run());
        sim.runUntil(end);

        RealtimeTicker.Planned totals = ticker.totals();
        System.out.printf("%nOutage recovery (3 days down, restart %s, 2 days simulated, P=1): planned realtime=%d "
                + "backfill=%d; config snapshots=%d%n", restart, totals.realtime(), totals.backfill(), count(rec, "config"));
        System.out.print(rec.table());

        // every closed window of every district, from the outage start on, is in the sink exactly once
        LocalDateTime lastClosed = LocalDateTime.ofInstant(end.minus(Duration.ofMinutes(5)), LA).withSecond(0).withNano(0);
        lastClosed = lastClosed.minusMinutes(lastClosed.getMinute() % 10);
        int expected = 0;
        for (LocalDateTime w = outageStart; !w.plusMinutes(10).isAfter(lastClosed); w = w.plusMinutes(10)) {
            for (SeriesKey s : districts) {
                Task t = Task.builder("realtime", s.source()).scope(Window.starting(w, Duration.ofMinutes(10)))
                        .parameters(s.parameters()).build();
                Integer commits = sink.commitsByTask().get(t.id());
                assertEquals(1, commits == null ? 0 : commits, "window " + w + " of " + s);
                expected++;
            }
        }
        System.out.printf("every one of the %d closed windows is in the sink exactly once%n", expected);
        // the missed three days went to the backfill lane, not the realtime lane
        assertTrue(totals.backfill() >= 3L * 144 * 9 - 2 * 6 * 9, "backfill planned " + totals.backfill());
        assertTrue(count(rec, "realtime") <= (long) (2 * 144 + 12 + 1) * 9, "realtime ran " + count(rec, "realtime"));
        // the evening snapshots: the one missed during the outage (caught up at restart) and one per evening since
        assertEquals(3 * config.size(), count(rec, "config"));
        // after the restart burst (the last two hours go to realtime at once), realtime never falls behind
        Duration worstLater = rec.starts().stream()
                .filter(st -> st.task().lane().equals("realtime") && st.at().isAfter(restart.plus(Duration.ofHours(1))))
                .map(RunRecorder.Start::waited).max(Duration::compareTo).orElseThrow();
        System.out.printf("realtime worst wait after the first hour: %s%n", RunRecorder.fmt(worstLater));
        assertTrue(worstLater.compareTo(Duration.ofMinutes(3)) <= 0, "realtime waited " + worstLater);
        sink.commitsByTask().forEach((id, n) -> assertEquals(1, n, "task " + id + " committed " + n + " times"));
        assertEquals(1, rec.maxPermitsInUse());
        assertTrue(relay.snapshot().lanes().stream().allMatch(l -> l.deadLettered() == 0));
    }

    static long count(RunRecorder rec, String lane) {
        return rec.completions().stream().filter(c -> c.task().lane().equals(lane)).count();
    }
}
