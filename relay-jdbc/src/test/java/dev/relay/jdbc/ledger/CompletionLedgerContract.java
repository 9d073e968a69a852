package dev.relay.jdbc.ledger;

import dev.relay.api.RelayException;
import dev.relay.api.SeriesKey;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TimeZone;
import java.util.TreeSet;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * What every database the JDBC ledger runs on must satisfy. Subclasses supply a Jdbi and a fresh table name.
 */
abstract class CompletionLedgerContract {

    static final SeriesKey D7 = SeriesKey.of("vds30sec", "district", "7");
    static final SeriesKey D8 = SeriesKey.of("vds30sec", "district", "8");
    static final LocalDateTime T = LocalDateTime.parse("2024-03-14T10:00");
    static final Duration TEN = Duration.ofMinutes(10);
    static final Instant NOW = Instant.parse("2024-03-15T03:00:00Z");

    protected Jdbi jdbi;
    protected String table;
    protected JdbcCompletionLedger ledger;

    /** @return a Jdbi over the database under test (may skip the test when the database is unreachable) */
    protected abstract Jdbi jdbi();

    /** @return a table name not used by any other test */
    protected abstract String freshTable();

    @BeforeEach
    void createLedger() {
        jdbi = jdbi();
        table = freshTable();
        ledger = JdbcCompletionLedger.builder(jdbi).table(table).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
        ledger.createTableIfNotExists();
    }

    @AfterEach
    void dropTable() {
        if (jdbi != null && table != null) {
            jdbi.useHandle(h -> h.execute("DROP TABLE IF EXISTS " + table));
        }
    }

    static Task window(SeriesKey series, LocalDateTime start) {
        return series.task("realtime", Window.starting(start, TEN));
    }

    @Test
    void createTableIfNotExists_twice_isHarmless() {
        ledger.createTableIfNotExists();
        ledger.recordCompleted(window(D7, T), 1);
        ledger.createTableIfNotExists();
        assertTrue(ledger.isCompleted(window(D7, T).id()));
    }

    @Test
    void recordCompleted_twice_keepsTheFirstCompletion() {
        Task t = window(D7, T);
        ledger.recordCompleted(t, 5);
        JdbcCompletionLedger later = JdbcCompletionLedger.builder(jdbi).table(table)
                .clock(Clock.fixed(NOW.plusSeconds(60), ZoneOffset.UTC)).build();
        later.recordCompleted(t.withLane("backfill").withAttempt(3), 7);
        assertTrue(ledger.isCompleted(t.id()));
        Map<String, Object> row = jdbi.withHandle(h -> h.createQuery("SELECT rows_written, completed_at FROM " + table)
                .mapToMap().one());
        assertEquals(5L, ((Number) row.get("rows_written")).longValue());
        long count = jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM " + table).mapTo(Long.class).one());
        assertEquals(1, count);
    }

    @Test
    void isCompleted_unknownOrOnlyPlanned_isFalse() {
        Task t = window(D7, T);
        assertFalse(ledger.isCompleted(t.id()));
        ledger.recordPlanned(t, NOW);
        assertFalse(ledger.isCompleted(t.id()));
        assertEquals(0, ledger.countCompleted(D7, Window.starting(T, TEN)));
        ledger.recordCompleted(t, 1);
        assertTrue(ledger.isCompleted(t.id()));
        assertEquals(Optional.of(NOW), ledger.plannedAt(t.id()), "completion keeps the planned mark");
    }

    @Test
    void completedWindows_selectsByStartInTheHalfOpenRange_perSeries_inOrder() {
        for (int i = 5; i >= 0; i--) {
            ledger.recordCompleted(window(D7, T.plusMinutes(10L * i)), 1);
        }
        ledger.recordCompleted(window(D8, T.plusMinutes(10)), 1);
        Window range = new Window(T.plusMinutes(10), T.plusMinutes(40));
        assertEquals(List.of(Window.starting(T.plusMinutes(10), TEN), Window.starting(T.plusMinutes(20), TEN),
                Window.starting(T.plusMinutes(30), TEN)), List.copyOf(ledger.completedWindows(D7, range)));
        assertEquals(3, ledger.countCompleted(D7, range));
        assertEquals(1, ledger.countCompleted(D8, range));
        assertEquals(0, ledger.countCompleted(SeriesKey.of("vds30sec", "district", "70"), range));
        assertEquals(2, ledger.completedWindows(D7, new Window(T.plusMinutes(5), T.plusMinutes(25))).size());
    }

    @Test
    void recordCompleted_snapshot_isCompletedAndNotAWindow() {
        Task t = SeriesKey.of("pems.config", "table", "DETECTOR_CONFIG_LOG").task("config", Snapshot.of(LocalDate.parse("2024-03-14")));
        ledger.recordCompleted(t, 5_613_692);
        assertTrue(ledger.isCompleted(t.id()));
        assertEquals(LocalDate.parse("2024-03-14"), jdbi.withHandle(h -> h.createQuery("SELECT snapshot_day FROM " + table)
                .map((rs, ctx) -> rs.getObject(1, LocalDate.class)).one()));
    }

