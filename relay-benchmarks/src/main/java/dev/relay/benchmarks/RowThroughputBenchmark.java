package dev.relay.benchmarks;

import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.JdbcPuller;
import dev.relay.jdbc.SourceQuery;
import dev.relay.jdbc.WindowSink;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Rows per second of one window of {@value #ROWS} VDS30SEC rows (sample time, receive time, station, and 14
 * loops × volume / occupancy / speed: 45 columns, some of them null) copied from a source table to a target
 * table, on H2 (in memory, {@code MODE=Oracle}, source and target in two databases) and on PostgreSQL
 * (127.0.0.1:5432, user {@code postgres}, database {@code test}, or where the RELAY_PG_* environment variables
 * of the README point; one schema private to the JVM; the
 * {@code postgresql} parameter fails its setup when the server is not reachable).
 *
 * <p>One operation copies the whole window, so the score is rows per second:
 * <ul>
 *   <li>{@code relay}: what the engine does with one window task, without the engine: the
 *       {@link JdbcPuller} opens a cursor on the window query (fetch size {@value #FETCH}, chunks of
 *       {@value #BATCH} rows), a {@link WindowSink} session is opened on the target (it deletes the window),
 *       every chunk is written (batch inserts of {@value #BATCH}), and the session commits;</li>
 *   <li>{@code plain} (the baseline): the hand-written JDBC loop doing the same work: delete the window in
 *       the target, {@code SELECT *} with the same fetch size (auto-commit off, so that PostgreSQL streams),
 *       {@code setObject} each column into a batch {@code INSERT}, executed every {@value #BATCH} rows, and
 *       commit.</li>
 * </ul>
 * Both delete the rows the previous operation wrote, so every operation does the same work.
 *
 * <pre>
 *   java -jar relay-benchmarks/target/benchmarks.jar RowThroughputBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
@State(Scope.Benchmark)
public class RowThroughputBenchmark {

    /** Rows in the window: 100 stations × 500 samples of 30 s. */
    public static final int ROWS = 50_000;
    static final int STATIONS = 100;
    static final int LOOPS = 14;
    static final int WIDTH = 3 + 3 * LOOPS;
    static final int FETCH = 5_000;
    static final int BATCH = 1_000;
    static final LocalDateTime START = LocalDateTime.of(2024, 3, 14, 0, 0);
    static final Window WINDOW = Window.of(START, START.plusSeconds(30L * (ROWS / STATIONS)));
    private static final AtomicInteger DATABASES = new AtomicInteger();

    @Param({"h2", "postgresql"})
    public String db;

    @Param({"relay", "plain"})
    public String impl;

    DataSource source;
    DataSource target;
    Dialect dialect;
    String pgSchema;
    JdbcPuller puller;
    WindowSink sink;
    Task task;
    int attempt;

    @Setup(Level.Trial)
    public void setUp() throws SQLException {
        if ("h2".equals(db)) {
            source = h2("relaysource");
            target = h2("relaytarget");
            dialect = Dialect.H2;
        } else if ("postgresql".equals(db)) {
            pgSchema = "relay_bench_rows_" + ProcessHandle.current().pid();
            try (Connection c = postgres(null).getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + pgSchema + " CASCADE");
                s.execute("CREATE SCHEMA " + pgSchema);
            }
            source = postgres(pgSchema);
            target = source;
            dialect = Dialect.POSTGRESQL;
        } else {
            throw new IllegalArgumentException("db: " + db);
        }
        try (Connection c = source.getConnection(); Statement s = c.createStatement()) {
            s.execute(ddl("vds30sec"));
            fill(c);
        }
        try (Connection c = target.getConnection(); Statement s = c.createStatement()) {
            s.execute(ddl("vds30sec_copy"));
            if (dialect == Dialect.POSTGRESQL) {
                s.execute("ANALYZE vds30sec");
            }
        }
        puller = JdbcPuller.builder(source, dialect)
                .query(SourceQuery.window("vds30sec",
                        "SELECT * FROM vds30sec WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end").build())
                .fetchSize(FETCH).chunkSize(BATCH).build();
        sink = WindowSink.builder(target, dialect).table("vds30sec_copy").timeColumn("SAMPLE_TIME")
                .batchSize(BATCH).build();
        task = Task.window("bench", "vds30sec", WINDOW);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws SQLException {
        if (pgSchema != null) {
            try (Connection c = postgres(null).getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + pgSchema + " CASCADE");
            }
        }
    }

    /** @return rows copied, which must be {@value #ROWS} */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long copy() throws SQLException {
        long rows = "relay".equals(impl) ? relay() : plain();
        if (rows != ROWS) {
            throw new IllegalStateException(impl + " copied " + rows + " rows, not " + ROWS);
        }
        return rows;
    }

    long relay() {
        long rows = 0;
        Task t = task.withAttempt(++attempt);
        try (RowCursor cursor = puller.open(t); SinkSession session = sink.open(t, cursor.schema())) {
            for (List<Row> chunk = cursor.next(); !chunk.isEmpty(); chunk = cursor.next()) {
                session.write(chunk);
                rows += chunk.size();
            }
            session.commit();
        }
        return rows;
    }

    long plain() throws SQLException {
        long rows = 0;
        try (Connection in = source.getConnection(); Connection out = target.getConnection()) {
            in.setAutoCommit(false);
            out.setAutoCommit(false);
            try (PreparedStatement delete = out.prepareStatement(
                    "DELETE FROM vds30sec_copy WHERE SAMPLE_TIME >= ? AND SAMPLE_TIME < ?")) {
                delete.setObject(1, WINDOW.start());
                delete.setObject(2, WINDOW.end());
                delete.executeUpdate();
            }
            try (PreparedStatement read = in.prepareStatement(
                         "SELECT * FROM vds30sec WHERE SAMPLE_TIME >= ? AND SAMPLE_TIME < ?");
                 PreparedStatement write = out.prepareStatement(insert("vds30sec_copy"))) {
                read.setFetchSize(FETCH);
                read.setObject(1, WINDOW.start());
                read.setObject(2, WINDOW.end());
                try (ResultSet rs = read.executeQuery()) {
                    int n = rs.getMetaData().getColumnCount();
                    int[] types = new int[n + 1];
                    for (int i = 1; i <= n; i++) {
                        types[i] = rs.getMetaData().getColumnType(i);
                    }
                    while (rs.next()) {
                        for (int i = 1; i <= n; i++) {
                            Object v = i <= 2 ? rs.getObject(i, LocalDateTime.class) : rs.getObject(i);
                            if (v == null) {
                                write.setNull(i, types[i]);
                            } else {
                                write.setObject(i, v);
                            }
                        }
                        write.addBatch();
                        if (++rows % BATCH == 0) {
                            write.executeBatch();
                        }
                    }
                    if (rows % BATCH != 0) {
                        write.executeBatch();
                    }
                }
            }
            out.commit();
            in.rollback();
        }
        return rows;
    }

    static DataSource h2(String name) {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:" + name + DATABASES.incrementAndGet() + ";MODE=Oracle;DB_CLOSE_DELAY=-1");
        ds.setUser("sa");
        ds.setPassword("");
        return ds;
    }

    /**
     * @param schema the current schema, or null
     * @return PostgreSQL at 127.0.0.1:5432, database test, user postgres (trust), or where the environment
     *         variables RELAY_PG_HOST, RELAY_PG_PORT, RELAY_PG_DATABASE, RELAY_PG_USER, RELAY_PG_PASSWORD point;
     *         batched inserts rewritten
     */
    static PGSimpleDataSource postgres(String schema) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {env("RELAY_PG_HOST", "127.0.0.1")});
        ds.setPortNumbers(new int[] {Integer.parseInt(env("RELAY_PG_PORT", "5432"))});
        ds.setDatabaseName(env("RELAY_PG_DATABASE", "test"));
        ds.setUser(env("RELAY_PG_USER", "postgres"));
        String password = env("RELAY_PG_PASSWORD", "");
        if (!password.isEmpty()) {
            ds.setPassword(password);
        }
        ds.setReWriteBatchedInserts(true);
        ds.setConnectTimeout(3);
        if (schema != null) {
            ds.setCurrentSchema(schema);
        }
        return ds;
    }

    /** @return where PostgreSQL is expected, for messages: host:port/database */
    public static String postgresAddress() {
        return env("RELAY_PG_HOST", "127.0.0.1") + ":" + env("RELAY_PG_PORT", "5432") + "/" + env("RELAY_PG_DATABASE", "test");
    }

    private static String env(String key, String fallback) {
        String v = System.getenv(key);
        return v == null || v.isBlank() ? fallback : v;
    }

    /** @return whether PostgreSQL answers at {@link #postgresAddress()} */
    public static boolean postgresReachable() {
        try (Connection c = postgres(null).getConnection()) {
            return c.isValid(3);
        } catch (SQLException e) {
            return false;
        }
    }

    static String ddl(String table) {
        StringBuilder sql = new StringBuilder("CREATE TABLE ").append(table)
                .append(" (SAMPLE_TIME TIMESTAMP NOT NULL, RECV_TIME TIMESTAMP NOT NULL, VDS_ID INTEGER NOT NULL");
        for (int i = 1; i <= LOOPS; i++) {
            sql.append(", LOOP").append(i).append("_VOL INTEGER, LOOP").append(i).append("_OCC DOUBLE PRECISION, LOOP")
                    .append(i).append("_SPD DOUBLE PRECISION");
        }
        return sql.append(')').toString();
    }

    static String insert(String table) {
        return "INSERT INTO " + table + " VALUES (?" + ", ?".repeat(WIDTH - 1) + ")";
    }

    /** Writes the window's rows: every 30 s, stations 1..100; about one loop in 11 reports nulls. */
    static void fill(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement(insert("vds30sec"))) {
            int rows = 0;
            for (int sample = 0; sample < ROWS / STATIONS; sample++) {
                LocalDateTime time = START.plusSeconds(30L * sample);
                int minute = time.getHour() * 60 + time.getMinute();
                for (int vds = 1; vds <= STATIONS; vds++) {
                    ps.setObject(1, time);
                    ps.setObject(2, time.plusSeconds(2 + vds % 7));
                    ps.setInt(3, vds);
                    for (int i = 0; i < LOOPS; i++) {
                        if ((vds + i) % 11 == 0) {
                            ps.setNull(4 + 3 * i, java.sql.Types.INTEGER);
                            ps.setNull(5 + 3 * i, java.sql.Types.DOUBLE);
                            ps.setNull(6 + 3 * i, java.sql.Types.DOUBLE);
                        } else {
                            ps.setInt(4 + 3 * i, (vds * 7 + minute + i) % 23);
                            ps.setDouble(5 + 3 * i, ((vds + minute + i) % 1000) / 10000.0);
                            ps.setDouble(6 + 3 * i, 40.0 + (vds + i + time.getSecond()) % 35);
                        }
                    }
                    ps.addBatch();
                    if (++rows % BATCH == 0) {
                        ps.executeBatch();
                    }
                }
            }
            ps.executeBatch();
        }
        c.commit();
        c.setAutoCommit(auto);
    }
}
