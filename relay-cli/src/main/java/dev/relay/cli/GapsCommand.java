package dev.relay.cli;

import dev.relay.api.SeriesKey;
import dev.relay.api.Window;
import dev.relay.core.plan.BackfillManifest;
import dev.relay.core.plan.GapDetector;
import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code relay gaps}: the windows a JDBC completion ledger misses. Not threadsafe (one run). */
@Command(name = "gaps", mixinStandardHelpOptions = true,
        description = {"The windows of some series that a JDBC completion ledger does not hold as completed, over a "
                + "source-local range [--from, --to) on the planners' grid of --window: what a skipped tick, a lost task or "
                + "a dead-lettered window left behind.",
            "With --manifest, the dates a backfill of those gaps would touch, as CSV (source,parameters,date), for the "
                + "downstream reprocessing."})
final class GapsCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    LedgerOptions ledger;

    @Option(names = "--series", required = true, paramLabel = "KEY", converter = Converters.Series.class,
            description = "a series in canonical form, e.g. 'vds30sec;district=D7'; repeatable")
    List<SeriesKey> series;

    @Option(names = "--from", required = true, paramLabel = "LOCAL_TIME", converter = Converters.LocalTime.class,
            description = "the range's first instant, source-local (2024-03-01 or 2024-03-01T00:00)")
    LocalDateTime from;

    @Option(names = "--to", required = true, paramLabel = "LOCAL_TIME", converter = Converters.LocalTime.class,
            description = "the range's end, excluded, source-local")
    LocalDateTime to;

    @Option(names = "--window", required = true, paramLabel = "DURATION", converter = Converters.PositiveDuration.class,
            description = "the planners' window size, ISO-8601 (PT10M): whole seconds dividing a day")
    Duration window;

    @Option(names = "--manifest", description = "print the dates the gaps touch as CSV instead of the gaps")
    boolean manifest;

    @Override
    public Integer call() {
        Converters.Usage usage = message -> new CommandLine.ParameterException(spec.commandLine(), message);
        if (!from.isBefore(to)) {
            throw usage.error("--from " + from + " must be before --to " + to);
        }
        if (Duration.ofDays(1).getSeconds() % window.getSeconds() != 0 || window.getNano() != 0) {
            throw usage.error("--window " + window + " must be whole seconds dividing a day (PT5M, PT10M, PT1H, …)");
        }
        String table = ledger.table(usage);
        JdbcCompletionLedger l = JdbcCompletionLedger.builder(ledger.connect()).table(table).build();
        SortedMap<SeriesKey, List<Window>> gaps = GapDetector.of(l, window).gaps(series, Window.of(from, to));
        PrintWriter out = spec.commandLine().getOut();
        if (manifest) {
            out.print(BackfillManifest.of(gaps).toCsv());
            out.flush();
            return RelayCli.OK;
        }
        long gridWindows = Duration.between(from, to).getSeconds() / window.getSeconds();
        for (SeriesKey key : series) {
            List<Window> missing = gaps.getOrDefault(key, List.of());
            List<Window> runs = runs(missing);
            out.printf("%s: %s%n", key.canonical(), missing.isEmpty() ? "no gaps"
                    : String.format("%d gap%s, %d of about %d windows missing", runs.size(), runs.size() == 1 ? "" : "s",
                            missing.size(), gridWindows));
            for (Window run : runs) {
                long n = Duration.between(run.start(), run.end()).getSeconds() / window.getSeconds();
                out.printf("  [%s, %s)  %d window%s%n", run.start(), run.end(), n, n == 1 ? "" : "s");
            }
        }
        out.flush();
        return RelayCli.OK;
    }

    /** Merges adjacent windows into runs. */
    static List<Window> runs(List<Window> windows) {
        java.util.ArrayList<Window> runs = new java.util.ArrayList<>();
        for (Window w : windows) {
            if (!runs.isEmpty() && runs.get(runs.size() - 1).end().equals(w.start())) {
                runs.set(runs.size() - 1, Window.of(runs.get(runs.size() - 1).start(), w.end()));
            } else {
                runs.add(w);
            }
        }
        return runs;
    }
}
