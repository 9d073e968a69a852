package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.InvalidTaskException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.JDBCType;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static dev.relay.jdbc.SourceFixture.DAY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every database the {@link SnapshotSink} writes to must show: a snapshot replaces the table whole, a
 * repeat or a crashed earlier attempt can never multiply rows (the 14x DETECTOR_CONFIG incident), and a failed
 * load leaves yesterday's table untouched. Subclasses give the database.
 */
abstract class SnapshotSinkContract {

    static final String TABLE = "STATION_CONFIG";
    static final String COLUMNS = "STATION_ID, NAME, LATITUDE, VALID_FROM, ACTIVE";

    CountingDataSource target;

    abstract DataSource freshTarget() throws Exception;

    abstract Dialect dialect();

    @BeforeEach
    void createTarget() throws Exception {
        target = new CountingDataSource(freshTarget());
    }

    SnapshotSink sink() {
        return SnapshotSink.builder(target, dialect()).table(TABLE).batchSize(300).minimumRows(1).build();
    }

    static Task task(String version, int day) {
        return Task.snapshot("config", "station-config-" + version, Snapshot.of(DAY.plusDays(day)));
    }

    List<String> stored() throws SQLException {
        try (Connection c = target.getConnection()) {
            return SourceFixture.canonical(c, "SELECT " + COLUMNS + " FROM " + TABLE);
        }
    }

    static List<String> source(Task task) {
        return SourceFixture.canonical(TestRelay.pullAll(SourceFixture.puller(), task));
    }

    List<String> tables() throws SQLException {
        try (Connection c = target.getConnection();
             var rs = c.getMetaData().getTables(null, c.getSchema(), "%", new String[] {"TABLE"})) {
            List<String> names = new java.util.ArrayList<>();
            while (rs.next()) {
                names.add(rs.getString("TABLE_NAME").toUpperCase(java.util.Locale.ROOT));
            }
            names.sort(null);
            return names;
        }
    }

