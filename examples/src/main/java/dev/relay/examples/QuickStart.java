package dev.relay.examples;

import dev.relay.api.LaneSpec;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.inmemory.InMemoryTaskQueue;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.JdbcPuller;
import dev.relay.jdbc.SourceQuery;
import dev.relay.jdbc.WindowSink;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The smallest service embedding relay (the README's quick start): two lanes over one source permit, the
 * in-memory queue, a registered query pulled over JDBC and an idempotent replace-by-window sink. Here source and
 * warehouse are one embedded H2 database; in production they are Oracle and Snowflake. Not threadsafe; run once.
 */
public final class QuickStart {

    private QuickStart() {
    }

    /** @param args ignored */
    public static void main(String[] args) throws Exception {
        System.out.println("rows relayed: " + run());
    }

    /** @return the rows in the target table after relaying three one-hour windows */
    static long run() throws Exception {
        JdbcDataSource db = new JdbcDataSource();
        db.setURL("jdbc:h2:mem:quickstart-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE SRC (SAMPLE_TIME TIMESTAMP, VDS_ID INT, VOLUME INT)");
            st.execute("INSERT INTO SRC SELECT DATEADD(SECOND, 30 * X, TIMESTAMP '2024-06-01 00:00:00'), 400001, MOD(X, 20)"
                    + " FROM SYSTEM_RANGE(0, 359)"); // three hours of 30-second samples
            st.execute("CREATE TABLE DST (SAMPLE_TIME TIMESTAMP, VDS_ID INT, VOLUME INT)");
        }
        JdbcPuller puller = JdbcPuller.builder(db, Dialect.H2).query(SourceQuery.window("vds",
                "SELECT * FROM SRC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end").build()).build();
        WindowSink sink = WindowSink.builder(db, Dialect.H2).table("DST").timeColumn("SAMPLE_TIME").build();
        InMemoryTaskQueue queue = InMemoryTaskQueue.create();
        CountDownLatch done = new CountDownLatch(3);
        try (Relay relay = Relay.builder().queue(queue).puller(puller).sink(sink).sourcePermits(1)
                .lane(LaneSpec.builder("realtime").weight(4).build())
                .lane(LaneSpec.builder("backfill").weight(1).build())
                .listener(new RelayListener() {
                    @Override
                    public void completed(Task task, Instant at, Duration service, long rows) {
                        done.countDown();
                    }
                }).build().start()) {
            LocalDateTime t = LocalDateTime.of(2024, 6, 1, 0, 0);
            queue.offer(Task.window("backfill", "vds", Window.starting(t, Duration.ofHours(1))));
            queue.offer(Task.window("realtime", "vds", Window.starting(t.plusHours(1), Duration.ofHours(1))));
            queue.offer(Task.window("realtime", "vds", Window.starting(t.plusHours(2), Duration.ofHours(1))));
            if (!done.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("not relayed within 30 s: " + relay.snapshot());
            }
        }
        try (Connection c = db.getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM DST")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
