package dev.relay.s3;

import dev.relay.api.LaneSpec;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.inmemory.InMemoryTaskQueue;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.JdbcPuller;
import dev.relay.jdbc.SourceQuery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end through the engine: {@link JdbcPuller} on PostgreSQL (VDS30SEC-shaped tables of three districts) →
 * {@link Relay} with the in-memory queue → {@link S3ParquetSink} on S3Mock, with S3 failing some commits once. Every
 * window's rows are in the objects exactly once: counts, distinct keys and checksums of each object (read back by
 * DuckDB) equal the source's for the window, and there is one object per window and no other.
 */
class PostgresEndToEndTest {

    static final String SCHEMA = "relay_s3_e2e";
    static final LocalDateTime START = LocalDateTime.of(2024, 3, 14, 10, 0);
    static final List<String> DISTRICTS = List.of("D3", "D4", "D7");
    static final int WINDOWS = 6;
    static final int STATIONS = 40;
    static final int LOOPS = 14;

    static DataSource pg;
    static S3Client s3;

    @BeforeAll
    static void createSource() throws Exception {
        pg = Pg.freshSchema(SCHEMA);
        s3 = S3Mock.shared().client();
        try (Connection c = pg.getConnection(); Statement s = c.createStatement()) {
            for (String d : DISTRICTS) {
                StringBuilder ddl = new StringBuilder("CREATE TABLE vds30sec_" + d
                        + " (\"SAMPLE_TIME\" TIMESTAMP NOT NULL, \"RECV_TIME\" TIMESTAMP NOT NULL, \"VDS_ID\" INTEGER NOT NULL");
                StringBuilder insert = new StringBuilder("INSERT INTO vds30sec_" + d + " SELECT t, t + interval '7 seconds', v");
                for (int i = 1; i <= LOOPS; i++) {
                    ddl.append(", \"LOOP").append(i).append("_VOL\" INTEGER, \"LOOP").append(i).append("_OCC\" NUMERIC(6,4), \"LOOP")
                            .append(i).append("_SPD\" DOUBLE PRECISION");
                    insert.append(", CASE WHEN (v + ").append(i).append(") % 11 = 0 THEN NULL ELSE (v * 7 + s + ").append(i)
                            .append(") % 23 END, CASE WHEN (v + ").append(i).append(") % 11 = 0 THEN NULL ELSE ((v + s + ").append(i)
                            .append(") % 1000) / 10000.0 END, 40.0 + (v + ").append(i).append(") % 35");
                }
                s.execute(ddl.append(')').toString());
                // samples every 30 s from 10:00 up to and including 11:00: the 11:00 rows belong to no window of the test
                s.execute(insert.append(" FROM generate_series(0, ").append(WINDOWS * 20).append(") s, generate_series(")
                        .append(700_000 + 1000 * d.length()).append(", ").append(700_000 + 1000 * d.length() + STATIONS - 1)
                        .append(") v, LATERAL (SELECT TIMESTAMP '2024-03-14 10:00:00' + s * interval '30 seconds' AS t) x").toString());
            }
        }
    }

    @AfterAll
    static void dropSource() {
        Pg.dropSchema(SCHEMA);
        if (s3 != null) {
            s3.close();
        }
    }

    /** count, distinct (time, station), sum of stations, sum of LOOP1_VOL, sum of LOOP7_OCC, md5 of (station, time, vol). */
    static final String CHECKS = "count(*), count(DISTINCT (\"SAMPLE_TIME\", \"VDS_ID\")), sum(\"VDS_ID\"), sum(\"LOOP1_VOL\"), "
            + "sum(\"LOOP7_OCC\"), md5(string_agg(\"VDS_ID\"::text || '@' || %s || '=' || coalesce(\"LOOP1_VOL\"::text, '-'), ',' "
            + "ORDER BY \"VDS_ID\", \"SAMPLE_TIME\"))";

