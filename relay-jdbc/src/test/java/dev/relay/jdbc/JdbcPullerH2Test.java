package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.InvalidTaskException;
import dev.relay.api.PullException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.JDBCType;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/** The puller against H2 in Oracle mode, standing in for the PeMS Oracle source. */
class JdbcPullerH2Test {

    static final LocalDate DAY = LocalDate.of(2024, 3, 14);
    static final int STATIONS = 3;
    static final LocalDate AUTUMN = LocalDate.of(2024, 11, 3);
    static final LocalDate SPRING = LocalDate.of(2024, 3, 10);

    static JdbcDataSource source;
    static List<Object[]> dayRows;

    @BeforeAll
    static void createSource() throws Exception {
        source = H2TestSupport.oracleMode("puller");
        try (Connection c = source.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA D7");
            s.execute(Vds30Sec.ddl("D7.VDS30SEC"));
            s.execute("CREATE TABLE D7.VICTIM (X INTEGER)");
            s.execute("INSERT INTO D7.VICTIM VALUES (1)");
            s.execute("CREATE TABLE D7.STATION_CONFIG (STATION_ID INTEGER, NAME VARCHAR2(200))");
            s.execute("INSERT INTO D7.STATION_CONFIG VALUES (1, 'Main St'), (2, '''; DROP TABLE D7.VICTIM; --')");
            dayRows = Vds30Sec.samples(DAY.atStartOfDay(), 2880, STATIONS);
            Vds30Sec.insert(c, "D7.VDS30SEC", dayRows);
            // autumn: 01:00-02:00 local happens twice (PDT then PST); naive SAMPLE_TIME repeats
            List<Object[]> autumn = new ArrayList<>(Vds30Sec.samples(AUTUMN.atTime(0, 0), 360, 1));
            for (int i = 0; i < 120; i++) {
                LocalDateTime t = AUTUMN.atTime(1, 0).plusSeconds(30L * i);
                autumn.add(Vds30Sec.row(t, t.plusSeconds(19), 1)); // the second pass, told apart by RECV_TIME
            }
            Vds30Sec.insert(c, "D7.VDS30SEC", autumn);
            // spring: 02:00-03:00 local does not exist; samples jump from 01:59:30 to 03:00
            List<Object[]> spring = new ArrayList<>(Vds30Sec.samples(SPRING.atTime(0, 0), 240, 1));
            spring.addAll(Vds30Sec.samples(SPRING.atTime(3, 0), 120, 1));
            Vds30Sec.insert(c, "D7.VDS30SEC", spring);
        }
    }

    static JdbcPuller puller(javax.sql.DataSource ds, int chunkSize) {
        return JdbcPuller.builder(ds, Dialect.H2)
                .query(SourceQuery.window("vds30sec",
                                "SELECT * FROM ${district}.VDS30SEC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end")
                        .identifier("district", "D(3|4|5|6|7|8|10|11|12)").build())
                .query(SourceQuery.window("vds30sec-station",
                                "SELECT * FROM D7.VDS30SEC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end"
                                        + " AND VDS_ID = :vds")
                        .parameter("vds", JDBCType.INTEGER).build())
                .query(SourceQuery.snapshot("station-config", "SELECT * FROM D7.STATION_CONFIG ORDER BY STATION_ID")
                        .build())
                .query(SourceQuery.snapshot("station-by-name",
                        "SELECT * FROM D7.STATION_CONFIG WHERE NAME = :name").parameter("name", JDBCType.VARCHAR).build())
                .fetchSize(500).chunkSize(chunkSize).build();
    }

    static Task window(LocalDateTime start, LocalDateTime end) {
        return Task.builder("realtime", "vds30sec").scope(Window.of(start, end)).parameter("district", "D7").build();
    }

    @Test
    void open_adjacentWindows_pullEveryBoundaryRowExactlyOnce() {
        JdbcPuller puller = puller(source, 700);
        Set<String> expected = new TreeSet<>();
        dayRows.forEach(r -> expected.add(Vds30Sec.key(r)));
        // cut the day at arbitrary sample instants: every cut is a boundary that rows sit exactly on
        qt().withExamples(25).forAll(lists().of(integers().between(1, 2879)).ofSizeBetween(0, 10)).checkAssert(cuts -> {
            TreeSet<Integer> points = new TreeSet<>(cuts);
            points.add(0);
            points.add(2880);
            List<String> pulled = new ArrayList<>();
            Integer previous = null;
            for (int p : points) {
                if (previous != null) {
                    LocalDateTime start = DAY.atStartOfDay().plusSeconds(30L * previous);
                    LocalDateTime end = DAY.atStartOfDay().plusSeconds(30L * p);
                    for (Row row : TestRelay.pullAll(puller, window(start, end))) {
                        assertTrue(Window.of(start, end).contains((LocalDateTime) row.get("SAMPLE_TIME")));
                        pulled.add(Vds30Sec.key(row));
                    }
                }
                previous = p;
            }
            assertEquals(expected.size(), pulled.size(), "rows pulled over the windows " + points);
            assertEquals(expected, new TreeSet<>(pulled));
        });
    }

