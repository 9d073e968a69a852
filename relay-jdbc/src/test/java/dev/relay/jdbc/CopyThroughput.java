package dev.relay.jdbc;

import dev.relay.api.Task;
import dev.relay.api.Window;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Rows per second of one window copied puller → sink ({@link JdbcPuller} + {@link WindowSink}) beside a plain
 * JDBC copy loop doing the same work (fetch-size read; delete the window; batch insert; commit), on H2 and on
 * PostgreSQL, measured the same way: one warm-up each, then runs alternating between the two, median reported.
 * Not a test; the benchmark module will carry a JMH version. Run (from the repository root):
 *
 * <pre>
 * mvn -q -pl relay-jdbc -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java -cp relay-jdbc/target/test-classes:relay-jdbc/target/classes:relay-api/target/classes:$(cat relay-jdbc/target/cp.txt) \
 *     dev.relay.jdbc.CopyThroughput [rows=200000] [runs=5]
 * </pre>
 */
public final class CopyThroughput {

    static final LocalDateTime START = LocalDateTime.of(2024, 3, 14, 0, 0);
    /** Rows per JDBC fetch on both paths. */
    static final int FETCH = 5_000;
    /** Rows per executed insert batch on both paths (and per puller chunk). */
    static final int BATCH = 1_000;

    private CopyThroughput() {
    }

    /**
     * @param args [rows] [runs]
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int stations = 100;
        int samples = rows / stations;
        Window window = Window.of(START, START.plusSeconds(30L * samples));
        System.out.printf(Locale.ROOT, "window of %,d VDS30SEC rows (%d columns), fetch %d, batch %d, %d runs each; %s, %d cores%n",
                samples * stations, Vds30Sec.WIDTH, FETCH, BATCH, runs, System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors());

        DataSource h2Source = H2TestSupport.oracleMode("benchsource");
        DataSource h2Target = H2TestSupport.oracleMode("benchtarget");
        try (Connection c = h2Source.getConnection(); Statement s = c.createStatement()) {
            s.execute(Vds30Sec.ddl("VDS30SEC"));
            Vds30Sec.insert(c, "VDS30SEC", Vds30Sec.samples(START, samples, stations));
        }
        try (Connection c = h2Target.getConnection(); Statement s = c.createStatement()) {
            s.execute(Vds30Sec.ddl("VDS30SEC_COPY"));
        }
        measure("H2 (MODE=Oracle, in memory)", h2Source, h2Target, Dialect.H2, window, runs);

        DataSource pg;
        try {
            pg = PostgresTestSupport.freshSchema("relay_jdbc_bench");
        } catch (RuntimeException | Error e) {
            System.out.println("PostgreSQL: skipped (" + e.getMessage() + ")");
            return;
        }
        try (Connection c = pg.getConnection(); Statement s = c.createStatement()) {
            s.execute(Vds30Sec.ddl("vds30sec"));
            s.execute(Vds30Sec.generatePostgres("vds30sec", START, samples, stations));
            s.execute(Vds30Sec.ddl("vds30sec_copy"));
            s.execute("ANALYZE vds30sec");
        }
        measure("PostgreSQL 127.0.0.1 (reWriteBatchedInserts)", pg, pg, Dialect.POSTGRESQL, window, runs);
    }

    static void measure(String name, DataSource source, DataSource target, Dialect dialect, Window window, int runs)
            throws Exception {
        String sourceTable = dialect == Dialect.POSTGRESQL ? "vds30sec" : "VDS30SEC";
        String targetTable = sourceTable + "_copy";
        JdbcPuller puller = JdbcPuller.builder(source, dialect).query(SourceQuery.window("vds30sec",
                        "SELECT * FROM " + sourceTable + " WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end").build())
                .fetchSize(FETCH).chunkSize(BATCH).build();
        WindowSink sink = WindowSink.builder(target, dialect).table(targetTable).timeColumn("SAMPLE_TIME")
                .batchSize(BATCH).build();
        Task task = Task.window("bench", "vds30sec", window);
        List<Double> relay = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        for (int run = 0; run <= runs; run++) {
            long t0 = System.nanoTime();
            long n1 = TestRelay.relay(puller, sink, task.withAttempt(run + 1));
            long t1 = System.nanoTime();
            long n2 = plainCopy(source, target, sourceTable, targetTable, window, dialect);
            long t2 = System.nanoTime();
            if (n1 != n2) {
                throw new IllegalStateException("paths copied " + n1 + " and " + n2 + " rows");
            }
            if (run > 0) { // run 0 warms up
                relay.add(n1 / ((t1 - t0) / 1e9));
                plain.add(n2 / ((t2 - t1) / 1e9));
            }
        }
        System.out.printf(Locale.ROOT, "%-45s puller->sink %,10.0f rows/s   plain JDBC loop %,10.0f rows/s   ratio %.2f%n",
                name, median(relay), median(plain), median(relay) / median(plain));
    }

    static long plainCopy(DataSource source, DataSource target, String sourceTable, String targetTable, Window window,
                          Dialect dialect) throws Exception {
        long rows = 0;
        try (Connection in = source.getConnection(); Connection out = target.getConnection()) {
            in.setAutoCommit(false); // PostgreSQL streams only like this; harmless elsewhere
            out.setAutoCommit(false);
            try (PreparedStatement del = out.prepareStatement("DELETE FROM " + targetTable
                    + " WHERE SAMPLE_TIME >= ? AND SAMPLE_TIME < ?")) {
                del.setObject(1, window.start());
                del.setObject(2, window.end());
                del.executeUpdate();
            }
            String insert = "INSERT INTO " + targetTable + " VALUES (?" + ", ?".repeat(Vds30Sec.WIDTH - 1) + ")";
            try (PreparedStatement read = in.prepareStatement("SELECT * FROM " + sourceTable
                    + " WHERE SAMPLE_TIME >= ? AND SAMPLE_TIME < ?");
                 PreparedStatement write = out.prepareStatement(insert)) {
                read.setFetchSize(FETCH);
                read.setObject(1, window.start());
                read.setObject(2, window.end());
                try (ResultSet rs = read.executeQuery()) {
                    int n = rs.getMetaData().getColumnCount();
                    int[] types = new int[n];
                    for (int i = 0; i < n; i++) {
                        types[i] = rs.getMetaData().getColumnType(i + 1);
                    }
                    while (rs.next()) {
                        for (int i = 1; i <= n; i++) {
                            Object v = i <= 2 ? rs.getObject(i, LocalDateTime.class) : rs.getObject(i);
                            if (v == null) {
                                write.setNull(i, types[i - 1]);
                            } else {
                                write.setObject(i, v);
                            }
                        }
                        write.addBatch();
                        if (++rows % BATCH == 0) {
                            write.executeBatch();
                        }
                    }
                    write.executeBatch();
                }
            }
            out.commit();
            in.rollback();
        }
        return rows;
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }
}
