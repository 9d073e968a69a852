package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.InvalidTaskException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.JDBCType;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.relay.jdbc.SourceFixture.DAY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every database the {@link WindowSink} writes to must show: replace-by-window leaves exactly the source's
 * rows after repeats, interruptions and failures, and never leaks a connection. Subclasses give the database.
 */
abstract class WindowSinkContract {

    static final String TABLE = "VDS30SEC_COPY";

    CountingDataSource target;

    /** @return a data source on an empty database or schema of the subclass's kind */
    abstract DataSource freshTarget() throws Exception;

    /** @return its dialect */
    abstract Dialect dialect();

    @BeforeEach
    void createTarget() throws Exception {
        target = new CountingDataSource(freshTarget());
        execute(Vds30Sec.ddl(TABLE));
        execute("ALTER TABLE " + TABLE + " ADD COLUMN DISTRICT VARCHAR(8)");
    }

    WindowSink sink() {
        return WindowSink.builder(target, dialect()).table(TABLE).timeColumn("SAMPLE_TIME")
                .taskColumn("DISTRICT", "district").batchSize(250).build();
    }

    static Task task(String district, int fromHour, int toHour) {
        return Task.builder("realtime", "vds30sec").scope(Window.of(DAY.atTime(fromHour, 0), DAY.atTime(toHour, 0)))
                .parameter("district", district).build();
    }

    List<String> stored(String district, int fromHour, int toHour) throws SQLException {
        try (Connection c = target.getConnection()) {
            return SourceFixture.canonical(c, "SELECT " + columns() + " FROM " + TABLE + " WHERE DISTRICT = '"
                    + district + "' AND SAMPLE_TIME >= TIMESTAMP '" + DAY + " " + String.format("%02d", fromHour)
                    + ":00:00' AND SAMPLE_TIME < TIMESTAMP '" + DAY + " " + String.format("%02d", toHour) + ":00:00'");
        }
    }

