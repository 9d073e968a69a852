package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.JDBCType;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Snowflake sink against a real account. Runs only when SNOWFLAKE_URL ({@code jdbc:snowflake://…}),
 * SNOWFLAKE_USER, SNOWFLAKE_PASSWORD and SNOWFLAKE_SCHEMA ({@code DB.SCHEMA}, where it may create and drop
 * {@code RELAY_TEST_*} objects) are set; skipped otherwise. Needs snowflake-jdbc on the test classpath (it is:
 * the optional dependency of this module).
 */
class SnowflakeLiveTest {

    static String schema;
    static Properties props;
    static String url;

    @TempDir
    Path spool;

    @BeforeAll
    static void credentials() throws SQLException {
        url = System.getenv("SNOWFLAKE_URL");
        schema = System.getenv("SNOWFLAKE_SCHEMA");
        if (url == null || schema == null || System.getenv("SNOWFLAKE_USER") == null) {
            return;
        }
        props = new Properties();
        props.setProperty("user", System.getenv("SNOWFLAKE_USER"));
        props.setProperty("password", System.getenv().getOrDefault("SNOWFLAKE_PASSWORD", ""));
        execute("CREATE OR REPLACE STAGE " + schema + ".RELAY_TEST_STAGE");
        execute("CREATE OR REPLACE TABLE " + schema + ".RELAY_TEST_VDS (SAMPLE_TIME TIMESTAMP_NTZ, VDS_ID NUMBER,"
                + " LOOP1_VOL NUMBER, FILENAME VARCHAR)");
    }

    @AfterAll
    static void dropObjects() throws SQLException {
        if (props != null) {
            execute("DROP TABLE IF EXISTS " + schema + ".RELAY_TEST_VDS");
            execute("DROP TABLE IF EXISTS " + schema + ".RELAY_TEST_CONFIG");
            execute("DROP STAGE IF EXISTS " + schema + ".RELAY_TEST_STAGE");
        }
    }

    @BeforeEach
    void requireCredentials() {
        Assumptions.assumeTrue(props != null,
                "no Snowflake credentials (SNOWFLAKE_URL, SNOWFLAKE_USER, SNOWFLAKE_PASSWORD, SNOWFLAKE_SCHEMA): skipped");
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection(url, props);
    }

    static void execute(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static long count(String table) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    UrlDataSource dataSource() {
        return new UrlDataSource(url, props);
    }

    static void run(Sink sink, Task task, RowSchema schema, List<Row> rows) {
        try (SinkSession session = sink.open(task, schema)) {
            session.write(rows);
            session.commit();
        }
    }

    @Test
    void append_twice_loadsTheRowsOnce() throws Exception {
        Sink sink = SnowflakeSink.builder(dataSource()).table(schema + ".RELAY_TEST_VDS")
                .stage("@" + schema + ".RELAY_TEST_STAGE").spoolDirectory(spool).rowsPerFile(4)
                .filenameColumn("FILENAME").build();
        Task task = SnowflakeSinkTest.windowTask();
        run(sink, task, SnowflakeSinkTest.SCHEMA, SnowflakeSinkTest.rows(10));
        run(sink, task.withAttempt(2), SnowflakeSinkTest.SCHEMA, SnowflakeSinkTest.rows(10));
        assertEquals(10, count(schema + ".RELAY_TEST_VDS"));
    }

    @Test
    void snapshot_twice_leavesOneCopy() throws Exception {
        RowSchema config = RowSchema.of(new Column("STATION_ID", JDBCType.INTEGER), new Column("NAME", JDBCType.VARCHAR));
        List<Row> rows = List.of(Row.of(config, 1, "Main St"), Row.of(config, 2, SourceFixture.HOSTILE),
                Row.of(config, 3, null), Row.of(config, 4, ""));
        Sink sink = SnowflakeSink.builder(dataSource()).table(schema + ".RELAY_TEST_CONFIG")
                .stage("@" + schema + ".RELAY_TEST_STAGE").spoolDirectory(spool).snapshot().minimumRows(1).build();
        Task task = Task.snapshot("config", "station-config", Snapshot.of(SnowflakeSinkTest.DAY));
        run(sink, task, config, rows);
        run(sink, task.withAttempt(2), config, rows);
        assertEquals(4, count(schema + ".RELAY_TEST_CONFIG"));
        Sink merge = SnowflakeSink.builder(dataSource()).table(schema + ".RELAY_TEST_CONFIG")
                .stage("@" + schema + ".RELAY_TEST_STAGE").spoolDirectory(spool).merge("STATION_ID").build();
        run(merge, task.withAttempt(3), config, rows);
        assertEquals(4, count(schema + ".RELAY_TEST_CONFIG"));
    }
}
