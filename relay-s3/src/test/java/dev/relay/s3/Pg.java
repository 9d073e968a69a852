package dev.relay.s3;

import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * PostgreSQL for the end-to-end tests: 127.0.0.1:5432, user postgres, database {@code test} (override with
 * RELAY_PG_HOST, RELAY_PG_PORT, RELAY_PG_USER, RELAY_PG_DATABASE), one schema per test class and JVM. Tests that
 * need it are skipped with a message when it is not reachable, and fail instead when {@code RELAY_REQUIRE_SERVICES=1}.
 */
final class Pg {

    static final String HOST = env("RELAY_PG_HOST", "127.0.0.1");
    static final int PORT = Integer.parseInt(env("RELAY_PG_PORT", "5432"));
    static final String USER = env("RELAY_PG_USER", "postgres");
    static final String DATABASE = env("RELAY_PG_DATABASE", "test");

    private Pg() {
    }

    private static String env(String key, String fallback) {
        String v = System.getenv(key);
        return v == null || v.isBlank() ? fallback : v;
    }

    /** @return this JVM's schema for a base name: {@code base_<pid>}, so that two builds never share tables */
    static String schema(String base) {
        return base + "_" + ProcessHandle.current().pid();
    }

    static PGSimpleDataSource dataSource(String schema) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {HOST});
        ds.setPortNumbers(new int[] {PORT});
        ds.setDatabaseName(DATABASE);
        ds.setUser(USER);
        ds.setConnectTimeout(5);
        if (schema != null) {
            ds.setCurrentSchema(schema);
        }
        return ds;
    }

    /**
     * Skips the calling test (or fails it under RELAY_REQUIRE_SERVICES=1) unless PostgreSQL answers; then creates
     * this JVM's schema for {@code base} afresh and drops those of earlier runs whose JVM is gone.
     *
     * @param base a schema name private to the calling test class
     * @return a data source whose current schema is {@code schema(base)}
     */
    static PGSimpleDataSource freshSchema(String base) {
        String schema = schema(base);
        try (Connection c = dataSource(null).getConnection(); Statement s = c.createStatement()) {
            List<String> stale = new ArrayList<>();
            try (var rs = s.executeQuery("SELECT nspname FROM pg_namespace WHERE nspname LIKE '" + base + "\\_%'")) {
                while (rs.next()) {
                    String pid = rs.getString(1).substring(base.length() + 1);
                    if (pid.matches("[0-9]+") && ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                        stale.add(rs.getString(1));
                    }
                }
            }
            for (String name : stale) {
                s.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
            }
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            s.execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            String message = "PostgreSQL is not reachable at " + HOST + ":" + PORT + "/" + DATABASE + " as " + USER + ": " + e.getMessage();
            if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                throw new AssertionError(message + " (RELAY_REQUIRE_SERVICES=1, so this fails instead of skipping)", e);
            }
            Assumptions.abort(message + " — skipping; start it or set RELAY_REQUIRE_SERVICES=1 to make this a failure");
        }
        return dataSource(schema);
    }

    /** Drops this JVM's schema for {@code base}. */
    static void dropSchema(String base) {
        try (Connection c = dataSource(null).getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + schema(base) + " CASCADE");
        } catch (SQLException ignored) {
            // PostgreSQL went away; the next run drops it as stale
        }
    }
}
