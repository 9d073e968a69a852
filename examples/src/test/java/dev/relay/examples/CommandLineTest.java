package dev.relay.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The demo's command line: bad flags get a usage message and exit status 2, never a stack trace. */
class CommandLineTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return IncidentDemo.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource(delimiter = '|', value = {
        "--bogus | unknown option '--bogus'",
        "--days | --days needs a value",
        "--days abc | --days needs a whole number but got 'abc'",
        "--days 0 | --days must be within [1, 30] but was 0",
        "--days 99999999999999999999 | --days needs a whole number",
        "--permits 65 | --permits must be within [1, 64] but was 65",
        "--speed fast | --speed needs a number but got 'fast'",
        "--speed -1 | --speed must be within",
        "--speed NaN | --speed must be within",
        "--days= | --days needs a value",
        "--days --plain | --days needs a value",
        "stray | unexpected argument 'stray'",
        "--report= | --report needs a value",
    })
    void badFlag_usageAndExit2_noStackTrace(String args, String message) {
        assertEquals(IncidentDemo.USAGE, run(args.trim().split(" +")));
        assertTrue(err().contains(message), err());
        assertTrue(err().contains("usage: java -jar examples/target/relay-demo.jar"), err());
        assertFalse(err().contains("Exception"), err());
        assertFalse(err().contains("\tat "), err());
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void report_aDirectory_exit2BeforeTheReplay(@TempDir Path dir) {
        assertEquals(IncidentDemo.USAGE, run("--report", dir.toString()));
        assertTrue(err().contains("--report " + dir + ": is a directory"), err());
        assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing replayed");
    }

    @Test
    void report_underARegularFile_exit2BeforeTheReplay(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertEquals(IncidentDemo.USAGE, run("--report", file.resolve("report.html").toString()));
        assertTrue(err().contains("cannot write the report there"), err());
        assertFalse(err().contains("\tat "), err());
        assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing replayed");
    }

    @Test
    void report_writablePlace_isLeftAsItWas(@TempDir Path dir) {
        Path report = dir.resolve("sub").resolve("report.html");
        assertEquals(null, IncidentDemo.unwritable(report));
        assertFalse(Files.exists(report), "the probe leaves no empty report behind");
    }

    @Test
    void kafka_notAnAddress_usageNamesTheValue() {
        assertEquals(IncidentDemo.USAGE, run("--kafka", "localhost"));
        assertTrue(err().contains("--kafka wants HOST:PORT[,HOST:PORT...] or 'embedded' but got 'localhost'"), err());
        assertFalse(err().contains("Exception"), err());
    }

    @Test
    void sourceUrl_notPostgreSql_usageWithoutEchoingTheUrl() {
        assertEquals(IncidentDemo.USAGE, run("--source-url", "jdbc:oracle:thin:scott/tiger@//db:1521/PEMS"));
        assertTrue(err().contains("--source-url wants a PostgreSQL JDBC URL"), err());
        assertFalse(err().contains("tiger"), "the URL (which may hold credentials) is not echoed: " + err());
    }

    @Test
    void sinkUrl_unreachable_exit2BeforeTheReplay() {
        assertEquals(IncidentDemo.USAGE, run("--sink-url", "jdbc:postgresql://127.0.0.1:1/test?user=relay&password=s3cret"
                + "&connectTimeout=2"));
        assertTrue(err().contains("--sink-url: cannot connect"), err());
        assertFalse(err().contains("s3cret"), "the URL (which may hold credentials) is not echoed: " + err());
        assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing replayed");
    }

    @Test
    void help_printsUsage_exit0() {
        assertEquals(IncidentDemo.OK, run("--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("--days N"));
        assertEquals("", err());
    }

    @Test
    void parse_defaults() throws Exception {
        DemoOptions o = DemoOptions.parse();
        assertEquals(3, o.outageDays());
        assertEquals(1, o.permits());
        assertEquals(15, o.configDeadlineMinutes());
        assertFalse(o.plain());
    }

    @Test
    void parse_allFlags() throws Exception {
        DemoOptions o = DemoOptions.parse("--days=2", "--permits", "3", "--stations", "5", "--config-scale", "100",
                "--speed", "0", "--config-deadline", "30", "--seed", "7", "--report", "x/r.html", "--plain");
        assertEquals(new DemoOptions(2, 3, 5, 100, 0.0, 30, 7, Path.of("x/r.html"), true, java.util.Optional.empty(),
                java.util.Optional.empty(), java.util.Optional.empty()), o);
    }
}
