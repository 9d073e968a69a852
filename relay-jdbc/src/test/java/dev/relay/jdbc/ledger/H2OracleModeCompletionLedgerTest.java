package dev.relay.jdbc.ledger;

import org.jdbi.v3.core.Jdbi;

import java.util.concurrent.atomic.AtomicInteger;

/** The ledger contract on H2 in Oracle compatibility mode, with a schema-qualified table. */
class H2OracleModeCompletionLedgerTest extends CompletionLedgerContract {

    private static final AtomicInteger DATABASES = new AtomicInteger();

    @Override
    protected Jdbi jdbi() {
        Jdbi jdbi = Jdbi.create(new PooledDataSource("jdbc:h2:mem:oledger" + DATABASES.incrementAndGet() + ";MODE=Oracle;DB_CLOSE_DELAY=-1", "", ""));
        jdbi.useHandle(h -> h.execute("CREATE SCHEMA IF NOT EXISTS relay"));
        return jdbi;
    }

    @Override
    protected String freshTable() {
        return "relay.completion_ledger";
    }
}
