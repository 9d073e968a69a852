package dev.relay.jdbc;

import dev.relay.api.Task;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@link SnapshotSinkContract} on PostgreSQL (the swap is one transaction). */
class SnapshotSinkPostgresTest extends SnapshotSinkContract {

    @Override
    DataSource freshTarget() {
        return PostgresTestSupport.freshSchema("relay_jdbc_snapshotsink");
    }

    @Override
    Dialect dialect() {
        return Dialect.POSTGRESQL;
    }

    @Test
    void commit_readersDuringSwaps_seeAlwaysOneWholeSnapshot() throws Exception {
        TestRelay.relay(SourceFixture.puller(), sink(), task("v1", 0));
        AtomicBoolean done = new AtomicBoolean();
        CompletableFuture<Set<String>> reader = CompletableFuture.supplyAsync(() -> {
            Set<String> seen = new TreeSet<>();
            try (Connection c = target.getConnection(); Statement s = c.createStatement()) {
                while (!done.get()) {
                    try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + TABLE)) {
                        rs.next();
                        seen.add(String.valueOf(rs.getLong(1)));
                    } catch (SQLException e) {
                        seen.add("error: " + e.getMessage());
                    }
                }
            } catch (SQLException e) {
                seen.add("connect: " + e.getMessage());
            }
            return seen;
        });
        for (int day = 1; day <= 6; day++) {
            Task t = task(day % 2 == 0 ? "v1" : "v2", day);
            TestRelay.relay(SourceFixture.puller(), sink(), t);
        }
        done.set(true);
        Set<String> seen = reader.get(60, TimeUnit.SECONDS);
        assertEquals(Set.of("2000", "2500"), seen, "a reader sees yesterday's or today's table, never a gap");
    }
}
