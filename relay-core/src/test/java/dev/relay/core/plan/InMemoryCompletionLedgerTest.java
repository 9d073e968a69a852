package dev.relay.core.plan;

import dev.relay.api.SeriesKey;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InMemoryCompletionLedgerTest {

    private static final SeriesKey D7 = SeriesKey.of("vds30sec", "district", "7");
    private static final SeriesKey D8 = SeriesKey.of("vds30sec", "district", "8");
    private static final LocalDateTime T = LocalDateTime.parse("2024-03-14T10:00");
    private static final Duration TEN = Duration.ofMinutes(10);

    private final InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();

    @Test
    void recordCompleted_twice_keepsOneRecord() {
        Task t = D7.task("realtime", Window.starting(T, TEN));
        ledger.recordCompleted(t, 5);
        ledger.recordCompleted(t.withLane("backfill").withAttempt(2), 5);
        assertEquals(1, ledger.size());
        assertTrue(ledger.isCompleted(t.id()));
        assertEquals(1, ledger.completedWindows(D7, Window.starting(T, TEN)).size());
    }

    @Test
    void completedWindows_selectsByStartInTheHalfOpenRange_perSeries() {
        for (int i = 0; i < 6; i++) {
            ledger.recordCompleted(D7.task("realtime", Window.starting(T.plusMinutes(10L * i), TEN)), 1);
        }
        ledger.recordCompleted(D8.task("realtime", Window.starting(T, TEN)), 1);
        Window range = new Window(T.plusMinutes(10), T.plusMinutes(40));
        assertEquals(List.of(T.plusMinutes(10), T.plusMinutes(20), T.plusMinutes(30)),
                ledger.completedWindows(D7, range).stream().map(Window::start).toList());
        assertEquals(3, ledger.countCompleted(D7, range));
        assertEquals(0, ledger.countCompleted(D8, range));
        assertEquals(0, ledger.countCompleted(SeriesKey.of("other"), range));
        assertEquals(2, ledger.countCompleted(D7, new Window(T.plusMinutes(5), T.plusMinutes(25))), "starts at :10 and :20");
    }

    @Test
    void recordCompleted_snapshot_isCompletedButNoWindow() {
        Task t = SeriesKey.of("pems.config", "table", "STATION_CONFIG").task("config", Snapshot.of(LocalDate.parse("2024-03-14")));
        ledger.recordCompleted(t, 24_448);
        assertTrue(ledger.isCompleted(t.id()));
        assertFalse(ledger.isCompleted(D7.taskId(Window.starting(T, TEN))));
    }

    @Test
    void recordPlanned_keepsTheLatestMark() {
        Task t = D7.task("realtime", Window.starting(T, TEN));
        assertEquals(Optional.empty(), ledger.plannedAt(t.id()));
        ledger.recordPlanned(t, Instant.parse("2024-03-14T17:00:00Z"));
        ledger.recordPlanned(t, Instant.parse("2024-03-14T18:00:00Z"));
        assertEquals(Optional.of(Instant.parse("2024-03-14T18:00:00Z")), ledger.plannedAt(t.id()));
    }

    @Test
    void recordCompleted_concurrently_losesNothing() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new java.util.ArrayList<>();
            for (int th = 0; th < 4; th++) {
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        ledger.recordCompleted(D7.task("realtime", Window.starting(T.plusMinutes(10L * i), TEN)), 1);
                    }
                }));
            }
            for (Future<?> f : fs) {
                f.get(1, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(2_000, ledger.size());
        assertEquals(2_000, ledger.countCompleted(D7, new Window(T, T.plusDays(30))));
    }
}
