package dev.relay.jdbc.ledger;

import dev.relay.jdbc.PostgresTestSupport;

import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The ledger contract on the test PostgreSQL ({@link PostgresTestSupport}: 127.0.0.1:5432, user postgres,
 * database test, trust auth, unless the RELAY_PG_* environment variables say otherwise). Skipped
 * with a message when the server is not reachable, unless {@code RELAY_REQUIRE_SERVICES=1}, which makes it fail.
 * The server is probed once per run; connections are reused (the server is shared with other test runs).
 */
class PostgresCompletionLedgerTest extends CompletionLedgerContract {

    /** The server: the RELAY_PG_* environment variables, read by {@link PostgresTestSupport}. */
    static final String URL = PostgresTestSupport.url() + "?connectTimeout=10";
    private static final AtomicInteger TABLES = new AtomicInteger();
    private static String unreachable;
    private static PooledDataSource pool;

    private static synchronized Jdbi connect() {
        if (pool == null && unreachable == null) {
            try (Connection c = DriverManager.getConnection(URL, PostgresTestSupport.user(), PostgresTestSupport.password())) {
                c.isValid(10);
                pool = new PooledDataSource(URL, PostgresTestSupport.user(), PostgresTestSupport.password());
            } catch (SQLException e) {
                unreachable = "PostgreSQL not reachable at " + URL + ": " + e.getMessage();
            }
        }
        if (unreachable != null) {
            if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                throw new AssertionError(unreachable + " (RELAY_REQUIRE_SERVICES=1 requires it)");
            }
            System.out.println("SKIPPED: " + unreachable);
            Assumptions.abort(unreachable);
        }
        return Jdbi.create(pool);
    }

    @AfterAll
    static synchronized void closePool() throws SQLException {
        if (pool != null) {
            pool.close();
            pool = null;
        }
    }

    @Override
    protected Jdbi jdbi() {
        return connect();
    }

    @Override
    protected String freshTable() {
        return "relay_ledger_it_" + ProcessHandle.current().pid() + "_" + TABLES.incrementAndGet();
    }
}
