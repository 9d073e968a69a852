package dev.relay.jdbc;

import dev.relay.api.Task;
import dev.relay.api.Window;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.LocalDateTime;

/**
 * The forked JVM of {@link StreamingForkTest}, run with a small heap. Modes:
 * <ul>
 *   <li>{@code relay SCHEMA START END}: JdbcPuller (PostgreSQL dialect) → WindowSink into {@code vds30sec_copy};
 *       prints {@code ROWS n}, {@code MAX_HEAP_MB m} and the heap pools' peaks.</li>
 *   <li>{@code relay-autocommit SCHEMA START END}: the same relay with the source declared as H2, a dialect that
 *       leaves autocommit on — the puller's one PostgreSQL-specific decision undone.</li>
 *   <li>{@code naive SCHEMA START END}: the buggy configuration — plain JDBC with a fetch size but autocommit on,
 *       where the PostgreSQL driver reads the whole result into memory; prints {@code ROWS n} if it survives.</li>
 * </ul>
 * Exits with 3 on OutOfMemoryError.
 */
public final class StreamingChild {

    private StreamingChild() {
    }

    /**
     * @param args mode, schema, window start, window end
     * @throws Exception on failure (exit code 1)
     */
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String schema = args[1];
        Window window = Window.of(LocalDateTime.parse(args[2]), LocalDateTime.parse(args[3]));
        try {
            long rows = switch (mode) {
                case "relay" -> relay(schema, window, Dialect.POSTGRESQL);
                case "relay-autocommit" -> relay(schema, window, Dialect.H2);
                default -> naive(schema, window);
            };
            System.out.println("ROWS " + rows);
            System.out.println("MAX_HEAP_MB " + Runtime.getRuntime().maxMemory() / (1024 * 1024));
            System.out.println("HEAP_POOL_PEAKS_MB " + peakHeapMb());
        } catch (OutOfMemoryError e) {
            System.out.println("OOM " + e);
            System.exit(3);
        }
    }

    private static long relay(String schema, Window window, Dialect sourceDialect) {
        JdbcPuller puller = JdbcPuller.builder(PostgresTestSupport.dataSource(schema), sourceDialect)
                .query(SourceQuery.window("vds30sec",
                        "SELECT * FROM vds30sec WHERE sample_time >= :start AND sample_time < :end").build())
                .fetchSize(2_000).chunkSize(1_000).build();
        WindowSink sink = WindowSink.builder(PostgresTestSupport.dataSource(schema), Dialect.POSTGRESQL)
                .table("vds30sec_copy").timeColumn("SAMPLE_TIME").batchSize(1_000).build();
        return TestRelay.relay(puller, sink, Task.window("backfill", "vds30sec", window));
    }

    private static long naive(String schema, Window window) throws Exception {
        long rows = 0;
        try (Connection c = PostgresTestSupport.dataSource(schema).getConnection()) {
            // autocommit stays on: the fetch size below is silently ignored by the driver
            try (var ps = c.prepareStatement("SELECT * FROM vds30sec WHERE sample_time >= ? AND sample_time < ?")) {
                ps.setFetchSize(2_000);
                ps.setObject(1, window.start());
                ps.setObject(2, window.end());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                    }
                }
            }
        }
        return rows;
    }

    /** Peak use of each heap pool (peaks of different pools need not coincide, so they are not summed). */
    private static String peakHeapMb() {
        StringBuilder sb = new StringBuilder();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sb.append(sb.length() == 0 ? "" : ",").append(pool.getName().replace(' ', '_')).append('=')
                        .append(pool.getPeakUsage().getUsed() / (1024 * 1024));
            }
        }
        return sb.toString();
    }

}