    void execute(String sql) throws SQLException {
        try (Connection c = target.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Test
    void relay_firstSnapshot_createsTheTableFromTheRowSchema() throws Exception {
        Task task = task("v1", 0);
        assertEquals(2000, TestRelay.relay(SourceFixture.puller(), sink(), task));
        assertEquals(source(task), stored());
        assertEquals(List.of(TABLE), tables(), "no staging table is left behind");
        assertEquals(0, target.openConnections());
    }

    @Test
    void relay_twiceAndThenTheNextDay_leavesExactlyTheLatestSnapshot() throws Exception {
        Task day1 = task("v1", 0);
        TestRelay.relay(SourceFixture.puller(), sink(), day1);
        TestRelay.relay(SourceFixture.puller(), sink(), day1.withAttempt(2));
        assertEquals(source(day1), stored());
        Task day2 = task("v2", 1);
        TestRelay.relay(SourceFixture.puller(), sink(), day2);
        TestRelay.relay(SourceFixture.puller(), sink(), day2.withAttempt(2));
        assertEquals(source(day2), stored());
        assertEquals(2500, stored().size());
        assertEquals(List.of(TABLE), tables());
        assertEquals(0, target.openConnections());
    }

    @Test
    void relay_existingTargetWithItsOwnTypes_isSwappedKeepingThem() throws Exception {
        execute("CREATE TABLE " + TABLE + " (STATION_ID INTEGER NOT NULL, NAME VARCHAR(300), LATITUDE DOUBLE PRECISION,"
                + " VALID_FROM TIMESTAMP, ACTIVE INTEGER)");
        execute("INSERT INTO " + TABLE + " VALUES (999999, 'old', 0, NULL, 0)");
        Task task = task("v1", 0);
        TestRelay.relay(SourceFixture.puller(), sink(), task);
        assertEquals(source(task), stored());
        try (Connection c = target.getConnection();
             var rs = c.getMetaData().getColumns(null, c.getSchema(), dialect().fold(TABLE), dialect().fold("NAME"))) {
            assertTrue(rs.next());
            assertEquals(300, rs.getInt("COLUMN_SIZE"), "the target's own column type survives the swap");
        }
    }

    @Test
    void relay_afterACrashedAttemptLeftAStagingTable_neverAppendsToIt() throws Exception {
        Task task = task("v1", 0);
        TestRelay.relay(SourceFixture.puller(), sink(), task);
        // a crash after loading the staging table but before the swap: the leftover holds a full copy
        String stage = SnapshotSink.helperTable(TABLE, task.id(), "RS");
        execute("CREATE TABLE " + stage + " AS SELECT * FROM " + TABLE);
        TestRelay.relay(SourceFixture.puller(), sink(), task.withAttempt(2));
        assertEquals(source(task), stored(), "exactly one copy, not two");
        assertEquals(List.of(TABLE), tables());
    }

    @Test
    void write_abortedMidLoad_leavesYesterdaysTableUntouched() throws Exception {
        Task yesterday = task("v1", 0);
        TestRelay.relay(SourceFixture.puller(), sink(), yesterday);
        Task today = task("v2", 1);
        try (RowCursor cursor = SourceFixture.puller().open(today); SinkSession session = sink().open(today, cursor.schema())) {
            session.write(cursor.next());
            session.write(cursor.next());
            session.abort();
        }
        assertEquals(source(yesterday), stored());
        assertEquals(List.of(TABLE), tables(), "the staging table is dropped");
        assertEquals(0, target.openConnections());
    }

    @Test
    void write_failingLoad_leavesYesterdaysTableUntouched() throws Exception {
        Task yesterday = task("v1", 0);
        TestRelay.relay(SourceFixture.puller(), sink(), yesterday);
        List<String> before = stored();
        Task today = task("v2", 1);
        List<Row> rows = new ArrayList<>(TestRelay.pullAll(SourceFixture.puller(), today));
        // one row in the middle of a later batch does not fit its column (text into the integer STATION_ID)
        Row good = rows.get(1700);
        Object[] values = new Object[good.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = good.get(i);
        }
        values[0] = "not a number";
        rows.set(1700, Row.of(good.schema(), values));
        SinkSession session = sink().open(today, good.schema());
        SinkException e = assertThrows(SinkException.class, () -> {
            for (int i = 0; i < rows.size(); i += 400) {
                session.write(rows.subList(i, Math.min(rows.size(), i + 400)));
            }
            session.commit();
        });
        session.close();
        assertTrue(e.getMessage().contains(today.id()) && e.retryable(), e.getMessage());
        assertEquals(before, stored());
        assertEquals(List.of(TABLE), tables(), "the staging table is dropped");
        assertEquals(0, target.openConnections());
    }

    @Test
    void commit_fewerRowsThanTheMinimum_failsWithoutRetryAndKeepsTheTable() throws Exception {
        Task yesterday = task("v1", 0);
        TestRelay.relay(SourceFixture.puller(), sink(), yesterday);
        Sink strict = SnapshotSink.builder(target, dialect()).table(TABLE).minimumRows(5000).build();
        SinkException e = assertThrows(SinkException.class,
                () -> TestRelay.relay(SourceFixture.puller(), strict, task("v2", 1)));
        assertFalse(e.retryable());
        assertTrue(e.getMessage().contains("5000"), e.getMessage());
        assertEquals(source(yesterday), stored());
        assertEquals(List.of(TABLE), tables());
    }

    @Test
    void open_windowTaskOrHostileTableParameter_isAnInvalidTask() throws Exception {
        RowSchema schema = RowSchema.of(new Column("X", JDBCType.INTEGER));
        Task window = Task.window("config", "x", Window.of(DAY.atTime(0, 0), DAY.atTime(1, 0)));
        assertThrows(InvalidTaskException.class, () -> sink().open(window, schema));
        Sink templated = SnapshotSink.builder(target, dialect()).table("${table}")
                .identifier("table", "(CONTROLLER|DETECTOR|STATION)_CONFIG(_LOG)?").build();
        Task hostile = Task.builder("config", "x").scope(Snapshot.of(DAY))
                .parameter("table", "STATION_CONFIG; DROP TABLE STATION_CONFIG").build();
        assertThrows(InvalidTaskException.class, () -> templated.open(hostile, schema));
        assertEquals(0, target.openConnections());
    }
}