    long count() throws SQLException {
        try (Connection c = target.getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT COUNT(*) FROM " + TABLE)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String columns() {
        StringBuilder sb = new StringBuilder("SAMPLE_TIME, RECV_TIME, VDS_ID");
        for (int i = 1; i <= Vds30Sec.LOOPS; i++) {
            sb.append(", LOOP").append(i).append("_VOL, LOOP").append(i).append("_OCC, LOOP").append(i).append("_SPD");
        }
        return sb.toString();
    }

    void execute(String sql) throws SQLException {
        try (Connection c = target.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static List<String> source(Task task) {
        return SourceFixture.canonical(TestRelay.pullAll(SourceFixture.puller(), task));
    }

    @Test
    void relay_twice_leavesExactlyTheSourceRows() throws Exception {
        Task task = task("D7", 10, 12);
        assertEquals(720, TestRelay.relay(SourceFixture.puller(), sink(), task));
        assertEquals(720, TestRelay.relay(SourceFixture.puller(), sink(), task.withAttempt(2)));
        assertEquals(source(task), stored("D7", 10, 12));
        assertEquals(720, count());
        assertEquals(0, target.openConnections());
    }

    @Test
    void relay_interruptedMidWriteThenRetried_leavesExactlyTheSourceRows() throws Exception {
        Task task = task("D7", 0, 3);
        Sink sink = sink();
        // attempt 1 writes some chunks and dies before commit (the worker is abandoned; close() aborts)
        try (RowCursor cursor = SourceFixture.puller().open(task); SinkSession session = sink.open(task, cursor.schema())) {
            session.write(cursor.next());
            session.write(cursor.next());
        }
        assertEquals(0, count(), "nothing of an uncommitted session is visible");
        TestRelay.relay(SourceFixture.puller(), sink, task.withAttempt(2));
        assertEquals(source(task), stored("D7", 0, 3));
        assertEquals(1080, count());
        assertEquals(0, target.openConnections());
    }

    @Test
    void relay_retryOverAnEarlierCommittedCopy_replacesItWithoutDuplicates() throws Exception {
        Task task = task("D7", 5, 6);
        TestRelay.relay(SourceFixture.puller(), sink(), task);
        // a stale copy: someone's earlier load of the same window with other values
        execute("UPDATE " + TABLE + " SET LOOP1_VOL = 999");
        TestRelay.relay(SourceFixture.puller(), sink(), task.withAttempt(3));
        assertEquals(source(task), stored("D7", 5, 6));
    }

    @Test
    void relay_otherWindowsAndDistricts_areLeftAlone() throws Exception {
        Task d7 = task("D7", 1, 2);
        Task d4 = task("D4", 1, 2);
        Task next = task("D7", 2, 3);
        TestRelay.relay(SourceFixture.puller(), sink(), d7);
        TestRelay.relay(SourceFixture.puller(), sink(), d4);
        TestRelay.relay(SourceFixture.puller(), sink(), next);
        TestRelay.relay(SourceFixture.puller(), sink(), d7.withAttempt(2));
        assertEquals(source(d4), stored("D4", 1, 2));
        assertEquals(source(next), stored("D7", 2, 3), "the boundary row at 02:00 belongs to the next window only");
        assertEquals(3 * 360, count());
    }

    @Test
    void relay_autumnRepeatedHourTwice_storesBothHoursRowsOnce() throws Exception {
        Task task = Task.builder("realtime", "vds30sec")
                .scope(Window.of(SourceFixture.AUTUMN.atTime(1, 0), SourceFixture.AUTUMN.atTime(2, 0)))
                .parameter("district", "D7").build();
        assertEquals(720, TestRelay.relay(SourceFixture.puller(), sink(), task));
        assertEquals(720, TestRelay.relay(SourceFixture.puller(), sink(), task.withAttempt(2)));
        assertEquals(720, count(), "3 stations x 2 passes x 120 samples, once");
        try (Connection c = target.getConnection()) {
            assertEquals(source(task), SourceFixture.canonical(c, "SELECT " + columns() + " FROM " + TABLE));
        }
    }

    @Test
    void write_failingMidBatch_commitsNothingAndLeaksNoConnection() throws Exception {
        Task task = task("D7", 8, 9);
        TestRelay.relay(SourceFixture.puller(), sink(), task);
        List<String> before = stored("D7", 8, 9);
        List<Row> rows = TestRelay.pullAll(SourceFixture.puller(), task);
        // a NOT NULL column is null in the middle of the second batch
        List<Row> broken = new ArrayList<>(rows);
        Row bad = rows.get(300);
        Object[] values = new Object[bad.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = bad.get(i);
        }
        values[2] = null;
        broken.set(300, Row.of(bad.schema(), values));
        SinkSession session = sink().open(task.withAttempt(2), bad.schema());
        SinkException e = assertThrows(SinkException.class, () -> {
            session.write(broken.subList(0, 200));
            session.write(broken.subList(200, broken.size()));
            session.commit();
        });
        assertTrue(e.getMessage().contains(task.id()) && e.retryable(), e.getMessage());
        session.close();
        assertEquals(before, stored("D7", 8, 9), "the window holds the earlier commit, untouched");
        assertEquals(360, count());
        assertEquals(0, target.openConnections());
        assertThrows(SinkException.class, session::commit, "a failed session stays failed");
    }

    /** The task column as an INTEGER: the PeMS district number, filled from the tasks' "district" parameter. */
    void integerDistrictColumn() throws SQLException {
        execute("ALTER TABLE " + TABLE + " DROP COLUMN DISTRICT");
        execute("ALTER TABLE " + TABLE + " ADD COLUMN DISTRICT INTEGER");
    }

    /** Writes the rows of {@code source}'s window as the task {@code task} (whose parameters fill the task columns). */
    long write(Sink sink, Task source, Task task) {
        List<Row> rows = TestRelay.pullAll(SourceFixture.puller(), source);
        try (SinkSession session = sink.open(task, rows.get(0).schema())) {
            session.write(rows);
            session.commit();
        }
        return rows.size();
    }

    long count(String where) throws SQLException {
        try (Connection c = target.getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT COUNT(*) FROM " + TABLE + " WHERE " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void relay_integerTaskColumn_bindsTheParameterAsAnIntegerAndReplaces() throws Exception {
        integerDistrictColumn();
        Sink sink = sink();
        Task seven = Task.builder("realtime", "vds30sec").scope(Window.of(DAY.atTime(3, 0), DAY.atTime(4, 0)))
                .parameter("district", "7").build();
        Task four = Task.builder("realtime", "vds30sec").scope(Window.of(DAY.atTime(3, 0), DAY.atTime(4, 0)))
                .parameter("district", "4").build();
        long rows = write(sink, task("D7", 3, 4), seven);
        write(sink, task("D4", 3, 4), four);
        write(sink, task("D7", 3, 4), seven.withAttempt(2));
        assertEquals(rows, count("DISTRICT = 7"), "district 7's window replaced, not doubled");
        assertEquals(rows, count("DISTRICT = 4"), "district 4's window left alone");
        assertEquals(2 * rows, count());
        assertEquals(0, target.openConnections());
    }

    @Test
    void open_taskColumnValueNotOfTheColumnsType_failsWithoutRetryNamingValueAndColumn() throws Exception {
        integerDistrictColumn();
        Sink sink = sink();
        Task seven = Task.builder("realtime", "vds30sec").scope(Window.of(DAY.atTime(3, 0), DAY.atTime(4, 0)))
                .parameter("district", "7").build();
        long rows = write(sink, task("D7", 3, 4), seven);
        Task named = task("D7", 3, 4); // "D7" where the column holds district numbers
        RowSchema schema = TestRelay.pullAll(SourceFixture.puller(), named).get(0).schema();
        SinkException e = assertThrows(SinkException.class, () -> sink.open(named, schema));
        assertFalse(e.retryable(), "a configuration error is not retried");
        for (String part : List.of("'district'", "'D7'", "DISTRICT", "INTEGER", named.id())) {
            assertTrue(e.getMessage().contains(part), "names " + part + ": " + e.getMessage());
        }
        assertEquals(rows, count(), "nothing deleted");
        assertEquals(0, target.openConnections());

        // a fresh sink meets the same at its first use of the table
        SinkException first = assertThrows(SinkException.class, () -> sink().open(named, schema));
        assertFalse(first.retryable());
    }

    @Test
    void open_taskColumnOfATypeNoParameterFills_failsWithoutRetry() throws Exception {
        execute("ALTER TABLE " + TABLE + " DROP COLUMN DISTRICT");
        execute("ALTER TABLE " + TABLE + " ADD COLUMN DISTRICT " + binaryType());
        Task task = task("D7", 3, 4);
        RowSchema schema = TestRelay.pullAll(SourceFixture.puller(), task).get(0).schema();
        SinkException e = assertThrows(SinkException.class, () -> sink().open(task, schema));
        assertFalse(e.retryable());
        assertTrue(e.getMessage().contains("cannot be filled from a task parameter"), e.getMessage());
        assertEquals(0, target.openConnections());
    }

    /** @return a binary column type of the subclass's database */
    String binaryType() {
        return "VARBINARY(16)";
    }

    @Test
    void write_rowOutsideTheWindow_failsWithoutRetry() throws Exception {
        Task task = task("D7", 8, 9);
        List<Row> other = TestRelay.pullAll(SourceFixture.puller(), task("D7", 9, 10));
        try (SinkSession session = sink().open(task, other.get(0).schema())) {
            SinkException e = assertThrows(SinkException.class, () -> session.write(other.subList(0, 1)));
            assertFalse(e.retryable());
            assertTrue(e.getMessage().contains("outside the task's window"), e.getMessage());
        }
        assertEquals(0, count());
        assertEquals(0, target.openConnections());
    }

    @Test
    void abort_fromAnotherThread_rollsBackAndEndsTheSession() throws Exception {
        Task task = task("D7", 3, 4);
        List<Row> rows = TestRelay.pullAll(SourceFixture.puller(), task);
        SinkSession session = sink().open(task, rows.get(0).schema());
        session.write(rows.subList(0, 100));
        CompletableFuture.runAsync(session::abort).get(30, TimeUnit.SECONDS);
        assertThrows(SinkException.class, () -> session.write(rows.subList(100, 200)));
        assertThrows(SinkException.class, session::commit);
        session.close();
        assertEquals(0, count());
        assertEquals(0, target.openConnections());
    }

    @Test
    void write_hostileStringValue_isStoredAsData() throws Exception {
        execute("CREATE TABLE NOTES (SAMPLE_TIME TIMESTAMP, NOTE VARCHAR(200))");
        execute("CREATE TABLE VICTIM (X INTEGER)");
        RowSchema schema = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP), new Column("NOTE", JDBCType.VARCHAR));
        String hostile = "x'); DROP TABLE VICTIM; --";
        Task task = Task.window("realtime", "notes", Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)));
        Sink sink = WindowSink.builder(target, dialect()).table("NOTES").timeColumn("SAMPLE_TIME").build();
        for (int attempt = 1; attempt <= 2; attempt++) {
            try (SinkSession session = sink.open(task.withAttempt(attempt), schema)) {
                session.write(List.of(Row.of(schema, DAY.atTime(0, 30), hostile), Row.of(schema, DAY.atTime(0, 31), null)));
                session.commit();
            }
        }
        try (Connection c = target.getConnection()) {
            assertEquals(List.of(DAY.atTime(0, 30) + "|" + hostile + "|", DAY.atTime(0, 31) + "|null|"),
                    SourceFixture.canonical(c, "SELECT SAMPLE_TIME, NOTE FROM NOTES"));
            assertEquals(List.of(), SourceFixture.canonical(c, "SELECT * FROM VICTIM"), "VICTIM still exists");
        }
    }

