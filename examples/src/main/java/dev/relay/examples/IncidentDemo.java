package dev.relay.examples;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * The incident demo: replays the PeMS outage and recovery on embedded defaults, shows the lanes live, writes an
 * HTML report with charts and prints a one-line verdict.
 *
 * <pre>
 * mvn -q -pl examples -am package -DskipTests &amp;&amp; java -jar examples/target/relay-demo.jar
 * </pre>
 *
 * Exit status: 0 when every bound held and the sink matches the source, 1 when not, 2 for a bad command line.
 * Run with {@code --help} for the options.
 *
 * <p>{@link #run} is not threadsafe: one demo runs per call, on the calling thread.
 */
public final class IncidentDemo {

    /** Exit status: every bound held, the sink matches the source. */
    public static final int OK = 0;
    /** Exit status: a bound was broken or the sink does not match the source. */
    public static final int FAILED = 1;
    /** Exit status: a bad command line. */
    public static final int USAGE = 2;

    private IncidentDemo() {
    }

    /**
     * Runs the demo and exits with its status.
     *
     * @param args the command line; {@code --help} lists the options
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.console() != null));
    }

    /**
     * Runs the demo.
     *
     * @param args the command line
     * @param out where the live view, the report path and the verdict go
     * @param err where usage errors go
     * @param terminal whether {@code out} is a terminal (redraw in place) or not (plain periodic lines)
     * @return the exit status: {@link #OK}, {@link #FAILED} or {@link #USAGE}
     */
    public static int run(String[] args, PrintStream out, PrintStream err, boolean terminal) {
        DemoOptions options;
        try {
            options = DemoOptions.parse(args);
        } catch (DemoOptions.HelpRequested e) {
            out.println(DemoOptions.USAGE);
            return OK;
        } catch (DemoOptions.UsageException e) {
            err.println("relay-demo: " + e.getMessage());
            err.println();
            err.println(DemoOptions.USAGE);
            return USAGE;
        }
        String unavailable = unavailable(options);
        if (unavailable != null) {
            err.println("relay-demo: " + unavailable);
            return USAGE;
        }
        String unwritable = unwritable(options.report());
        if (unwritable != null) {
            err.println("relay-demo: --report " + options.report() + ": " + unwritable);
            return USAGE;
        }
        try {
            return replay(options, out, terminal && !options.plain());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("relay-demo: interrupted");
            return FAILED;
        } catch (Exception e) {
            err.println("relay-demo: the replay failed: " + e);
            Throwable c = e.getCause();
            while (c != null) {
                err.println("  caused by: " + c);
                c = c.getCause();
            }
            return FAILED;
        }
    }

    /** @return why an external system the options ask for cannot be reached, or null (checked before the replay) */
    private static String unavailable(DemoOptions o) {
        for (java.util.Map.Entry<String, java.util.Optional<String>> url : java.util.List.of(
                java.util.Map.entry("--source-url", o.sourceUrl()), java.util.Map.entry("--sink-url", o.sinkUrl()))) {
            if (url.getValue().isPresent()) {
                try (java.sql.Connection c = java.sql.DriverManager.getConnection(url.getValue().get())) {
                    c.isValid(5);
                } catch (java.sql.SQLException e) {
                    // the URL is not echoed: it may hold a password
                    return url.getKey() + ": cannot connect (" + e.getMessage() + ")";
                }
            }
        }
        return null;
    }

    /**
     * Checks before the replay that the report can be written where asked, so that minutes of replay do not end
     * in an I/O error: creates the missing directories and opens the file for writing (removing it again if it
     * did not exist).
     *
     * @return why the report cannot be written there, or null
     */
    static String unwritable(Path report) {
        Path abs = report.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return "is a directory; give a file name, e.g. " + abs.resolve("relay-demo-report.html");
        }
        boolean existed = Files.exists(abs);
        try {
            if (abs.getParent() != null) {
                Files.createDirectories(abs.getParent());
            }
            try (OutputStream probe = Files.newOutputStream(abs, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                probe.flush();
            }
            if (!existed) {
                Files.delete(abs);
            }
            return null;
        } catch (IOException | SecurityException e) {
            return "cannot write the report there (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
        }
    }

    private static int replay(DemoOptions o, PrintStream out, boolean ansi) throws Exception {
        String title = String.format("relay demo: PeMS relay host down %d day%s, then restarted; P = %d source permit%s",
                o.outageDays(), o.outageDays() == 1 ? "" : "s", o.permits(), o.permits() == 1 ? "" : "s");
        long wallStart = System.nanoTime();
        LiveView view = new LiveView(out, ansi, title);
        // at once, before the seconds it takes to generate the source tables
        view.preparing(String.format("generating the PeMS-shaped source in %s: 9 districts x %d station%s of 30 s samples"
                + " over the outage and the catch-up, and the 6 config tables%s ...",
                o.sourceUrl().isPresent() ? "PostgreSQL" : "H2", o.stations(), o.stations() == 1 ? "" : "s",
                o.kafka().isPresent() ? "; starting the uploader host's relay and the hand-off through Kafka" : ""));
        try (IncidentScenario scenario = new IncidentScenario(o)) {
            Duration slice = o.speed() == 0 ? Duration.ofMinutes(10)
                    : Duration.ofMillis(Math.max(1, Math.round(o.speed() * LiveView.FRAME_MILLIS)));
            long simStartNanos = System.nanoTime();
            Duration simulated = Duration.ZERO;
            view.update(scenario, true);
            while (scenario.advance(slice) != IncidentScenario.Phase.DONE) {
                view.update(scenario, false);
                simulated = simulated.plus(slice);
                if (o.speed() > 0) {
                    long dueNanos = simStartNanos + (long) (simulated.toNanos() / o.speed());
                    long sleep = dueNanos - System.nanoTime();
                    if (sleep > 0) {
                        Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                    }
                }
            }
            view.update(scenario, true);
            Warehouse.Check check = scenario.verify();
            Verdict verdict = Verdict.judge(scenario, check);
            view.preparing("replaying the same tasks the old relay's way (one FIFO queue) for the comparison ...");
            OldRelayBaseline.Result old = OldRelayBaseline.run(o);
            Path report = new HtmlReport(scenario, verdict, old).write(o.report());
            out.println();
            out.printf("replayed %s of simulated time in %.1f s%n",
                    Verdict.fmt(Duration.between(scenario.restart(), scenario.now())), (System.nanoTime() - wallStart) / 1e9);
            out.printf("the old relay (one FIFO queue, same tasks and source times) would have started the 19:00 config"
                    + " snapshots after %s and finished them %s after 19:00; realtime worst wait %s%n",
                    Verdict.fmt(old.configFirstWait()), old.configDone() == null ? "not within days" : Verdict.fmt(old.configDone()),
                    Verdict.fmt(old.realtimeWorstWait()));
            scenario.twoHosts().ifPresent(two -> out.println(two.summary(scenario.snapshot().completed())));
            out.println("report: " + report);
            out.println(verdict.line());
            return verdict.passed() ? OK : FAILED;
        }
    }
}