    @Test
    void recordPlanned_keepsTheLatestMark() {
        Task t = window(D7, T);
        assertEquals(Optional.empty(), ledger.plannedAt(t.id()));
        ledger.recordPlanned(t, Instant.parse("2024-03-14T17:00:00Z"));
        ledger.recordPlanned(t, Instant.parse("2024-03-14T18:30:00Z"));
        assertEquals(Optional.of(Instant.parse("2024-03-14T18:30:00Z")), ledger.plannedAt(t.id()));
    }

    @Test
    void seriesKey_withAwkwardParameterValues_roundTrips() {
        SeriesKey odd = SeriesKey.of("src", Map.of("a", "x;y=z", "b", "ünï code %20"));
        ledger.recordCompleted(window(odd, T), 1);
        assertEquals(1, ledger.countCompleted(odd, Window.starting(T, TEN)));
        assertEquals(0, ledger.countCompleted(SeriesKey.of("src", Map.of("a", "x;y=z")), Window.starting(T, TEN)));
        assertEquals(odd.canonical(), jdbi.withHandle(h -> h.createQuery("SELECT series FROM " + table).mapTo(String.class).one()));
    }

    /** Regression guard: binding through java.sql.Timestamp would move 02:30 of the JVM zone's spring day. */
    @Test
    void completedWindows_windowInTheSpringGapOfTheJvmZone_isStoredAsItIs() {
        TimeZone saved = TimeZone.getDefault();
        TimeZone.setDefault(TimeZone.getTimeZone("America/Los_Angeles"));
        try {
            LocalDateTime gap = LocalDateTime.parse("2024-03-10T02:30");
            ledger.recordCompleted(window(D7, gap), 0);
            assertEquals(List.of(Window.starting(gap, TEN)),
                    List.copyOf(ledger.completedWindows(D7, new Window(gap.minusHours(3), gap.plusHours(3)))));
        } finally {
            TimeZone.setDefault(saved);
        }
    }

    @Test
    void recordCompletedAndPlanned_concurrentlyOnTheSameTasks_leaveOneCompletedRowEach() throws Exception {
        int threads = 4;
        int tasks = 40;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int th = 0; th < threads; th++) {
                int me = th;
                fs.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < tasks; i++) {
                        Task t = window(D7, T.plusMinutes(10L * i));
                        if (me % 2 == 0) {
                            ledger.recordPlanned(t, NOW);
                        }
                        ledger.recordCompleted(t, i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(tasks, ledger.countCompleted(D7, new Window(T, T.plusDays(1))));
        long rows = jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM " + table).mapTo(Long.class).one());
        assertEquals(tasks, rows);
    }

    /** Property: after any sequence of completions, the ledger answers range queries like a sorted set. */
    @Test
    void completedWindows_matchASortedSetModel() {
        qt().withFixedSeed(5L).withExamples(15)
                .forAll(lists().of(integers().between(0, 300)).ofSizeBetween(0, 40), integers().between(0, 300), integers().between(1, 120))
                .checkAssert((starts, from, length) -> {
                    SeriesKey series = SeriesKey.of("prop", "run", Integer.toString(System.identityHashCode(starts)) + from + length);
                    TreeSet<Window> model = new TreeSet<>();
                    for (int s : starts) {
                        Task t = window(series, T.plusMinutes(10L * s));
                        ledger.recordCompleted(t, s);
                        model.add(t.window().orElseThrow());
                    }
                    Window range = new Window(T.plusMinutes(10L * from), T.plusMinutes(10L * (from + length)));
                    TreeSet<Window> expected = new TreeSet<>();
                    model.forEach(w -> {
                        if (!w.start().isBefore(range.start()) && w.start().isBefore(range.end())) {
                            expected.add(w);
                        }
                    });
                    assertEquals(expected, ledger.completedWindows(series, range));
                    assertEquals(expected.size(), ledger.countCompleted(series, range));
                });
    }

    @Test
    void recordCompleted_seriesKeyTooLongForTheColumn_failsForGoodNamingIt() {
        SeriesKey huge = SeriesKey.of("src", Map.of("a", "x".repeat(1000), "b", "y".repeat(1000)));
        RelayException e = assertThrows(RelayException.class, () -> ledger.recordCompleted(window(huge, T), 1));
        assertFalse(e.retryable());
        assertTrue(e.getMessage().contains("2000"), e.getMessage());
    }

    @Test
    void queries_onAMissingTable_failAsRetryableRelayExceptionNamingTheTable() {
        JdbcCompletionLedger missing = JdbcCompletionLedger.builder(jdbi).table("no_such_ledger_table").build();
        RelayException e = assertThrows(RelayException.class, () -> missing.isCompleted("x"));
        assertTrue(e.getMessage().contains("no_such_ledger_table"), e.getMessage());
        assertTrue(e.retryable());
        assertThrows(RelayException.class, () -> missing.recordCompleted(window(D7, T), 1));
    }
}
