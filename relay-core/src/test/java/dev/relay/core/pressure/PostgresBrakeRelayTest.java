package dev.relay.core.pressure;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.PullException;
import dev.relay.api.Puller;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The brake end to end against a real PostgreSQL source (127.0.0.1:5432, user postgres, database {@code test};
 * skipped with a message when it is absent, failing instead under {@code RELAY_REQUIRE_SERVICES=1}): the relay's
 * pulls are queries on it, held in flight by an advisory lock the test holds; the brake is a SQL check of
 * {@code pg_stat_activity} counting the active sessions of a "batch job" — a session of the test that runs
 * {@code pg_sleep} under its own application name. While the batch job runs, no new pull starts, and the pulls in
 * flight finish once the lock is let go.
 */
class PostgresBrakeRelayTest {

    static final String HOST = env("RELAY_PG_HOST", "127.0.0.1");
    static final int PORT = Integer.parseInt(env("RELAY_PG_PORT", "5432"));
    static final long PID = ProcessHandle.current().pid();
    /** Advisory lock key and application names private to this JVM (the database is shared). */
    static final long LOCK = 0x5E1A_0000_0000L + PID;
    static final String PULL_APP = "relay-pull-" + PID;
    static final String BATCH_APP = "relay-batch-" + PID;

    static String env(String key, String fallback) {
        String v = System.getenv(key);
        return v == null || v.isBlank() ? fallback : v;
    }

    static PGSimpleDataSource dataSource(String applicationName) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {HOST});
        ds.setPortNumbers(new int[] {PORT});
        ds.setDatabaseName(env("RELAY_PG_DATABASE", "test"));
        ds.setUser(env("RELAY_PG_USER", "postgres"));
        ds.setConnectTimeout(5);
        ds.setApplicationName(applicationName);
        return ds;
    }

    /** Skips (or fails under RELAY_REQUIRE_SERVICES=1) unless PostgreSQL answers. */
    static void requirePostgres() {
        try (Connection c = dataSource("relay-brake-probe").getConnection()) {
            c.isValid(5);
        } catch (SQLException e) {
            String message = "PostgreSQL is not reachable at " + HOST + ":" + PORT + ": " + e.getMessage();
            if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                throw new AssertionError(message + " (RELAY_REQUIRE_SERVICES=1, so this fails instead of skipping)", e);
            }
            Assumptions.abort(message + " — skipping; start it or set RELAY_REQUIRE_SERVICES=1 to make this a failure");
        }
    }

    /** A pull: waits on the source for the shared advisory lock (held exclusively by the test), then reads 50 rows. */
    static RowCursor pull(PGSimpleDataSource source) {
        return new RowCursor() {
            private volatile Statement running;
            private boolean done;

            @Override
            public RowSchema schema() {
                return BrakeRelayHarness.SCHEMA;
            }

            @Override
            public List<Row> next() {
                if (done) {
                    return List.of();
                }
                done = true;
                try (Connection c = source.getConnection()) {
                    c.setAutoCommit(false);
                    List<Row> rows = new ArrayList<>();
                    try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock_shared(?)")) {
                        running = lock;
                        lock.setLong(1, LOCK);
                        lock.execute();
                    }
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT g FROM generate_series(1, 50) g")) {
                        while (rs.next()) {
                            rows.add(Row.of(BrakeRelayHarness.SCHEMA, rs.getInt(1)));
                        }
                    }
                    c.commit();
                    return rows;
                } catch (SQLException e) {
                    throw new PullException("pull failed: " + e.getMessage(), e);
                }
            }

            @Override
            public void cancel() {
                Statement s = running;
                if (s != null) {
                    try {
                        s.cancel();
                    } catch (SQLException ignored) {
                        // finished already
                    }
                }
            }

            @Override
            public void close() {
            }
        };
    }

    static int count(Connection c, String sql, String app) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, app);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    @Test
    void sqlBrake_activeBatchSessions_startNoPullAndLetPullsInFlightFinish() throws Exception {
        requirePostgres();
        PGSimpleDataSource source = dataSource(PULL_APP);
        Puller puller = task -> pull(source);
        // the DBA's check: the batch job's active sessions, stop above 0 (the documented pg_stat_activity query,
        // narrowed to this JVM's batch job by its application name)
        BrakeCheck check = BrakeCheck.sql(dataSource("relay-brake-check-" + PID),
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' "
                        + "AND pid <> pg_backend_pid() AND application_name = '" + BATCH_APP + "'")
                .label("batch sessions").stopAbove(0).build();
        Brake brake = Brake.builder(check).interval(Duration.ofMillis(100)).build();

        try (Connection holder = dataSource("relay-brake-holder-" + PID).getConnection();
                Connection observer = dataSource("relay-brake-observer-" + PID).getConnection();
                Connection batch = dataSource(BATCH_APP).getConnection();
                BrakeRelayHarness h = new BrakeRelayHarness(puller, brake)) {
            AtomicReference<Statement> batchStatement = new AtomicReference<>();
            AtomicReference<CompletableFuture<Void>> batchJob = new AtomicReference<>();
            h.run(() -> {
                try (PreparedStatement s = holder.prepareStatement("SELECT pg_advisory_lock(?)")) {
                    s.setLong(1, LOCK);
                    s.execute();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, () -> {
                try {
                    return count(observer, "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? "
                            + "AND wait_event_type = 'Lock' AND state = 'active'", PULL_APP) == 2;
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, () -> {
                batchJob.set(CompletableFuture.runAsync(() -> {
                    try (Statement s = batch.createStatement()) {
                        batchStatement.set(s);
                        s.execute("SELECT pg_sleep(120)");
                    } catch (SQLException e) {
                        // cancelled by the test: the batch job is over
                    }
                }));
            }, () -> {
                try (PreparedStatement s = holder.prepareStatement("SELECT pg_advisory_unlock(?)")) {
                    s.setLong(1, LOCK);
                    s.execute();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, () -> {
                try {
                    BrakeRelayHarness.await("the batch job's statement", () -> batchStatement.get() != null);
                    batchStatement.get().cancel();
                    batchJob.get().get();
                    BrakeRelayHarness.await("the batch session idle", () -> {
                        try {
                            return count(observer, "SELECT count(*) FROM pg_stat_activity WHERE application_name = ? "
                                    + "AND state = 'active'", BATCH_APP) == 0;
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(h.relay.snapshot().pressure().brake().reason().startsWith("batch sessions 0"),
                    h.relay.snapshot().pressure().brake().reason());
        }
    }
}
