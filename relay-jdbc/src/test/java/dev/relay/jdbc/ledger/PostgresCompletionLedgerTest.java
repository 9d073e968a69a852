package dev.relay.jdbc.ledger;

import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Assumptions;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The ledger contract on PostgreSQL at 127.0.0.1:5432 (user postgres, database test, trust auth). Skipped
 * with a message when the server is not reachable, unless {@code RELAY_REQUIRE_SERVICES=1}, which makes it fail.
 */
class PostgresCompletionLedgerTest extends CompletionLedgerContract {

    /** The server, overridable with {@code -Drelay.postgres.url=…}. */
    static final String URL = System.getProperty("relay.postgres.url",
            "jdbc:postgresql://127.0.0.1:5432/test?connectTimeout=3&loginTimeout=3");
    private static final AtomicInteger TABLES = new AtomicInteger();

    @Override
    protected Jdbi jdbi() {
        try (Connection c = DriverManager.getConnection(URL, "postgres", "")) {
            c.isValid(3);
        } catch (SQLException e) {
            String message = "PostgreSQL not reachable at " + URL + ": " + e.getMessage();
            if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                throw new AssertionError(message + " (RELAY_REQUIRE_SERVICES=1 requires it)", e);
            }
            System.out.println("SKIPPED: " + message);
            Assumptions.abort(message);
        }
        return Jdbi.create(URL, "postgres", "");
    }

    @Override
    protected String freshTable() {
        return "relay_ledger_it_" + ProcessHandle.current().pid() + "_" + TABLES.incrementAndGet();
    }
}
