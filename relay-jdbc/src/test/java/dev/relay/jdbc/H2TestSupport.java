package dev.relay.jdbc;

import org.h2.jdbcx.JdbcDataSource;

import java.util.concurrent.atomic.AtomicInteger;

/** In-memory H2 databases in Oracle mode, one per call, kept while the JVM runs. */
final class H2TestSupport {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private H2TestSupport() {
    }

    /**
     * @param name a prefix for the database name
     * @return a data source on a new, empty database in MODE=Oracle
     */
    static JdbcDataSource oracleMode(String name) {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:" + name + SEQUENCE.incrementAndGet() + ";MODE=Oracle;DB_CLOSE_DELAY=-1");
        ds.setUser("sa");
        ds.setPassword("");
        return ds;
    }
}
