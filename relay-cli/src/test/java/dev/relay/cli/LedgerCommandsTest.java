package dev.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gaps} and {@code manifest} against a JDBC completion ledger on PostgreSQL (the README's RELAY_PG_* variables;
 * skipped when it is not reachable, failing instead under RELAY_REQUIRE_SERVICES=1). The ledger table is this JVM's own.
 */
class LedgerCommandsTest {

    private static final String HOST = env("RELAY_PG_HOST", "127.0.0.1");
    private static final String PORT = env("RELAY_PG_PORT", "5432");
    private static final String DATABASE = env("RELAY_PG_DATABASE", "test");
    private static final String USER = env("RELAY_PG_USER", "postgres");
    private static final String URL = "jdbc:postgresql://" + HOST + ":" + PORT + "/" + DATABASE;
    private static final String TABLE = "relay_cli_ledger_" + ProcessHandle.current().pid();
    private static final LocalDateTime DAY = LocalDateTime.of(2024, 3, 1, 0, 0);
    private static final Instant YESTERDAY = Instant.parse("2024-03-13T10:00:00Z");
    private static final Instant TODAY = Instant.parse("2024-03-14T10:00:00Z");

    @BeforeAll
    static void ledger() throws SQLException {
        Properties credentials = credentials();
        try (Connection c = DriverManager.getConnection(URL + "?connectTimeout=10", credentials); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + TABLE);
        } catch (SQLException e) {
            String message = "PostgreSQL is not reachable at " + URL + " as " + USER + ": " + e.getMessage();
            if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                throw new AssertionError(message + " (RELAY_REQUIRE_SERVICES=1, so this fails instead of skipping)", e);
            }
            Assumptions.abort(message);
        }
        Jdbi jdbi = Jdbi.create(URL, credentials);
        JdbcCompletionLedger.builder(jdbi).table(TABLE).build().createTableIfNotExists();
        JdbcCompletionLedger yesterday = JdbcCompletionLedger.builder(jdbi).table(TABLE).clock(Clock.fixed(YESTERDAY, ZoneOffset.UTC)).build();
        JdbcCompletionLedger today = JdbcCompletionLedger.builder(jdbi).table(TABLE).clock(Clock.fixed(TODAY, ZoneOffset.UTC)).build();
        // realtime, done yesterday: D4 complete over [00:00, 02:00); D7 misses 00:30 and [01:00, 01:20)
        for (int i = 0; i < 12; i++) {
            yesterday.recordCompleted(window("realtime", "D4", DAY.plusMinutes(10L * i)), 1);
            if (i != 3 && i != 6 && i != 7) {
                yesterday.recordCompleted(window("realtime", "D7", DAY.plusMinutes(10L * i)), 1);
            }
        }
        // a backfill done today: two windows of February 20 (one crossing midnight) and a config snapshot
        today.recordCompleted(window("backfill", "D7", LocalDateTime.of(2024, 2, 20, 23, 50)), 1);
        today.recordCompleted(window("backfill", "D7", LocalDateTime.of(2024, 2, 21, 0, 0)), 1);
        today.recordCompleted(Task.builder("config", "config").scope(Snapshot.of(LocalDate.of(2024, 3, 13)))
                .parameter("table", "STATION_CONFIG").build(), 1);
    }

    @AfterAll
    static void dropLedger() {
        try (Connection c = DriverManager.getConnection(URL, credentials()); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + TABLE);
        } catch (SQLException ignored) {
            // not reachable: nothing was created
        }
    }

    static Task window(String lane, String district, LocalDateTime start) {
        return Task.builder(lane, "vds30sec").scope(Window.starting(start, Duration.ofMinutes(10))).parameter("district", district).build();
    }

    private static String[] ledgerArgs(String command, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--jdbc-url", URL, "--user", USER, "--ledger-table", TABLE));
        if (System.getenv("RELAY_PG_PASSWORD") != null) {
            args.addAll(List.of("--password-env", "RELAY_PG_PASSWORD"));
        }
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    @Test
    void gaps_ledgerMissingWindows_listsThemAsRunsPerSeries() {
        Cli cli = Cli.run(ledgerArgs("gaps", "--series", "vds30sec;district=D7", "--series", "vds30sec;district=D4",
                "--from", "2024-03-01T00:00", "--to", "2024-03-01T02:00", "--window", "PT10M"));
        assertEquals(RelayCli.OK, cli.status(), cli.toString());
        assertEquals(List.of(
                "vds30sec;district=D7: 2 gaps, 3 of about 12 windows missing",
                "  [2024-03-01T00:30, 2024-03-01T00:40)  1 window",
                "  [2024-03-01T01:00, 2024-03-01T01:20)  2 windows",
                "vds30sec;district=D4: no gaps"), cli.out().lines().toList(), cli.toString());
    }

    @Test
    void gaps_withManifest_printsTheDatesTheGapsTouchAsCsv() {
        Cli cli = Cli.run(ledgerArgs("gaps", "--series", "vds30sec;district=D7", "--series", "vds30sec;district=D4",
                "--from", "2024-03-01", "--to", "2024-03-01T02:00", "--window", "PT10M", "--manifest"));
        assertEquals(RelayCli.OK, cli.status(), cli.toString());
        assertEquals("source,parameters,date\nvds30sec,district=D7,2024-03-01\n", cli.out());
    }

    @Test
    void manifest_completedToday_listsTheDatesTheBackfillTouched() {
        Cli cli = Cli.run(ledgerArgs("manifest", "--completed-since", "2024-03-14T00:00:00Z",
                "--completed-until", "2024-03-15T00:00:00Z"));
        assertEquals(RelayCli.OK, cli.status(), cli.toString());
        assertEquals("source,parameters,date\n"
                + "config,table=STATION_CONFIG,2024-03-13\n"
                + "vds30sec,district=D7,2024-02-20\n"
                + "vds30sec,district=D7,2024-02-21\n", cli.out());
    }

    @Test
    void manifest_beforeADayAndOneSeries_keepsOnlyThoseDates(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("manifest.csv");
        Cli cli = Cli.run(ledgerArgs("manifest", "--completed-since", "2024-03-14T00:00:00Z",
                "--completed-until", "2024-03-15T00:00:00Z", "--before", "2024-02-21", "--series", "vds30sec;district=D7",
                "--output", csv.toString()));
        assertEquals(RelayCli.OK, cli.status(), cli.toString());
        assertEquals("source,parameters,date\nvds30sec,district=D7,2024-02-20\n", Files.readString(csv));
        assertTrue(cli.err().startsWith("1 series, 1 dates written to "), cli.toString());
    }

    @Test
    void gaps_ledgerTableMissing_exit1NamingIt() {
        Cli cli = Cli.run("gaps", "--jdbc-url", URL, "--user", USER, "--ledger-table", TABLE + "_absent",
                "--series", "vds30sec;district=D7", "--from", "2024-03-01", "--to", "2024-03-02", "--window", "PT10M");
        assertEquals(RelayCli.FAILED, cli.status(), cli.toString());
        assertTrue(cli.err().startsWith("relay gaps: ") && cli.err().contains(TABLE + "_absent"), cli.toString());
    }

    private static Properties credentials() {
        Properties p = new Properties();
        p.setProperty("user", USER);
        String password = System.getenv("RELAY_PG_PASSWORD");
        if (password != null && !password.isEmpty()) {
            p.setProperty("password", password);
        }
        return p;
    }

    private static String env(String key, String fallback) {
        String v = System.getenv(key);
        return v == null || v.isBlank() ? fallback : v;
    }
}
