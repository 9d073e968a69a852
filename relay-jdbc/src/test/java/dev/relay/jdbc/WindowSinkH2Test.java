package dev.relay.jdbc;

import javax.sql.DataSource;

/** {@link WindowSinkContract} on H2 (Oracle mode). */
class WindowSinkH2Test extends WindowSinkContract {

    @Override
    DataSource freshTarget() {
        return H2TestSupport.oracleMode("windowsink");
    }

    @Override
    Dialect dialect() {
        return Dialect.H2;
    }
}
