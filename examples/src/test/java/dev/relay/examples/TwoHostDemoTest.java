package dev.relay.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's two-host mode, run for real: {@code --kafka embedded} (a broker in this JVM), and the source and the
 * warehouse in PostgreSQL ({@code --source-url}, {@code --sink-url}, 127.0.0.1:5432, database {@code test}, user
 * {@code postgres}; RELAY_PG_* override them). Without PostgreSQL it skips, or fails under RELAY_REQUIRE_SERVICES=1.
 *
 * <p>The puller host's relay runs on the simulation's clock on one thread, so its ~1,700 hand-off transactions run one
 * after another in real time: about 2 minutes on a quiet machine, 5 or more on a busy one. It is off in the default
 * build ({@link TwoHostsTest} checks the same two-host wiring in seconds); run it with
 * {@code mvn -pl examples -am verify -Drelay.demo.twoHosts=true -Dtest=TwoHostDemoTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class TwoHostDemoTest {

    static String postgresUrl() {
        String host = env("RELAY_PG_HOST", "127.0.0.1");
        String port = env("RELAY_PG_PORT", "5432");
        String db = env("RELAY_PG_DATABASE", "test");
        String user = env("RELAY_PG_USER", "postgres");
        return "jdbc:postgresql://" + host + ":" + port + "/" + db + "?user=" + user;
    }

    private static String env(String key, String fallback) {
        String v = System.getenv(key);
        return v == null || v.isBlank() ? fallback : v;
    }

    @Test
    void run_twoHostsThroughKafka_postgresSourceAndSink_sameVerdictAndEveryTaskLoaded(@TempDir Path dir) {
        Assumptions.assumeTrue(Boolean.getBoolean("relay.demo.twoHosts"),
                "the whole two-host demo (about 2 minutes) is off by default; run with -Drelay.demo.twoHosts=true");
        String url = postgresUrl();
        try (Connection c = DriverManager.getConnection(url)) {
            c.isValid(5);
        } catch (SQLException e) {
            if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                throw new AssertionError("PostgreSQL is not reachable (RELAY_REQUIRE_SERVICES=1): " + e.getMessage(), e);
            }
            Assumptions.abort("PostgreSQL is not reachable, skipping the two-host demo: " + e.getMessage());
        }
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        List<String> args = new ArrayList<>(List.of("--days", "1", "--stations", "1", "--config-scale", "5000", "--speed", "0",
                "--report", dir.resolve("report.html").toString(), "--kafka", "embedded", "--source-url", url, "--sink-url", url));
        int status = IncidentDemo.run(args.toArray(String[]::new), new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8), false);
        String out = o.toString(StandardCharsets.UTF_8);
        String err = e.toString(StandardCharsets.UTF_8);
        assertEquals(IncidentDemo.OK, status, out + err);
        String verdict = out.lines().filter(l -> l.startsWith("PASS") || l.startsWith("FAIL")).findFirst().orElseThrow();
        assertTrue(verdict.startsWith("PASS: config first wait "), verdict);
        assertTrue(verdict.contains("rows duplicated 0, windows missing 0"), verdict);
        Matcher two = Pattern.compile("two hosts: the puller-side relay handed ([0-9,]+) tasks off through Kafka \\(a broker in"
                + " this JVM at [^)]+\\); the uploader-side relay \\(its own fair scheduler, 2 load slots\\) loaded ([0-9,]+) tasks")
                .matcher(out);
        assertTrue(two.find(), out);
        assertEquals(two.group(1), two.group(2), "every task handed off was loaded: " + two.group());
        assertTrue(out.contains("generating the PeMS-shaped source in PostgreSQL"), out);
    }
}
