package dev.relay.jdbc;

import javax.sql.DataSource;

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
}
