package dev.relay.jdbc;

import dev.relay.api.PullException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.JDBCType;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The puller against a real PostgreSQL: DST windows, timeouts and cancellation. */
class JdbcPullerPostgresTest {

    static final String SCHEMA = "relay_jdbc_puller";
    static final LocalDate AUTUMN = LocalDate.of(2024, 11, 3);
    static final LocalDate SPRING = LocalDate.of(2024, 3, 10);

    static DataSource pg;

    @BeforeAll
    static void createSource() throws Exception {
        pg = PostgresTestSupport.freshSchema(SCHEMA);
        try (Connection c = pg.getConnection(); Statement s = c.createStatement()) {
            s.execute(Vds30Sec.ddl("vds30sec"));
            List<Object[]> rows = new ArrayList<>(Vds30Sec.samples(AUTUMN.atTime(0, 0), 360, 2));
            for (int i = 0; i < 120; i++) {
                LocalDateTime t = AUTUMN.atTime(1, 0).plusSeconds(30L * i);
                rows.add(Vds30Sec.row(t, t.plusSeconds(19), 1));
                rows.add(Vds30Sec.row(t, t.plusSeconds(19), 2));
            }
            rows.addAll(Vds30Sec.samples(SPRING.atTime(0, 0), 240, 2));
            rows.addAll(Vds30Sec.samples(SPRING.atTime(3, 0), 120, 2));
            Vds30Sec.insert(c, "vds30sec", rows);
        }
    }

    static JdbcPuller puller(DataSource ds, Duration timeout) {
        return JdbcPuller.builder(ds, Dialect.POSTGRESQL)
                .query(SourceQuery.window("vds30sec",
                        "SELECT * FROM vds30sec WHERE sample_time >= :start AND sample_time < :end").build())
                .query(SourceQuery.window("slow",
                        "SELECT s.x FROM generate_series(1, 3) s(x), (SELECT pg_sleep(:seconds)) z"
                                + " WHERE CAST(:start AS timestamp) < CAST(:end AS timestamp)")
                        .parameter("seconds", JDBCType.INTEGER).build())
                .fetchSize(100).chunkSize(100).queryTimeout(timeout).build();
    }

    static Task window(LocalDateTime start, LocalDateTime end) {
        return Task.window("realtime", "vds30sec", Window.of(start, end));
    }

    @Test
    void open_autumnRepeatedHour_isOneWindowWithBothHoursRows() {
        JdbcPuller puller = puller(pg, Duration.ofSeconds(30));
        List<Row> rows = TestRelay.pullAll(puller, window(AUTUMN.atTime(1, 0), AUTUMN.atTime(2, 0)));
        assertEquals(480, rows.size(), "2 stations x 2 passes x 120 samples");
        assertEquals(480, new HashSet<>(rows.stream().map(Vds30Sec::key).toList()).size());
        assertEquals(240, TestRelay.pullAll(puller, window(AUTUMN.atTime(0, 0), AUTUMN.atTime(1, 0))).size());
        assertEquals(240, TestRelay.pullAll(puller, window(AUTUMN.atTime(2, 0), AUTUMN.atTime(3, 0))).size());
    }

    @Test
    void open_springSkippedHour_isAnEmptyWindowWithoutError() {
        JdbcPuller puller = puller(pg, Duration.ofSeconds(30));
        assertEquals(List.of(), TestRelay.pullAll(puller, window(SPRING.atTime(2, 0), SPRING.atTime(3, 0))));
        List<Row> around = TestRelay.pullAll(puller, window(SPRING.atTime(1, 30), SPRING.atTime(3, 30)));
        assertEquals(240, around.size());
        assertTrue(around.stream().noneMatch(r -> ((LocalDateTime) r.get("SAMPLE_TIME")).getHour() == 2));
    }

    @Test
    void next_queryRunsPastTheTimeout_failsWithRetryablePullExceptionNamingTheTask() {
        CountingDataSource counting = new CountingDataSource(pg);
        Task task = Task.builder("realtime", "slow").scope(Window.of(AUTUMN.atTime(0, 0), AUTUMN.atTime(1, 0)))
                .parameter("seconds", "20").build();
        try (RowCursor cursor = puller(counting, Duration.ofSeconds(1)).open(task)) {
            PullException e = assertThrows(PullException.class, cursor::next);
            assertTrue(e.getMessage().contains(task.id()) && e.getMessage().contains("timed out"), e.getMessage());
            assertTrue(e.retryable());
        }
        assertEquals(0, counting.openConnections());
    }

    @Test
    void cancel_fromAnotherThreadWhileTheQueryRuns_stopsItWithPullException() throws Exception {
        Task task = Task.builder("realtime", "slow").scope(Window.of(AUTUMN.atTime(0, 0), AUTUMN.atTime(1, 0)))
                .parameter("seconds", "30").build();
        CountingDataSource counting = new CountingDataSource(pg);
        RowCursor cursor = puller(counting, Duration.ZERO).open(task);
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Throwable> result = CompletableFuture.supplyAsync(() -> {
            started.countDown();
            try {
                cursor.next();
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        started.await();
        // the query is running (or about to): cancel must reach it however long pg_sleep would take
        waitUntilRunning();
        cursor.cancel();
        Throwable thrown = result.get(20, TimeUnit.SECONDS);
        assertTrue(thrown instanceof PullException && thrown.getMessage().contains("cancelled"), String.valueOf(thrown));
        cursor.close();
        assertEquals(0, counting.openConnections());
    }

    private static void waitUntilRunning() throws Exception {
        for (int i = 0; i < 200; i++) {
            try (Connection c = pg.getConnection(); Statement s = c.createStatement();
                 var rs = s.executeQuery("SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%'"
                         + " AND state = 'active' AND pid <> pg_backend_pid()")) {
                rs.next();
                if (rs.getInt(1) > 0) {
                    return;
                }
            }
            Thread.sleep(25);
        }
    }
}