    @Test
    void open_oracleDialectOnH2InOracleMode_pullsTheSameRowsAndSchema() {
        JdbcPuller oracle = JdbcPuller.builder(source, Dialect.ORACLE)
                .query(SourceQuery.window("vds30sec",
                                "SELECT * FROM ${district}.VDS30SEC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end")
                        .identifier("district", "D(3|4|5|6|7|8|10|11|12)").build())
                .fetchSize(100).chunkSize(100).build();
        Task task = window(AUTUMN.atTime(0, 30), AUTUMN.atTime(2, 30));
        List<Row> viaOracle = TestRelay.pullAll(oracle, task);
        List<Row> viaH2 = TestRelay.pullAll(puller(source, 100), task);
        assertEquals(viaH2, viaOracle);
        assertEquals(60 + 240 + 60, viaOracle.size(), "00:30-01:00, both passes of 01:00-02:00, 02:00-02:30");
    }

    @Test
    void open_autumnRepeatedHour_isOneWindowWithBothHoursRows() {
        JdbcPuller puller = puller(source, 1000);
        List<Row> repeated = TestRelay.pullAll(puller, window(AUTUMN.atTime(1, 0), AUTUMN.atTime(2, 0)));
        assertEquals(240, repeated.size(), "both passes of 01:00-02:00, 120 samples each");
        assertEquals(240, new HashSet<>(repeated.stream().map(Vds30Sec::key).toList()).size());
        assertEquals(120, TestRelay.pullAll(puller, window(AUTUMN.atTime(0, 0), AUTUMN.atTime(1, 0))).size());
        assertEquals(120, TestRelay.pullAll(puller, window(AUTUMN.atTime(2, 0), AUTUMN.atTime(3, 0))).size());
    }

    @Test
    void open_springSkippedHour_isAnEmptyWindowWithoutError() {
        JdbcPuller puller = puller(source, 1000);
        try (RowCursor cursor = puller.open(window(SPRING.atTime(2, 0), SPRING.atTime(3, 0)))) {
            assertEquals(Vds30Sec.WIDTH, cursor.schema().size());
            assertEquals(List.of(), cursor.next());
            assertEquals(List.of(), cursor.next(), "end stays the end");
        }
        assertEquals(120, TestRelay.pullAll(puller, window(SPRING.atTime(1, 0), SPRING.atTime(2, 0))).size());
        assertEquals(120, TestRelay.pullAll(puller, window(SPRING.atTime(3, 0), SPRING.atTime(4, 0))).size());
    }

