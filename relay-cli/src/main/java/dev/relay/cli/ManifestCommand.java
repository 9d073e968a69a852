package dev.relay.cli;

import dev.relay.api.SeriesKey;
import dev.relay.api.Window;
import dev.relay.core.plan.BackfillManifest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jdbi.v3.core.Jdbi;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relay manifest}: the dates a backfill touched, from the ledger's completion times. It reads the ledger table
 * as {@code JdbcCompletionLedger} documents it ({@code series}, {@code window_start}, {@code window_end},
 * {@code snapshot_day}, {@code completed_at} in UTC). Not threadsafe (one run).
 */
@Command(name = "manifest", mixinStandardHelpOptions = true,
        description = {"The dates a backfill touched: the series and source-local dates of the windows and snapshots that a "
                + "JDBC completion ledger records as completed in [--completed-since, --completed-until), as CSV "
                + "(source,parameters,date), for the downstream reprocessing (dbt reprocesses only recent days on its own).",
            "With --before, only the dates before that day (those the incremental run will not reprocess)."})
final class ManifestCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    LedgerOptions ledger;

    @Option(names = "--completed-since", required = true, paramLabel = "INSTANT", converter = Converters.UtcInstant.class,
            description = "the start of the completion span, UTC (2024-03-14T00:00:00Z)")
    Instant since;

    @Option(names = "--completed-until", paramLabel = "INSTANT", converter = Converters.UtcInstant.class,
            description = "its end, excluded, UTC (default: now)")
    Instant until;

    @Option(names = "--before", paramLabel = "DATE", description = "only dates before this source-local day (2024-03-12)")
    LocalDate before;

    @Option(names = "--series", paramLabel = "KEY", converter = Converters.Series.class,
            description = "only this series (canonical form, e.g. 'vds30sec;district=D7'); repeatable")
    List<SeriesKey> series;

    @Option(names = "--output", paramLabel = "FILE", description = "write the CSV to this file instead of the standard output")
    Path output;

    @Override
    public Integer call() throws IOException {
        Converters.Usage usage = message -> new CommandLine.ParameterException(spec.commandLine(), message);
        Instant end = until == null ? Instant.now() : until;
        if (!since.isBefore(end)) {
            throw usage.error("--completed-since " + since + " must be before --completed-until " + end);
        }
        String table = ledger.table(usage);
        Jdbi jdbi = ledger.connect();
        Set<SeriesKey> only = series == null ? null : new HashSet<>(series);
        BackfillManifest.Builder manifest = BackfillManifest.builder();
        List<Completed> rows = jdbi.withHandle(h -> h.createQuery("SELECT series, window_start, window_end, snapshot_day FROM "
                        + table + " WHERE completed_at >= :since AND completed_at < :until")
                .bind("since", LocalDateTime.ofInstant(since, ZoneOffset.UTC))
                .bind("until", LocalDateTime.ofInstant(end, ZoneOffset.UTC))
                .map((rs, ctx) -> new Completed(rs.getString(1), rs.getObject(2, LocalDateTime.class),
                        rs.getObject(3, LocalDateTime.class), rs.getObject(4, LocalDate.class)))
                .list());
        for (Completed row : rows) {
            SeriesKey key = SeriesKey.parse(row.series());
            if (only != null && !only.contains(key)) {
                continue;
            }
            if (row.start() != null && row.end() != null) {
                manifest.add(key, Window.of(row.start(), row.end()));
            } else if (row.day() != null) {
                manifest.add(key, row.day());
            }
        }
        BackfillManifest built = manifest.build();
        if (before != null) {
            BackfillManifest.Builder kept = BackfillManifest.builder();
            built.dates().forEach((k, days) -> days.stream().filter(d -> d.isBefore(before)).forEach(d -> kept.add(k, d)));
            built = kept.build();
        }
        String csv = built.toCsv();
        if (output != null) {
            Files.writeString(output, csv, StandardCharsets.UTF_8);
            spec.commandLine().getErr().printf("%d series, %d dates written to %s%n", built.dates().size(),
                    built.dates().values().stream().mapToInt(Set::size).sum(), output.toAbsolutePath());
        } else {
            PrintWriter out = spec.commandLine().getOut();
            out.print(csv);
            out.flush();
        }
        return RelayCli.OK;
    }

    /** One completed row of the ledger. */
    private record Completed(String series, LocalDateTime start, LocalDateTime end, LocalDate day) {
    }
}
