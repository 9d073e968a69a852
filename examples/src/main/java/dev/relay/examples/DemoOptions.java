package dev.relay.examples;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The incident demo's settings, parsed from its command line. Immutable and threadsafe.
 *
 * @param outageDays days the relay host was down, 1 to 30
 * @param permits source permits {@code P}, 1 to 64
 * @param stations detector stations per district (scales the raw rows), 1 to 200
 * @param configScale divisor of the real config tables' row counts, 1 to 1,000,000
 * @param speed virtual seconds replayed per wall-clock second; 0 replays as fast as possible
 * @param configDeadlineMinutes minutes after 19:00 by which every config snapshot of the day must be done
 * @param seed the seed of every random choice
 * @param report where the HTML report goes
 * @param plain plain periodic lines even on a terminal
 * @param kafka a Kafka bootstrap address, if asked for
 * @param sourceUrl a JDBC URL of a real source, if asked for
 * @param sinkUrl a JDBC URL of a real sink, if asked for
 */
record DemoOptions(int outageDays, int permits, int stations, int configScale, double speed, int configDeadlineMinutes,
        long seed, Path report, boolean plain, Optional<String> kafka, Optional<String> sourceUrl, Optional<String> sinkUrl) {

    /** Thrown for a bad command line; its message says what was wrong. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Thrown for {@code --help}. */
    static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super("help");
        }
    }

    static final String USAGE = String.join(System.lineSeparator(),
            "usage: java -jar examples/target/relay-demo.jar [options]",
            "",
            "Replays the PeMS incident: the relay host was down for some days; after the restart the missed",
            "windows go to the backfill lane while realtime windows and the 19:00 config snapshots keep coming,",
            "all through P source permits. Time is compressed: a simulated day passes in seconds, while every",
            "task really pulls its rows from an embedded H2 source (MODE=Oracle) into an embedded H2 sink.",
            "",
            "options:",
            "  --days N             days the relay host was down (1-30, default 3)",
            "  --permits P          source permits: queries against the source at once (1-64, default 1)",
            "  --stations N         detector stations per district; scales the raw rows (1-200, default 2)",
            "  --config-scale K     config tables hold 1/K of their real row counts (1-1000000, default 1000)",
            "  --speed X            simulated seconds per wall-clock second (default 7200; 0 = as fast as possible)",
            "  --config-deadline M  minutes after 19:00 by which every config snapshot must be done (1-1440, default 15)",
            "  --seed N             seed of the simulated source times (default 375)",
            "  --report FILE        where to write the HTML report (default: relay-demo-report.html in the temp dir)",
            "  --plain              print plain periodic lines instead of the live view",
            "  --kafka HOST:PORT    two hosts: the source-side relay hands each task's rows through this Kafka",
            "                       cluster to an uploader-side relay (its own scheduler) that loads the warehouse;",
            "                       --kafka embedded starts a broker in this JVM",
            "  --source-url URL     pull from PostgreSQL (jdbc:postgresql://HOST:PORT/DB?user=...) instead of the",
            "                       embedded H2; the demo re-creates its schemas relay_demo_src_* there",
            "  --sink-url URL       write to PostgreSQL instead of the embedded H2 (schemas relay_demo_wh_*)",
            "  --help               print this help",
            "",
            "exit status: 0 when every bound held and the sink matches the source, 1 when a bound was broken",
            "or the sink does not match, 2 for a bad command line.");

    static DemoOptions defaults() {
        return new DemoOptions(3, 1, 2, 1000, 7200, 15, 375,
                Path.of(System.getProperty("java.io.tmpdir"), "relay-demo-report.html"), false,
                Optional.empty(), Optional.empty(), Optional.empty());
    }

    /**
     * @param args the command line
     * @return the options
     * @throws UsageException naming the bad flag or value
     * @throws HelpRequested for {@code --help}
     */
    static DemoOptions parse(String... args) throws UsageException, HelpRequested {
        DemoOptions d = defaults();
        int days = d.outageDays;
        int permits = d.permits;
        int stations = d.stations;
        int configScale = d.configScale;
        double speed = d.speed;
        int deadline = d.configDeadlineMinutes;
        long seed = d.seed;
        Path report = d.report;
        boolean plain = false;
        Optional<String> kafka = Optional.empty();
        Optional<String> source = Optional.empty();
        Optional<String> sink = Optional.empty();
        List<String> rest = new ArrayList<>(List.of(args));
        while (!rest.isEmpty()) {
            String arg = rest.remove(0);
            String flag = arg;
            String inline = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                flag = arg.substring(0, eq);
                inline = arg.substring(eq + 1);
            }
            switch (flag) {
                case "--help", "-h" -> throw new HelpRequested();
                case "--plain" -> plain = true;
                case "--days" -> days = intValue(flag, value(flag, inline, rest), 1, 30);
                case "--permits" -> permits = intValue(flag, value(flag, inline, rest), 1, 64);
                case "--stations" -> stations = intValue(flag, value(flag, inline, rest), 1, 200);
                case "--config-scale" -> configScale = intValue(flag, value(flag, inline, rest), 1, 1_000_000);
                case "--config-deadline" -> deadline = intValue(flag, value(flag, inline, rest), 1, 1440);
                case "--speed" -> speed = doubleValue(flag, value(flag, inline, rest), 0, 1e9);
                case "--seed" -> seed = longValue(flag, value(flag, inline, rest));
                case "--report" -> report = pathValue(flag, value(flag, inline, rest));
                case "--kafka" -> kafka = Optional.of(kafkaValue(flag, value(flag, inline, rest)));
                case "--source-url" -> source = Optional.of(postgresUrl(flag, value(flag, inline, rest)));
                case "--sink-url" -> sink = Optional.of(postgresUrl(flag, value(flag, inline, rest)));
                default -> throw new UsageException(arg.startsWith("-") ? "unknown option '" + printable(arg) + "'"
                        : "unexpected argument '" + printable(arg) + "' (options start with --)");
            }
        }
        return new DemoOptions(days, permits, stations, configScale, speed, deadline, seed, report, plain, kafka,
                source, sink);
    }

    private static String kafkaValue(String flag, String v) throws UsageException {
        if (v.equals("embedded") || v.matches("[A-Za-z0-9.\\[\\]:_-]+:[0-9]{1,5}(,[A-Za-z0-9.\\[\\]:_-]+:[0-9]{1,5})*")) {
            return v;
        }
        throw new UsageException(flag + " wants HOST:PORT[,HOST:PORT...] or 'embedded' but got '" + printable(v) + "'");
    }

    private static String postgresUrl(String flag, String v) throws UsageException {
        if (v.startsWith("jdbc:postgresql:")) {
            return v;
        }
        // the URL is not echoed: it may hold a password
        throw new UsageException(flag + " wants a PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DB?user=USER); the"
                + " demo pulls from and writes to PostgreSQL or its embedded H2 only");
    }

    private static String value(String flag, String inline, List<String> rest) throws UsageException {
        if (inline != null) {
            if (inline.isEmpty()) {
                throw new UsageException(flag + " needs a value");
            }
            return inline;
        }
        if (rest.isEmpty() || rest.get(0).startsWith("--")) {
            throw new UsageException(flag + " needs a value");
        }
        return rest.remove(0);
    }

    private static int intValue(String flag, String text, int min, int max) throws UsageException {
        long v = longValue(flag, text);
        if (v < min || v > max) {
            throw new UsageException(flag + " must be within [" + min + ", " + max + "] but was " + v);
        }
        return (int) v;
    }

    private static long longValue(String flag, String text) throws UsageException {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " needs a whole number but got '" + printable(text) + "'");
        }
    }

    private static double doubleValue(String flag, String text, double min, double max) throws UsageException {
        double v;
        try {
            v = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(flag + " needs a number but got '" + printable(text) + "'");
        }
        if (!(v >= min && v <= max)) {
            throw new UsageException(flag + " must be within [" + min + ", " + max + "] but was " + printable(text));
        }
        return v;
    }

    private static Path pathValue(String flag, String text) throws UsageException {
        try {
            Path p = Path.of(text);
            if (p.getFileName() == null) {
                throw new UsageException(flag + " needs a file name but got '" + printable(text) + "'");
            }
            return p;
        } catch (java.nio.file.InvalidPathException e) {
            throw new UsageException(flag + " got an invalid path '" + printable(text) + "': " + e.getReason());
        }
    }

    private static String printable(String s) {
        return dev.relay.api.Names.printable(s);
    }
}
