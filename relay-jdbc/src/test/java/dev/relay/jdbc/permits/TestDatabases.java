package dev.relay.jdbc.permits;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Databases for the permit tests: a fresh in-memory H2 per call, and this JVM's own schema on the shared PostgreSQL
 * (127.0.0.1:5432, user postgres, database test; skipped with a message when absent, failed when
 * {@code RELAY_REQUIRE_SERVICES=1}).
 */
final class TestDatabases {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final String SCHEMA = "relay_permits_" + ProcessHandle.current().pid();
    private static boolean schemaReady;
    private static HikariDataSource pool;

    private TestDatabases() {
    }

    static DataSource h2(boolean oracleMode) {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:permits" + SEQUENCE.incrementAndGet() + (oracleMode ? ";MODE=Oracle" : "") + ";DB_CLOSE_DELAY=-1");
        ds.setUser("sa");
        ds.setPassword("");
        return ds;
    }

    /**
     * @return a pool of connections on this JVM's schema, created (and stale schemas of dead JVMs dropped) on first
     *     use, kept until the JVM exits
     */
    static synchronized DataSource postgres() {
        PGSimpleDataSource admin = pg(null);
        if (!schemaReady) {
            try (Connection c = admin.getConnection(); Statement s = c.createStatement()) {
                java.util.List<String> stale = new java.util.ArrayList<>();
                try (var rs = s.executeQuery("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'relay\\_permits\\_%'")) {
                    while (rs.next()) {
                        String pid = rs.getString(1).substring("relay_permits_".length());
                        if (pid.matches("[0-9]+") && ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                            stale.add(rs.getString(1));
                        }
                    }
                }
                for (String name : stale) {
                    s.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
                }
                s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
                s.execute("CREATE SCHEMA " + SCHEMA);
                schemaReady = true;
            } catch (SQLException e) {
                String message = "PostgreSQL is not reachable at 127.0.0.1:5432 as postgres: " + e.getMessage();
                if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                    throw new AssertionError(message + " (RELAY_REQUIRE_SERVICES=1, so this fails instead of skipping)", e);
                }
                Assumptions.abort(message + " — skipping; set RELAY_REQUIRE_SERVICES=1 to make this a failure");
            }
        }
        if (pool == null) {
            HikariConfig config = new HikariConfig();
            config.setDataSource(pg(SCHEMA));
            config.setMaximumPoolSize(8);
            config.setMinimumIdle(1);
            config.setPoolName("relay-permits-test");
            pool = new HikariDataSource(config);
        }
        return pool;
    }

    /** @return a table name not used before in this JVM */
    static String freshTable() {
        return "permits_" + SEQUENCE.incrementAndGet();
    }

    private static PGSimpleDataSource pg(String schema) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {env("RELAY_PG_HOST", "127.0.0.1")});
        ds.setPortNumbers(new int[] {Integer.parseInt(env("RELAY_PG_PORT", "5432"))});
        ds.setDatabaseName(env("RELAY_PG_DATABASE", "test"));
        ds.setUser(env("RELAY_PG_USER", "postgres"));
        ds.setConnectTimeout(5);
        ds.setApplicationName("relay-permits-test");
        if (schema != null) {
            ds.setCurrentSchema(schema);
        }
        return ds;
    }

    private static String env(String key, String fallback) {
        String v = System.getenv(key);
        return v == null || v.isBlank() ? fallback : v;
    }
}
