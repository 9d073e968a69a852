package dev.relay.jdbc;

import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * PostgreSQL for tests: 127.0.0.1:5432, user postgres, no password, database {@code test}; the environment
 * variables RELAY_PG_HOST, RELAY_PG_PORT, RELAY_PG_DATABASE, RELAY_PG_USER and RELAY_PG_PASSWORD point it
 * elsewhere (the README's "Commands"; every PostgreSQL test and benchmark reads the same five). Tests that need
 * it are skipped with a message when it is not reachable, and fail instead when {@code RELAY_REQUIRE_SERVICES=1}.
 */
public final class PostgresTestSupport {

    static final String HOST = env("RELAY_PG_HOST", "127.0.0.1");
    static final int PORT = Integer.parseInt(env("RELAY_PG_PORT", "5432"));
    static final String USER = env("RELAY_PG_USER", "postgres");
    static final String DATABASE = env("RELAY_PG_DATABASE", "test");
    static final String PASSWORD = env("RELAY_PG_PASSWORD", "");

    private PostgresTestSupport() {
    }

    private static String env(String key, String fallback) {
        String v = System.getenv(key);
        return v == null || v.isBlank() ? fallback : v;
    }

    /** @return the JDBC URL of the test database (user and password are separate: {@link #user()}, {@link #password()}) */
    public static String url() {
        return "jdbc:postgresql://" + HOST + ":" + PORT + "/" + DATABASE;
    }

    /** @return the user to connect as */
    public static String user() {
        return USER;
    }

    /** @return the password, empty for none (trust authentication) */
    public static String password() {
        return PASSWORD;
    }

    /**
     * @param schema the schema every unqualified name resolves to (created by {@link #freshSchema})
     * @return a data source on the test database, after checking it is reachable
     */
    static PGSimpleDataSource dataSource(String schema) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {HOST});
        ds.setPortNumbers(new int[] {PORT});
        ds.setDatabaseName(DATABASE);
        ds.setUser(USER);
        if (!PASSWORD.isEmpty()) {
            ds.setPassword(PASSWORD);
        }
        ds.setReWriteBatchedInserts(true);
        ds.setConnectTimeout(5);
        if (schema != null) {
            ds.setCurrentSchema(schema);
        }
        return ds;
    }

    /**
     * @param base a schema name private to a test class
     * @return the schema this JVM uses for it: {@code base_<pid>}, so that two builds on one machine (a developer
     *         and the lead's merge build, say) never drop each other's tables
     */
    static String schema(String base) {
        return base + "_" + ProcessHandle.current().pid();
    }

    /**
     * Skips the calling test (or fails it under RELAY_REQUIRE_SERVICES=1) unless PostgreSQL answers, then
     * drops and creates this JVM's {@link #schema(String) schema} for {@code base}, and drops the schemas of
     * earlier runs whose JVM is gone.
     *
     * @param base a schema name private to the calling test class
     * @return a data source whose current schema is {@code schema(base)}
     */
    static DataSource freshSchema(String base) {
        String schema = schema(base);
        PGSimpleDataSource admin = dataSource(null);
        try (Connection c = admin.getConnection(); Statement s = c.createStatement()) {
            java.util.List<String> stale = new java.util.ArrayList<>();
            try (var rs = s.executeQuery("SELECT nspname FROM pg_namespace WHERE nspname LIKE '" + base + "\\_%'")) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    String pid = name.substring(base.length() + 1);
                    if (pid.matches("[0-9]+") && ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                        stale.add(name);
                    }
                }
            }
            for (String name : stale) {
                s.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
            }
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            s.execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            String message = "PostgreSQL is not reachable at " + url() + " as " + USER + ": " + e.getMessage();
            if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                throw new AssertionError(message + " (RELAY_REQUIRE_SERVICES=1, so this fails instead of skipping)", e);
            }
            Assumptions.abort(message + " — skipping; start it (pg_ctlcluster … main start) or set "
                    + "RELAY_REQUIRE_SERVICES=1 to make this a failure");
        }
        return dataSource(schema);
    }

    /**
     * Drops this JVM's schema for {@code base} (for tests that leave large tables behind).
     *
     * @param base the base name given to {@link #freshSchema(String)}
     */
    static void dropSchema(String base) {
        try (Connection c = dataSource(null).getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + schema(base) + " CASCADE");
        } catch (SQLException ignored) {
            // PostgreSQL went away; the next run drops it as stale
        }
    }
}
