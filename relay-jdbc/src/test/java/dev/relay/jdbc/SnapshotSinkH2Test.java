package dev.relay.jdbc;

import javax.sql.DataSource;

/** {@link SnapshotSinkContract} on H2 (Oracle mode). */
class SnapshotSinkH2Test extends SnapshotSinkContract {

    @Override
    DataSource freshTarget() {
        return H2TestSupport.oracleMode("snapshotsink");
    }

    @Override
    Dialect dialect() {
        return Dialect.H2;
    }
}
