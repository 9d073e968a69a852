package dev.relay.core.plan;

import dev.relay.api.Task;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.relay.core.plan.Pems.CONFIG_TABLES;
import static dev.relay.core.plan.Pems.LA;
import static dev.relay.core.plan.Pems.TEN_MINUTES;
import static dev.relay.core.plan.Pems.VDS30SEC;
import static dev.relay.core.plan.Pems.la;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PeMS incident at the planning level: the relay host is down for two weeks. On restart the daily config
 * snapshots are planned at once into their own lane, the realtime lane gets only the last two hours, and the
 * two weeks of windows go to the backfill lane lazily — while a consumer as slow as the old relay (a window
 * every 20 s in the backfill lane) catches up.
 */
class IncidentPlanningTest {

    @Test
    void twoWeekOutage_configAtOnce_realtimeRecentOnly_backfillLazyAndComplete() {
        InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
        LocalDateTime seriesStart = LocalDateTime.parse("2024-06-01T00:00");
        Instant restart = la("2024-06-15T19:30");
        MutableClock clock = new MutableClock(restart);
        RecordingQueue queue = new RecordingQueue(clock);
        RealtimeTicker ticker = RealtimeTicker.builder().series(VDS30SEC).windowSize(TEN_MINUTES).zone(LA)
                .seriesStart(seriesStart).lateness(Duration.ofMinutes(5)).backfillChunk(500)
                .queue(queue).ledger(ledger).clock(clock).build();
        SnapshotSchedule config = SnapshotSchedule.builder().tables(CONFIG_TABLES).at(LocalTime.of(19, 0), LA)
                .firstDay(LocalDate.parse("2024-06-01")).queue(queue).ledger(ledger).clock(clock).build();
        PlanningLoop planning = PlanningLoop.builder().step("realtime", ticker::tick).step("config", config::tick).build();

        planning.run();
        List<Task> configAtRestart = queue.offered("config");
        RealtimeTicker.Planned atRestart = ticker.totals();
        long pendingAtRestart = ticker.backfillPending();
        Instant caughtUp = null;
        int maxBackfillDepth = 0;
        for (int minute = 1; minute <= 7 * 24 * 60 && caughtUp == null; minute++) {
            clock.advance(Duration.ofMinutes(1));
            planning.run();
            maxBackfillDepth = Math.max(maxBackfillDepth, queue.depth("backfill"));
            queue.take("config", Integer.MAX_VALUE).forEach(t -> ledger.recordCompleted(t, 1));
            queue.take("realtime", Integer.MAX_VALUE).forEach(t -> ledger.recordCompleted(t, 1));
            queue.take("backfill", 3).forEach(t -> ledger.recordCompleted(t, 1)); // the old pace: 20 s a window
            if (ticker.backfillPending() == 0 && queue.depth("backfill") == 0) {
                caughtUp = clock.instant();
            }
        }
        assertTrue(caughtUp != null, "caught up within a week");
        RealtimeTicker.Planned totals = ticker.totals();
        System.out.printf("two-week outage (relay down 2024-06-01T00:00 to 2024-06-15T19:30 America/Los_Angeles), restart plan:%n"
                        + "  at restart: config %d snapshots (as of %s), realtime %d windows, backfill %d offered + %d waiting lazily%n"
                        + "  until caught up (%s later, backfill consumed at 3 windows/min): realtime %d, backfill %d; max backfill depth %d%n",
                configAtRestart.size(), configAtRestart.get(0).snapshot().orElseThrow().asOf(), atRestart.realtime(),
                atRestart.backfill(), pendingAtRestart, Duration.between(restart, caughtUp), totals.realtime(),
                totals.backfill(), maxBackfillDepth);

        assertEquals(6, configAtRestart.size(), "config snapshots planned at the first run, not after the backfill");
        assertEquals(LocalDate.parse("2024-06-15"), configAtRestart.get(0).snapshot().orElseThrow().asOf());
        assertEquals(9 * 11, atRestart.realtime(), "realtime: the windows that closed (with lateness) in the last two hours only");
        assertEquals(500, atRestart.backfill());
        assertTrue(maxBackfillDepth <= 500);
        // no window missing, none twice
        Set<String> ids = new HashSet<>();
        queue.offers.stream().filter(o -> o.task().window().isPresent())
                .forEach(o -> assertTrue(ids.add(o.task().id()), () -> "twice: " + o));
        LocalDateTime closedEnd = LocalGrid.of(TEN_MINUTES, LA).firstStartClosingAfter(clock.instant().minus(Duration.ofMinutes(5)));
        assertEquals(9 * LocalGrid.of(TEN_MINUTES, LA).count(seriesStart, closedEnd), ids.size());
        VDS30SEC.forEach(k -> assertEquals(closedEnd, ticker.watermark(k)));
        assertEquals(15, ticker.manifest().datesOf(VDS30SEC.get(0)).size(), "June 1st to 15th for dbt");
        // the next evenings' snapshots came on time, during the backfill
        assertTrue(queue.offers.stream().anyMatch(o -> o.task().snapshot().map(s -> s.asOf().equals(LocalDate.parse("2024-06-16"))).orElse(false)
                && o.at().equals(la("2024-06-16T19:00"))));
    }
}
