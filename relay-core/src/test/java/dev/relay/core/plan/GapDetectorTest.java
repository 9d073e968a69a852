package dev.relay.core.plan;

import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.relay.core.plan.Pems.TEN_MINUTES;
import static dev.relay.core.plan.Pems.VDS30SEC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

class GapDetectorTest {

    private static final LocalDateTime DAY = LocalDateTime.parse("2024-03-10T00:00"); // the spring DST day

    /**
     * Property: fill a ledger with every window of a range for some series, remove an arbitrary subset, and
     * the detector reports exactly the removed windows, for any range boundaries.
     */
    @Test
    void gaps_randomizedLedger_findsExactlyTheRemovedWindows() {
        qt().withFixedSeed(375L).withExamples(300)
                .forAll(integers().between(1, 600),                       // windows in the range
                        integers().between(1, 9),                         // series
                        lists().of(integers().between(0, 10_000)).ofSizeBetween(0, 60), // removals
                        integers().between(0, 9))                         // minutes of misalignment
                .checkAssert((windows, seriesCount, removals, skew) -> {
                    InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
                    List<SeriesKey> series = VDS30SEC.subList(0, seriesCount);
                    LocalDateTime end = DAY.plusMinutes(10L * windows);
                    for (SeriesKey k : series) {
                        // completed windows just outside the range must not matter
                        for (LocalDateTime s = DAY.minusHours(1); s.isBefore(end.plusHours(1)); s = s.plus(TEN_MINUTES)) {
                            ledger.recordCompleted(k.task("realtime", Window.starting(s, TEN_MINUTES)), 1);
                        }
                    }
                    SortedMap<SeriesKey, List<Window>> removed = new TreeMap<>();
                    for (int r : removals) {
                        SeriesKey k = series.get(r % seriesCount);
                        Window w = Window.starting(DAY.plusMinutes(10L * ((r / seriesCount) % windows)), TEN_MINUTES);
                        if (ledger.forget(k.task("realtime", w))) {
                            removed.computeIfAbsent(k, x -> new ArrayList<>()).add(w);
                        }
                    }
                    removed.values().forEach(l -> l.sort(null));
                    GapDetector detector = GapDetector.of(ledger, TEN_MINUTES);
                    // a range misaligned by `skew` minutes at both ends still covers exactly the same windows
                    Window range = new Window(DAY.plusMinutes(skew), end.minusMinutes(skew == 0 ? 0 : 10 - skew));
                    assertEquals(removed, detector.gaps(series, range));
                });
    }

    @Test
    void replan_offersEveryGapOnceAndReportsTheDatesTouched() {
        InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
        MutableClock clock = new MutableClock(Pems.la("2024-03-12T00:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        SeriesKey d7 = VDS30SEC.get(4);
        SeriesKey d12 = VDS30SEC.get(8);
        for (LocalDateTime s = DAY; s.isBefore(DAY.plusDays(2)); s = s.plus(TEN_MINUTES)) {
            if (!s.equals(DAY.plusHours(2)) && !s.equals(DAY.plusDays(1).plusHours(23).plusMinutes(50))) {
                ledger.recordCompleted(d7.task("realtime", Window.starting(s, TEN_MINUTES)), 1);
            }
            ledger.recordCompleted(d12.task("realtime", Window.starting(s, TEN_MINUTES)), 1);
        }
        GapDetector detector = GapDetector.of(ledger, TEN_MINUTES);
        Window range = new Window(DAY, DAY.plusDays(2));
        assertEquals(Map.of(d7, List.of(Window.starting(DAY.plusHours(2), TEN_MINUTES),
                Window.starting(LocalDateTime.parse("2024-03-11T23:50"), TEN_MINUTES))), detector.gaps(List.of(d7, d12), range));

        GapDetector.Replanned r = detector.replan(List.of(d7, d12), range, queue, "backfill");
        assertEquals(2, r.tasks());
        assertEquals(2, queue.offered("backfill").size());
        Task first = queue.offered("backfill").get(0);
        assertEquals(d7.taskId(Window.starting(DAY.plusHours(2), TEN_MINUTES)), first.id(), "same id as the original task");
        assertEquals(Set.of(LocalDate.parse("2024-03-10"), LocalDate.parse("2024-03-11")), r.manifest().datesOf(d7));
        assertTrue(r.manifest().datesOf(d12).isEmpty());
    }

    @Test
    void gaps_windowOfAnotherSize_doesNotFillTheGrid() {
        InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
        SeriesKey d3 = VDS30SEC.get(0);
        ledger.recordCompleted(d3.task("realtime", Window.starting(DAY, Duration.ofHours(1))), 1);
        assertEquals(6, GapDetector.of(ledger, TEN_MINUTES).gaps(d3, Window.starting(DAY, Duration.ofHours(1))).size());
        assertEquals(new TreeSet<>(), new TreeSet<>(GapDetector.of(ledger, Duration.ofHours(1)).gaps(d3, Window.starting(DAY, Duration.ofHours(1)))));
    }
}