    @Test
    void next_timestampInSkippedHour_isReadUnshiftedInAZoneWithDst() throws Exception {
        // this JVM runs in America/Los_Angeles (surefire argLine): a value read through java.sql.Timestamp
        // would come back as 03:30
        JdbcDataSource ds = H2TestSupport.oracleMode("skipped");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE T (SAMPLE_TIME TIMESTAMP)");
            s.execute("INSERT INTO T VALUES (TIMESTAMP '2024-03-10 02:30:00')");
        }
        JdbcPuller puller = JdbcPuller.builder(ds, Dialect.H2).query(SourceQuery.window("t",
                "SELECT SAMPLE_TIME FROM T WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end").build()).build();
        List<Row> rows = TestRelay.pullAll(puller,
                Task.window("realtime", "t", Window.of(SPRING.atTime(2, 0), SPRING.atTime(3, 0))));
        assertEquals(List.of(SPRING.atTime(2, 30)), rows.stream().map(r -> r.get(0)).toList());
    }

    @Test
    void next_largeWindow_neverReturnsMoreThanTheChunkSize() {
        JdbcPuller puller = puller(source, 250);
        int total = 0;
        try (RowCursor cursor = puller.open(window(DAY.atTime(0, 0), DAY.atTime(6, 0)))) {
            for (List<Row> chunk = cursor.next(); !chunk.isEmpty(); chunk = cursor.next()) {
                assertTrue(chunk.size() <= 250, "chunk of " + chunk.size());
                total += chunk.size();
            }
        }
        assertEquals(720 * STATIONS, total);
    }

    @Test
    void schema_reportsColumnNamesAndJdbcTypes() {
        try (RowCursor cursor = puller(source, 10).open(window(DAY.atTime(0, 0), DAY.atTime(0, 1)))) {
            assertEquals(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP), cursor.schema().column(0));
            assertEquals(new Column("VDS_ID", JDBCType.INTEGER), cursor.schema().column(2));
            assertEquals(new Column("LOOP14_SPD", JDBCType.DOUBLE), cursor.schema().column(Vds30Sec.WIDTH - 1));
            Row first = cursor.next().get(0);
            assertEquals(DAY.atTime(0, 0), first.get("SAMPLE_TIME"));
        }
    }

    @Test
    void open_snapshotTask_pullsTheWholeTable() {
        List<Row> rows = TestRelay.pullAll(puller(source, 1),
                Task.snapshot("config", "station-config", Snapshot.of(DAY)));
        assertEquals(2, rows.size());
        assertEquals("Main St", rows.get(0).get("NAME"));
    }

    @Test
    void open_typedParameter_isBoundAndSelects() {
        Task task = Task.builder("realtime", "vds30sec-station").scope(Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)))
                .parameter("vds", "2").build();
        List<Row> rows = TestRelay.pullAll(puller(source, 1000), task);
        assertEquals(120, rows.size());
        assertTrue(rows.stream().allMatch(r -> ((Number) r.get("VDS_ID")).intValue() == 2));
    }

    @Test
    void open_hostileParameterValue_isDataNotSql() throws Exception {
        String hostile = "'; DROP TABLE D7.VICTIM; --";
        Task task = Task.builder("config", "station-by-name").scope(Snapshot.of(DAY)).parameter("name", hostile).build();
        List<Row> rows = TestRelay.pullAll(puller(source, 10), task);
        assertEquals(1, rows.size(), "the hostile text matched the one row that holds it, as data");
        assertEquals(hostile, rows.get(0).get("NAME"));
        assertVictimIntact();
    }

    @Test
    void open_hostileIdentifierValue_isAnInvalidTaskNamingTheValue() throws Exception {
        Task task = Task.builder("realtime", "vds30sec").scope(Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)))
                .parameter("district", "D7.VICTIM; DROP TABLE D7.VICTIM; --").build();
        InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> puller(source, 10).open(task));
        assertTrue(e.getMessage().contains("district") && e.getMessage().contains("DROP TABLE"), e.getMessage());
        assertTrue(!e.retryable());
        Task notAllowed = Task.builder("realtime", "vds30sec").scope(Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)))
                .parameter("district", "D9").build();
        assertThrows(InvalidTaskException.class, () -> puller(source, 10).open(notAllowed));
        assertVictimIntact();
    }

    @Test
    void open_unknownSource_isAnInvalidTaskListingTheRegisteredOnes() {
        InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> puller(source, 10)
                .open(Task.window("realtime", "vds-nope", Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)))));
        assertTrue(e.getMessage().contains("vds-nope") && e.getMessage().contains("station-config"), e.getMessage());
    }

    @Test
    void open_wrongScopeOrMissingParameter_isAnInvalidTask() {
        JdbcPuller puller = puller(source, 10);
        assertThrows(InvalidTaskException.class, () -> puller.open(Task.snapshot("c", "vds30sec", Snapshot.of(DAY))));
        assertThrows(InvalidTaskException.class, () -> puller.open(Task.window("c", "station-config",
                Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)))));
        InvalidTaskException missing = assertThrows(InvalidTaskException.class, () -> puller.open(
                Task.window("c", "vds30sec-station", Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)))));
        assertTrue(missing.getMessage().contains("'vds'"), missing.getMessage());
        InvalidTaskException malformed = assertThrows(InvalidTaskException.class, () -> puller.open(
                Task.builder("c", "vds30sec-station").scope(Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)))
                        .parameter("vds", "1 OR 1=1").build()));
        assertTrue(malformed.getMessage().contains("1 OR 1=1"), malformed.getMessage());
    }

    @Test
    void cancel_beforeTheQueryRuns_makesNextFailWithPullException() {
        CountingDataSource counting = new CountingDataSource(source);
        RowCursor cursor = puller(counting, 10).open(window(DAY.atTime(0, 0), DAY.atTime(1, 0)));
        cursor.cancel();
        PullException e = assertThrows(PullException.class, cursor::next);
        assertTrue(e.getMessage().contains("cancelled") && e.retryable(), e.getMessage());
        cursor.close();
        assertEquals(0, counting.openConnections());
    }

    @Test
    void cancel_midStream_makesTheNextChunkFail() {
        RowCursor cursor = puller(source, 10).open(window(DAY.atTime(0, 0), DAY.atTime(12, 0)));
        assertEquals(10, cursor.next().size());
        cursor.cancel();
        assertThrows(PullException.class, cursor::next);
        cursor.close();
    }

    @Test
    void close_withoutReadingOrAfterFailure_releasesTheConnection() {
        CountingDataSource counting = new CountingDataSource(source);
        JdbcPuller puller = puller(counting, 10);
        puller.open(window(DAY.atTime(0, 0), DAY.atTime(1, 0))).close();
        try (RowCursor cursor = puller.open(window(DAY.atTime(0, 0), DAY.atTime(1, 0)))) {
            cursor.next();
        }
        JdbcPuller broken = JdbcPuller.builder(counting, Dialect.H2).query(SourceQuery.window("broken",
                "SELECT * FROM D7.NO_SUCH_TABLE WHERE T >= :start AND T < :end").build()).build();
        RowCursor cursor = broken.open(Task.window("c", "broken", Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0))));
        PullException e = assertThrows(PullException.class, cursor::next);
        assertTrue(e.getMessage().contains("NO_SUCH_TABLE") && e.getMessage().contains("broken"), e.getMessage());
        cursor.close();
        assertEquals(3, counting.openedConnections());
        assertEquals(0, counting.openConnections());
    }

    private static void assertVictimIntact() throws Exception {
        try (Connection c = source.getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT COUNT(*) FROM D7.VICTIM")) {
            rs.next();
            assertEquals(1, rs.getInt(1));
        }
    }
}
