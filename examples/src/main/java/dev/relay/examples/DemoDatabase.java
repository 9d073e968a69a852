package dev.relay.examples;

import dev.relay.jdbc.Dialect;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;
import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A database of the demo: an embedded in-memory H2 (the default) or a real PostgreSQL reached by a JDBC URL
 * ({@code --source-url}, {@code --sink-url}). On PostgreSQL every schema the demo uses gets a prefix of its own
 * ({@code relay_demo_src_} for the source, {@code relay_demo_wh_} for the warehouse), so that the source and the
 * warehouse may share one database and nothing else in it is touched; the demo drops and re-creates those schemas at
 * its start and leaves them for inspection at its end.
 *
 * <p>Not threadsafe: the demo's thread owns the long-lived connection; the relay works through {@link #dataSource()}.
 */
final class DemoDatabase implements AutoCloseable {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private final String name;
    private final DataSource dataSource;
    private final JdbcConnectionPool h2Pool;
    private final Connection keepAlive;
    private final Dialect dialect;
    private final String prefix;

    private DemoDatabase(String name, DataSource dataSource, JdbcConnectionPool h2Pool, Connection keepAlive, Dialect dialect,
            String prefix) {
        this.name = name;
        this.dataSource = dataSource;
        this.h2Pool = h2Pool;
        this.keepAlive = keepAlive;
        this.dialect = dialect;
        this.prefix = prefix;
    }

    /**
     * @param what "pems-source" or "pems-warehouse"
     * @param h2Mode extra H2 URL settings, e.g. {@code ;MODE=Oracle}
     * @return an in-memory H2 database of its own
     */
    static DemoDatabase h2(String what, String h2Mode) throws SQLException {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:" + what + "-" + SEQUENCE.incrementAndGet() + h2Mode + ";DB_CLOSE_DELAY=-1");
        ds.setUser("sa");
        ds.setPassword("");
        Connection keepAlive = ds.getConnection();
        // the relay opens a connection per task: a pool reuses H2 sessions and their parsed statements
        JdbcConnectionPool pool = JdbcConnectionPool.create(ds);
        pool.setMaxConnections(8);
        return new DemoDatabase("embedded H2 " + what, pool, pool, keepAlive, Dialect.H2, "");
    }

    /**
     * @param url a {@code jdbc:postgresql:} URL (user and password in it, or trust authentication)
     * @param prefix the prefix of the demo's schemas in it
     * @return the database
     * @throws SQLException if it cannot be reached
     */
    static DemoDatabase postgres(String url, String prefix) throws SQLException {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setReWriteBatchedInserts(true);
        ds.setApplicationName("relay-demo");
        Connection keepAlive = ds.getConnection();
        return new DemoDatabase("PostgreSQL " + ds.getServerNames()[0] + "/" + ds.getDatabaseName(), ds, null, keepAlive,
                Dialect.POSTGRESQL, prefix);
    }

    /** @return a short description for the live view and the report */
    String description() {
        return name;
    }

    /** @return the relay's connections */
    DataSource dataSource() {
        return dataSource;
    }

    /** @return the demo thread's long-lived connection */
    Connection connection() {
        return keepAlive;
    }

    /** @return the SQL dialect of the relay's puller and sinks */
    Dialect dialect() {
        return dialect;
    }

    /** @return whether this is the embedded H2 */
    boolean embedded() {
        return h2Pool != null;
    }

    /**
     * @param schema a schema name of the demo, e.g. {@code D7} or {@code PEMS}
     * @return its name in this database
     */
    String schema(String schema) {
        return prefix + schema;
    }

    /** @return what goes before a {@code ${district}} placeholder that names a district's schema */
    String schemaPrefix() {
        return prefix;
    }

    /** Creates a schema of the demo, dropping what an earlier run left in PostgreSQL. */
    void createSchema(Statement st, String schema) throws SQLException {
        if (!embedded()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema(schema) + " CASCADE");
        }
        st.execute("CREATE SCHEMA " + schema(schema));
    }

    /** @return DDL of an index named {@code index} on {@code table} of {@code schema} */
    String createIndex(String schema, String index, String table, String columns) {
        // PostgreSQL puts an index in its table's schema and takes no qualified index name
        return "CREATE INDEX " + (embedded() ? schema(schema) + "." : "") + index + " ON " + schema(schema) + "." + table
                + " (" + columns + ")";
    }

    /** @return a row source of the integers 1..n as column X */
    String range(long n) {
        return embedded() ? "SYSTEM_RANGE(1, " + n + ")" : "generate_series(1, " + n + ") AS R(X)";
    }

    /** @return the 10-minute window number of a timestamp column, counted from 2000-01-01 */
    String windowNumber(String column) {
        return embedded() ? "DATEDIFF(MINUTE, TIMESTAMP '2000-01-01 00:00:00', " + column + ") / 10"
                : "CAST(FLOOR(EXTRACT(EPOCH FROM (" + column + " - TIMESTAMP '2000-01-01 00:00:00')) / 600) AS BIGINT)";
    }

    /** @return whole seconds from one timestamp column to another */
    String secondsBetween(String from, String to) {
        return embedded() ? "DATEDIFF(SECOND, " + from + ", " + to + ")"
                : "CAST(EXTRACT(EPOCH FROM (" + to + " - " + from + ")) AS BIGINT)";
    }

    @Override
    public void close() {
        if (h2Pool != null) {
            h2Pool.dispose();
            try (Statement st = keepAlive.createStatement()) {
                st.execute("SHUTDOWN");
            } catch (SQLException e) {
                // closing an in-memory database: nothing to lose
            }
        }
        try {
            keepAlive.close();
        } catch (SQLException e) {
            // already gone
        }
    }

    @Override
    public String toString() {
        return name.toLowerCase(Locale.ROOT);
    }
}
