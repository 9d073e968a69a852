package dev.relay.core.plan;

import dev.relay.api.QueueException;
import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.relay.core.plan.Pems.LA;
import static dev.relay.core.plan.Pems.TEN_MINUTES;
import static dev.relay.core.plan.Pems.VDS30SEC;
import static dev.relay.core.plan.Pems.la;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RealtimeTickerTest {

    private static final Duration LATENESS = Duration.ofMinutes(5);
    private static final Duration HORIZON = Duration.ofHours(2);
    private static final LocalGrid GRID = LocalGrid.of(TEN_MINUTES, LA);

    private final InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();

    private RealtimeTicker.Builder ticker(MutableClock clock, RecordingQueue queue, LocalDateTime seriesStart) {
        return RealtimeTicker.builder().series(VDS30SEC).windowSize(TEN_MINUTES).zone(LA).seriesStart(seriesStart)
                .lateness(LATENESS).horizon(HORIZON).backfillChunk(1_000).queue(queue).ledger(ledger).clock(clock);
    }

    /** The engine's part: takes tasks of a lane and records them completed. */
    private int complete(RecordingQueue queue, String lane, int max) {
        List<Task> tasks = queue.take(lane, max);
        tasks.forEach(t -> ledger.recordCompleted(t, 1_000));
        return tasks.size();
    }

    private static LocalDateTime t(String s) {
        return LocalDateTime.parse(s);
    }

    @Test
    void tick_everyMinuteForADay_plansEachWindowOnceAfterItClosed() {
        MutableClock clock = new MutableClock(la("2024-03-05T00:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        RealtimeTicker ticker = ticker(clock, queue, t("2024-03-05T00:00")).build();
        while (clock.instant().isBefore(la("2024-03-06T00:06"))) {
            ticker.tick();
            complete(queue, "realtime", Integer.MAX_VALUE);
            clock.advance(Duration.ofMinutes(1));
        }
        assertEquals(144 * 9, queue.offers.size());
        assertEquals(queue.offers.size(), queue.offers.stream().map(o -> o.task().id()).distinct().count(), "planned twice");
        for (RecordingQueue.Offer o : queue.offers) {
            Window w = o.task().window().orElseThrow();
            Instant due = GRID.closeInstant(w).plus(LATENESS);
            assertFalse(o.at().isBefore(due), () -> w + " offered at " + o.at() + " before it closed");
            assertTrue(o.at().isBefore(due.plus(Duration.ofMinutes(1))), () -> w + " offered late at " + o.at());
            assertEquals("realtime", o.task().lane());
        }
        for (SeriesKey k : VDS30SEC) {
            assertEquals(t("2024-03-06T00:00"), ticker.watermark(k));
        }
        assertTrue(ticker.manifest().isEmpty(), "no backfill when nothing was missed");
    }

    /**
     * The incident: the relay is down for three days. On restart the realtime lane gets only the windows that
     * closed within the horizon; everything older goes to the backfill lane, lazily, and nothing is missed or
     * planned twice.
     */
    @Test
    void tick_afterThreeDayOutage_realtimeGetsOnlyRecentWindows_backfillTheRest() {
        LocalDateTime seriesStart = t("2024-03-01T00:00");
        MutableClock clock = new MutableClock(la("2024-03-01T00:00"));
        RecordingQueue before = new RecordingQueue(clock);
        RealtimeTicker first = ticker(clock, before, seriesStart).build();
        while (clock.instant().isBefore(la("2024-03-01T12:00"))) {
            first.tick();
            complete(before, "realtime", Integer.MAX_VALUE);
            clock.advance(Duration.ofMinutes(1));
        }
        // crash at 12:00 on March 1st; back three days later. The in-memory queue is gone, the ledger is not.
        Instant restart = la("2024-03-04T12:00");
        clock.set(restart);
        RecordingQueue after = new RecordingQueue(clock);
        RealtimeTicker ticker = ticker(clock, after, seriesStart).build();

        RealtimeTicker.Planned firstTick = ticker.tick();
        long backlogAtRestart = ticker.backfillPending();
        // recover: a tick a minute; the consumer serves realtime first and 40 backfill windows a minute
        int maxBackfillDepth = 0;
        Instant end = restart.plus(Duration.ofHours(6));
        while (clock.instant().isBefore(end)) {
            clock.advance(Duration.ofMinutes(1));
            ticker.tick();
            maxBackfillDepth = Math.max(maxBackfillDepth, after.depth("backfill"));
            complete(after, "realtime", Integer.MAX_VALUE);
            complete(after, "backfill", 40);
        }
        complete(after, "backfill", Integer.MAX_VALUE);

        List<Task> realtime = after.offered("realtime");
        List<Task> backfill = after.offered("backfill");
        System.out.printf("outage recovery plan (9 districts, 10-minute windows, lateness %s, horizon %s, relay down from 2024-03-01T12:00 to 2024-03-04T12:00 America/Los_Angeles):%n"
                        + "  first tick after restart: realtime %d windows, backfill %d windows (chunk 1000), %d more waiting lazily%n"
                        + "  during 6 h of recovery: realtime %d windows, backfill %d windows; max backfill queue depth %d%n"
                        + "  per district: realtime %d first tick, backfill %d in total; manifest dates %s%n",
                LATENESS, HORIZON, firstTick.realtime(), firstTick.backfill(),
                backlogAtRestart, realtime.size(), backfill.size(), maxBackfillDepth,
                firstTick.realtime() / 9, backfill.size() / 9, ticker.manifest().allDates());

        // realtime got only windows that closed within the horizon when they were offered
        for (RecordingQueue.Offer o : after.offers) {
            Instant closed = GRID.closeInstant(o.task().window().orElseThrow());
            if (o.task().lane().equals("realtime")) {
                assertTrue(closed.isAfter(o.at().minus(HORIZON)), () -> "stale window in realtime lane: " + o);
            } else {
                assertFalse(closed.isAfter(restart.minus(HORIZON)), () -> "recent window in backfill lane: " + o);
            }
        }
        assertEquals(9 * 11, firstTick.realtime(), "11 windows per district closed (with lateness) in the 2 hours before 12:00");
        assertTrue(maxBackfillDepth <= 1_000, "backfill depth " + maxBackfillDepth);

        // none twice, none missing: the offers before the crash and after the restart tile the grid exactly
        Map<String, Integer> count = new HashMap<>();
        before.offers.forEach(o -> count.merge(o.task().id(), 1, Integer::sum));
        after.offers.forEach(o -> count.merge(o.task().id(), 1, Integer::sum));
        LocalDateTime closedEnd = GRID.firstStartClosingAfter(clock.instant().minus(LATENESS));
        Set<String> expected = new HashSet<>();
        for (SeriesKey k : VDS30SEC) {
            for (LocalDateTime s = seriesStart; s.isBefore(closedEnd); s = s.plus(TEN_MINUTES)) {
                expected.add(k.taskId(GRID.windowAt(s)));
            }
        }
        assertEquals(expected, count.keySet(), "every closed window planned");
        assertTrue(count.values().stream().allMatch(c -> c == 1), "a window was planned twice");
        assertEquals(3 * 144 * 9, backfill.size() + realtime.size() - (int) (Duration.between(restart, clock.instant()).toMinutes() / 10) * 9,
                "three days of windows were missed and recovered");
        for (SeriesKey k : VDS30SEC) {
            assertEquals(closedEnd, ticker.watermark(k));
        }
        assertEquals(new TreeSet<>(List.of(LocalDate.parse("2024-03-01"), LocalDate.parse("2024-03-02"),
                LocalDate.parse("2024-03-03"), LocalDate.parse("2024-03-04"))), ticker.manifest().allDates());
    }

    @Test
    void tick_restartAfterQueueLost_replansWindowsThatWereQueuedButNotCompleted() {
        MutableClock clock = new MutableClock(la("2024-03-05T08:00"));
        RecordingQueue lost = new RecordingQueue(clock);
        RealtimeTicker first = ticker(clock, lost, t("2024-03-05T06:00")).build();
        first.tick(); // 06:00..07:40 windows: 11 per series, closed and recent
        complete(lost, "realtime", 50); // the rest is lost with the queue
        RecordingQueue queue = new RecordingQueue(clock);
        RealtimeTicker.Planned replanned = ticker(clock, queue, t("2024-03-05T06:00")).build().tick();
        assertEquals(11 * 9 - 50, replanned.total());
        Set<String> all = new HashSet<>();
        ledger.completedWindows(VDS30SEC.get(0), new Window(t("2024-03-05T00:00"), t("2024-03-06T00:00")));
        lost.offers.stream().limit(50).forEach(o -> all.add(o.task().id()));
        queue.offers.forEach(o -> assertTrue(all.add(o.task().id()), "replanned a completed window " + o));
        assertEquals(11 * 9, all.size());
    }

    @Test
    void tick_holeBeyondWatermark_restartReplansOnlyTheHole() {
        MutableClock clock = new MutableClock(la("2024-03-05T12:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        SeriesKey d7 = VDS30SEC.get(4);
        RealtimeTicker.Builder b = RealtimeTicker.builder().series(d7).windowSize(TEN_MINUTES).zone(LA)
                .seriesStart(t("2024-03-05T10:00")).queue(queue).ledger(ledger).clock(clock);
        b.build().tick(); // 12 windows 10:00..11:50
        List<Task> tasks = queue.take("realtime", 12);
        tasks.stream().filter(task -> !task.window().orElseThrow().start().equals(t("2024-03-05T10:30")))
                .forEach(task -> ledger.recordCompleted(task, 1));
        RealtimeTicker restarted = b.build();
        assertEquals(t("2024-03-05T10:30"), restarted.watermark(d7), "the lost window holds the watermark back");
        RecordingQueue q2 = new RecordingQueue(clock);
        RealtimeTicker again = RealtimeTicker.builder().series(d7).windowSize(TEN_MINUTES).zone(LA)
                .seriesStart(t("2024-03-05T10:00")).queue(q2).ledger(ledger).clock(clock).build();
        again.tick();
        assertEquals(List.of(new Window(t("2024-03-05T10:30"), t("2024-03-05T10:40"))),
                q2.offers.stream().map(o -> o.task().window().orElseThrow()).toList());
    }

    @Test
    void tick_springForwardDay_plans144WindowsPerSeriesIncludingTheSkippedHour() {
        MutableClock clock = new MutableClock(la("2024-03-10T00:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        RealtimeTicker ticker = ticker(clock, queue, t("2024-03-10T00:00")).lateness(Duration.ZERO).build();
        while (clock.instant().isBefore(la("2024-03-11T00:01"))) {
            ticker.tick();
            clock.advance(Duration.ofMinutes(1));
        }
        assertEquals(144 * 9, queue.offers.size());
        assertEquals(144 * 9, queue.offers.stream().map(o -> o.task().id()).distinct().count());
        assertEquals(0, ticker.totals().backfill());
        Map<LocalDateTime, Instant> offeredAt = new TreeMap<>();
        queue.offers.forEach(o -> offeredAt.put(o.task().window().orElseThrow().start(), o.at()));
        // 01:50 closes at 02:00 PST = 03:00 PDT; the six empty windows of the skipped hour right after it
        assertEquals(Instant.parse("2024-03-10T10:00:00Z"), offeredAt.get(t("2024-03-10T01:50")));
        for (int m = 0; m < 60; m += 10) {
            assertEquals(Instant.parse("2024-03-10T10:01:00Z"), offeredAt.get(t("2024-03-10T02:00").plusMinutes(m)));
        }
        assertEquals(Instant.parse("2024-03-10T10:10:00Z"), offeredAt.get(t("2024-03-10T03:00")));
        assertEquals(la("2024-03-11T00:00"), offeredAt.get(t("2024-03-10T23:50")));
    }

    @Test
    void tick_autumnDay_plansTheRepeatedHourOnceAfterItsSecondOccurrence() {
        MutableClock clock = new MutableClock(la("2024-11-03T00:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        RealtimeTicker ticker = ticker(clock, queue, t("2024-11-03T00:00")).lateness(Duration.ZERO).build();
        while (clock.instant().isBefore(la("2024-11-04T00:01"))) {
            ticker.tick();
            clock.advance(Duration.ofMinutes(1));
        }
        assertEquals(144 * 9, queue.offers.size(), "25 hours, but 144 local windows");
        assertEquals(144 * 9, queue.offers.stream().map(o -> o.task().id()).distinct().count());
        assertEquals(0, ticker.totals().backfill());
        Map<LocalDateTime, Instant> offeredAt = new TreeMap<>();
        queue.offers.forEach(o -> offeredAt.put(o.task().window().orElseThrow().start(), o.at()));
        assertEquals(Instant.parse("2024-11-03T08:00:00Z"), offeredAt.get(t("2024-11-03T00:50")), "before the overlap: on time");
        assertEquals(Instant.parse("2024-11-03T09:10:00Z"), offeredAt.get(t("2024-11-03T01:00")), "01:10 PST, not 01:10 PDT");
        assertEquals(Instant.parse("2024-11-03T10:00:00Z"), offeredAt.get(t("2024-11-03T01:50")));
        assertEquals(Instant.parse("2024-11-03T10:10:00Z"), offeredAt.get(t("2024-11-03T02:00")));
    }

    @Test
    void tick_calledTwiceAtTheSameInstant_plansNothingTheSecondTime() {
        MutableClock clock = new MutableClock(la("2024-03-05T10:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        RealtimeTicker ticker = ticker(clock, queue, t("2024-03-05T09:00")).build();
        assertEquals(new RealtimeTicker.Planned(5 * 9, 0), ticker.tick());
        assertEquals(new RealtimeTicker.Planned(0, 0), ticker.tick());
    }

    @Test
    void tick_clockJumpBeyondHorizonWhileRunning_routesTheSkippedWindowsToBackfill() {
        MutableClock clock = new MutableClock(la("2024-03-05T10:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        SeriesKey d4 = VDS30SEC.get(1);
        RealtimeTicker ticker = RealtimeTicker.builder().series(d4).windowSize(TEN_MINUTES).zone(LA)
                .seriesStart(t("2024-03-05T10:00")).horizon(Duration.ofHours(1)).queue(queue).ledger(ledger).clock(clock).build();
        ticker.tick();
        clock.set(la("2024-03-05T15:00")); // the host was suspended for five hours
        RealtimeTicker.Planned p = ticker.tick();
        assertEquals(new RealtimeTicker.Planned(6, 24), p);
        assertEquals(t("2024-03-05T10:00"), queue.offered("backfill").get(0).window().orElseThrow().start());
        assertEquals(t("2024-03-05T14:00"), queue.offered("realtime").get(0).window().orElseThrow().start());
    }

    @Test
    void tick_backfillChunk_limitsTheBackfillLaneAndContinuesAsItDrains() {
        MutableClock clock = new MutableClock(la("2024-03-05T00:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        RealtimeTicker ticker = ticker(clock, queue, t("2024-03-01T00:00")).backfillChunk(100).build();
        RealtimeTicker.Planned p = ticker.tick();
        assertEquals(100, p.backfill());
        assertEquals(0, ticker.tick().backfill(), "the lane is full");
        // oldest first, across all districts
        assertEquals(Set.of(t("2024-03-01T00:00")), queue.offered("backfill").stream().limit(9)
                .map(task -> task.window().orElseThrow().start()).collect(java.util.stream.Collectors.toSet()));
        queue.take("backfill", 30);
        assertEquals(30, ticker.tick().backfill());
        // [03-01 00:00, 03-04 22:00) per district: 3 days + 132 windows; 130 offered
        assertEquals((3 * 144 + 132) * 9 - 130, ticker.backfillPending());
    }

    @Test
    void tick_backlogUnknown_countsItsOwnUncompletedOffers() {
        MutableClock clock = new MutableClock(la("2024-03-05T00:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        queue.backlogUnknown = true;
        RealtimeTicker ticker = ticker(clock, queue, t("2024-03-04T00:00")).backfillChunk(50).build();
        assertEquals(50, ticker.tick().backfill());
        assertEquals(0, ticker.tick().backfill());
        complete(queue, "backfill", 20);
        assertEquals(20, ticker.tick().backfill());
    }

    @Test
    void tick_queueFails_nextTickResumesAtTheFailedWindow() {
        MutableClock clock = new MutableClock(la("2024-03-05T11:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        SeriesKey d7 = VDS30SEC.get(4);
        RealtimeTicker ticker = RealtimeTicker.builder().series(d7).windowSize(TEN_MINUTES).zone(LA)
                .seriesStart(t("2024-03-05T10:00")).queue(queue).ledger(ledger).clock(clock).build();
        queue.failAfter = 2;
        assertThrows(QueueException.class, ticker::tick);
        queue.failAfter = Integer.MAX_VALUE;
        ticker.tick();
        assertEquals(6, queue.offers.size());
        assertEquals(6, queue.offers.stream().map(o -> o.task().id()).distinct().count());
    }

    @Test
    void tick_seriesStartInTheFuture_plansNothingBeforeItsFirstWindowCloses() {
        MutableClock clock = new MutableClock(la("2024-03-05T09:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        RealtimeTicker ticker = ticker(clock, queue, t("2024-03-05T10:00")).build();
        assertEquals(new RealtimeTicker.Planned(0, 0), ticker.tick());
        clock.set(la("2024-03-05T10:14"));
        assertEquals(new RealtimeTicker.Planned(0, 0), ticker.tick(), "closed at 10:10, due with lateness at 10:15");
        clock.set(la("2024-03-05T10:15"));
        assertEquals(new RealtimeTicker.Planned(9, 0), ticker.tick());
        assertEquals(t("2024-03-05T10:00"), queue.offers.get(0).task().window().orElseThrow().start());
    }

    @Test
    void watermark_unknownSeries_isRejectedNamingIt() {
        MutableClock clock = new MutableClock(la("2024-03-05T11:00"));
        RealtimeTicker ticker = ticker(clock, new RecordingQueue(clock), t("2024-03-05T10:00")).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ticker.watermark(SeriesKey.of("vds30sec", "district", "99")));
        assertTrue(e.getMessage().contains("district=99"), e.getMessage());
    }

    @Test
    void build_badSettings_failWithMessagesNamingTheValue() {
        MutableClock clock = new MutableClock(la("2024-03-05T11:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        assertMessage(() -> ticker(clock, queue, t("2024-03-05T10:05")).build(), "2024-03-05T10:05");
        assertMessage(() -> ticker(clock, queue, t("2024-03-05T10:00")).horizon(Duration.ofMinutes(5)).build(), "PT5M");
        assertMessage(() -> ticker(clock, queue, t("2024-03-05T10:00")).backfillLane("realtime").build(), "realtime");
        assertMessage(() -> RealtimeTicker.builder().series(VDS30SEC).build(), "windowSize");
        assertMessage(() -> RealtimeTicker.builder().build(), "series");
        assertMessage(() -> RealtimeTicker.builder().series(VDS30SEC).series(VDS30SEC.get(0)), "district=3");
        assertMessage(() -> RealtimeTicker.builder().lateness(Duration.ofMinutes(-1)), "PT-1M");
        assertMessage(() -> RealtimeTicker.builder().backfillChunk(0), "0");
        assertMessage(() -> RealtimeTicker.builder().realtimeLane("Real Time"), "Real Time");
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
        RuntimeException e = assertThrows(RuntimeException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' does not name " + fragment);
    }
}