    static List<Object> sourceChecks(String district, Window w) throws Exception {
        try (Connection c = pg.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT "
                + String.format(CHECKS, "extract(epoch FROM \"SAMPLE_TIME\")::bigint::text") + " FROM vds30sec_" + district
                + " WHERE \"SAMPLE_TIME\" >= ? AND \"SAMPLE_TIME\" < ?")) {
            ps.setObject(1, w.start());
            ps.setObject(2, w.end());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getBigDecimal(5).stripTrailingZeros(),
                        rs.getString(6));
            }
        }
    }

    static List<Object> objectChecks(byte[] parquet) {
        Object[] r = ParquetRead.aggregate(parquet, String.format(CHECKS, "epoch(\"SAMPLE_TIME\")::BIGINT::VARCHAR"));
        return List.of(((Number) r[0]).longValue(), ((Number) r[1]).longValue(), ((Number) r[2]).longValue(),
                ((Number) r[3]).longValue(), ((BigDecimal) r[4]).stripTrailingZeros(), r[5]);
    }

    @Test
    void relay_windowsOfThreeDistrictsWithS3Failures_everyWindowsRowsInTheObjectsExactlyOnce() throws Exception {
        String bucket = S3Mock.bucket(s3, "e2e");
        List<Task> tasks = new ArrayList<>();
        for (String d : DISTRICTS) {
            for (int w = 0; w < WINDOWS; w++) {
                tasks.add(Task.builder(w % 2 == 0 ? "realtime" : "backfill", "vds30sec")
                        .scope(Window.starting(START.plusMinutes(10L * w), Duration.ofMinutes(10))).parameter("district", d).build());
            }
        }
        S3ParquetSink keys = S3ParquetSink.builder(bucket).client(s3).layout(S3ParquetSinkTest.PEMS_LAYOUT).build();
        // S3 fails the first commit of two windows (a PutObject: these tasks are smaller than a part)
        Set<String> failOnce = Set.of(keys.objectKey(tasks.get(1), 0), keys.objectKey(tasks.get(10), 0));
        Set<String> failed = ConcurrentHashMap.newKeySet();
        FaultyS3 faulty = new FaultyS3(s3, (op, key) -> op.equals("PutObject") && failOnce.contains(key) && failed.add(key));
        S3ParquetSink sink = S3ParquetSink.builder(bucket).client(faulty).layout(S3ParquetSinkTest.PEMS_LAYOUT)
                .metaColumn("meta").build();
        JdbcPuller puller = JdbcPuller.builder(pg, Dialect.POSTGRESQL)
                .query(SourceQuery.window("vds30sec",
                                "SELECT * FROM vds30sec_${district} WHERE \"SAMPLE_TIME\" >= :start AND \"SAMPLE_TIME\" < :end")
                        .identifier("district", "D(3|4|7)").build())
                .fetchSize(500).chunkSize(250).build();
        RetryPolicy quick = RetryPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(200)).build();
        InMemoryTaskQueue queue = InMemoryTaskQueue.create();
        Relay relay = Relay.builder().queue(queue).puller(puller).sink(sink).sourcePermits(2)
                .lane(LaneSpec.builder("realtime").weight(4).retryPolicy(quick).build())
                .lane(LaneSpec.builder("backfill").weight(1).retryPolicy(quick).build())
                .build().start();
        try {
            tasks.forEach(queue::offer);
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (relay.snapshot().completed() < tasks.size() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(tasks.size(), relay.snapshot().completed(), () -> "completed: " + relay.snapshot());
        } finally {
            relay.shutdown(Duration.ofSeconds(30));
        }
        assertEquals(List.of(), queue.deadLetters("realtime"));
        assertEquals(List.of(), queue.deadLetters("backfill"));
        assertEquals(2, faulty.injected(), "both injected failures happened, and were retried");

        Set<String> expectedKeys = new TreeSet<>();
        for (Task t : tasks) {
            expectedKeys.add(keys.objectKey(t, 0));
        }
        assertEquals(expectedKeys, new TreeSet<>(S3Mock.keys(s3, bucket, "")), "one object per window, no other");
        assertEquals(List.of(), S3Mock.uploads(s3, bucket, ""), "no multipart upload left behind");
        long total = 0;
        for (Task t : tasks) {
            String district = t.parameter("district").orElseThrow();
            List<Object> want = sourceChecks(district, t.window().orElseThrow());
            List<Object> got = objectChecks(S3Mock.get(s3, bucket, keys.objectKey(t, 0)));
            assertEquals(want, got, "window " + t.scope() + " of " + district);
            assertEquals(want.get(0), want.get(1), "rows are distinct in the source");
            assertTrue((Long) want.get(0) == 20L * STATIONS, "a full window: " + want);
            total += (Long) got.get(0);
        }
        assertEquals(3L * WINDOWS * 20 * STATIONS, total);
    }
}