    @Test
    void open_hostileColumnNameOrTableParameter_isRejectedBeforeAnySql() throws Exception {
        Task task = task("D7", 0, 1);
        RowSchema evil = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP),
                new Column("X) VALUES (1); DROP TABLE " + TABLE + "; --", JDBCType.INTEGER));
        SinkException e = assertThrows(SinkException.class, () -> sink().open(task, evil));
        assertFalse(e.retryable());
        WindowSink templated = WindowSink.builder(target, dialect()).table("${district}_COPY")
                .identifier("district", "D[0-9]{1,2}").timeColumn("SAMPLE_TIME").build();
        Task hostile = Task.builder("realtime", "vds30sec").scope(Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)))
                .parameter("district", "VDS30SEC_COPY; DROP TABLE VDS30SEC_COPY").build();
        RowSchema ok = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP));
        assertThrows(InvalidTaskException.class, () -> templated.open(hostile, ok));
        assertEquals(0, count(), "the table is still there");
        assertEquals(0, target.openConnections());
    }

    @Test
    void open_snapshotTask_isAnInvalidTask() {
        Task snapshot = Task.snapshot("config", "station-config-v1", dev.relay.api.Snapshot.of(DAY));
        assertThrows(InvalidTaskException.class, () -> sink().open(snapshot,
                RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP))));
    }

    @Test
    void write_timeColumnIsLocalDateTime_evenInTheSkippedSpringHour() throws Exception {
        // America/Los_Angeles JVM: a Timestamp-based bind would store 03:30
        execute("CREATE TABLE T2 (SAMPLE_TIME TIMESTAMP)");
        RowSchema schema = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP));
        LocalDateTime skipped = LocalDateTime.of(2024, 3, 10, 2, 30);
        Task task = Task.window("realtime", "t2", Window.of(skipped.withMinute(0), skipped.withMinute(0).plusHours(1)));
        try (SinkSession session = WindowSink.builder(target, dialect()).table("T2").timeColumn("SAMPLE_TIME").build()
                .open(task, schema)) {
            session.write(List.of(Row.of(schema, skipped)));
            session.commit();
        }
        try (Connection c = target.getConnection()) {
            assertEquals(List.of(skipped + "|"), SourceFixture.canonical(c, "SELECT SAMPLE_TIME FROM T2"));
        }
    }
}
