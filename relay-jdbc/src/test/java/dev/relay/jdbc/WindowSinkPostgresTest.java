package dev.relay.jdbc;

import dev.relay.api.Row;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** {@link WindowSinkContract} on PostgreSQL. */
class WindowSinkPostgresTest extends WindowSinkContract {

    @Override
    DataSource freshTarget() {
        return PostgresTestSupport.freshSchema("relay_jdbc_windowsink");
    }

    @Override
    Dialect dialect() {
        return Dialect.POSTGRESQL;
    }

    @Override
    String binaryType() {
        return "BYTEA";
    }

    @Test
    void open_sameTaskDeliveredTwiceAtOnce_leavesOneCopy() throws Exception {
        // a lease lost to a slow worker: the redelivered task starts while the first delivery still writes
        Task task = task("D7", 6, 7);
        List<Row> rows = TestRelay.pullAll(SourceFixture.puller(), task);
        SinkSession first = sink().open(task, rows.get(0).schema());
        first.write(rows);
        CompletableFuture<Void> second = CompletableFuture.runAsync(() -> {
            try (SinkSession s = sink().open(task.withAttempt(2), rows.get(0).schema())) {
                s.write(rows);
                s.commit();
            }
        });
        awaitAdvisoryLockWaiter();
        assertFalse(second.isDone(), "the second delivery waits for the first");
        first.commit();
        second.get(60, TimeUnit.SECONDS);
        assertEquals(source(task), stored("D7", 6, 7));
        assertEquals(360, count());
        assertEquals(0, target.openConnections());
    }

    @Test
    void write_connectionKilledMidWrite_failsRetryablyAndTheRetryLeavesExactlyTheSourceRows() throws Exception {
        Task task = task("D7", 4, 5);
        List<Row> rows = TestRelay.pullAll(SourceFixture.puller(), task);
        SinkSession session = sink().open(task, rows.get(0).schema());
        session.write(rows.subList(0, 300)); // one batch of 250 executed, 50 pending
        // the warehouse drops the connection (restart, failover, idle-in-transaction timeout)
        execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                + " AND state = 'idle in transaction' AND query LIKE 'INSERT INTO VDS30SEC_COPY%'");
        dev.relay.api.SinkException e = org.junit.jupiter.api.Assertions.assertThrows(dev.relay.api.SinkException.class,
                () -> {
                    session.write(rows.subList(300, rows.size()));
                    session.commit();
                });
        org.junit.jupiter.api.Assertions.assertTrue(e.retryable(), e.getMessage());
        session.close();
        assertEquals(0, count());
        assertEquals(0, target.openConnections());
        TestRelay.relay(SourceFixture.puller(), sink(), task.withAttempt(2));
        assertEquals(source(task), stored("D7", 4, 5));
    }

    private void awaitAdvisoryLockWaiter() throws Exception {
        for (int i = 0; i < 2_000; i++) {
            try (Connection c = target.getConnection(); Statement s = c.createStatement();
                 var rs = s.executeQuery("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) {
                rs.next();
                if (rs.getInt(1) > 0) {
                    return;
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the second session never waited on the window lock");
    }
}
