package dev.relay.jdbc.ledger;

import org.jdbi.v3.core.Jdbi;

import java.util.concurrent.atomic.AtomicInteger;

/** The ledger contract on H2 (in memory, default mode). */
class H2CompletionLedgerTest extends CompletionLedgerContract {

    private static final AtomicInteger DATABASES = new AtomicInteger();

    @Override
    protected Jdbi jdbi() {
        return Jdbi.create(new PooledDataSource("jdbc:h2:mem:ledger" + DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1", "", ""));
    }

    @Override
    protected String freshTable() {
        return "completion_ledger";
    }
}
