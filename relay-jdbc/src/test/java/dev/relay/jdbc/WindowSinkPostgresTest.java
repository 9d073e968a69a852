package dev.relay.jdbc;

import javax.sql.DataSource;

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
}
