package dev.relay.examples;

import dev.relay.core.LaneSnapshot;
import dev.relay.core.RelaySnapshot;
import dev.relay.simulation.RunRecorder;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the demo shows while it runs: per lane its backlog, tasks in flight, tasks done, p50 and p99 wait (over
 * every task started so far, computed as the report computes them: {@link RunRecorder#quantile} of the recorded
 * waits), and a progress bar of the backfill. Its first line appears at once ({@link #preparing}), before the
 * source tables are generated. On a terminal ({@code System.console() != null}) it redraws one block in place
 * with ANSI cursor movements at most every {@link #FRAME_MILLIS} ms of wall time; otherwise (a pipe, a CI log) it
 * prints one plain line per simulated hour.
 *
 * <p>Not threadsafe: the demo's thread calls it between simulation slices.
 */
final class LiveView {

    /** Shortest wall time between two redraws on a terminal. */
    static final long FRAME_MILLIS = 100;

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("EEE yyyy-MM-dd HH:mm zzz", Locale.ROOT);
    private static final int BAR = 40;

    private final PrintStream out;
    private final boolean ansi;
    private final String title;
    private int linesDrawn;
    private long lastDrawNanos;
    private Instant nextPlainLine;
    private boolean titled;
    private boolean framed;

    /**
     * @param out where to draw
     * @param ansi redraw in place (a terminal) or print plain lines
     * @param title the first line
     */
    LiveView(PrintStream out, boolean ansi, String title) {
        this.out = out;
        this.ansi = ansi;
        this.title = title;
    }

    /**
     * Shows what the demo is doing while something slow happens (no frame to show yet, or none any more): before
     * the first frame, the title and this line, which the first frame then replaces on a terminal; after it, a line
     * below the last frame.
     *
     * @param status what is happening
     */
    void preparing(String status) {
        if (!framed) {
            if (ansi) {
                draw(List.of(bold(title), status));
            } else {
                if (!titled) {
                    out.println(title);
                }
                out.println(status);
            }
            titled = true;
        } else {
            out.println(status);
            linesDrawn = 0; // leave the last frame where it is
        }
        out.flush();
    }

    /**
     * Shows the scenario's state now, if it is time to.
     *
     * @param scenario the scenario
     * @param force draw even if the last frame was recent (the final frame)
     */
    void update(IncidentScenario scenario, boolean force) {
        if (ansi) {
            long now = System.nanoTime();
            if (!force && framed && now - lastDrawNanos < FRAME_MILLIS * 1_000_000) {
                return;
            }
            lastDrawNanos = now;
            draw(frame(scenario));
            framed = true;
        } else {
            Instant now = scenario.now();
            if (nextPlainLine == null) {
                if (!titled) {
                    out.println(title);
                    titled = true;
                }
                nextPlainLine = scenario.restart();
            }
            framed = true;
            if (force || !now.isBefore(nextPlainLine)) {
                out.println(plainLine(scenario));
                while (!now.isBefore(nextPlainLine)) {
                    nextPlainLine = nextPlainLine.plus(Duration.ofHours(1));
                }
            }
        }
        out.flush();
    }

    private void draw(List<String> lines) {
        StringBuilder sb = new StringBuilder();
        if (linesDrawn > 0) {
            sb.append("\033[").append(linesDrawn).append('F'); // to the start of the block
        }
        for (String line : lines) {
            sb.append("\033[2K").append(line).append('\n');
        }
        out.print(sb);
        linesDrawn = lines.size();
    }

    List<String> frame(IncidentScenario scenario) {
        RelaySnapshot s = scenario.snapshot();
        List<String> lines = new ArrayList<>();
        lines.add(bold(title));
        lines.add(String.format("simulated %s  (+%s since the restart)   source permits in use %d/%d",
                TIME.format(ZonedDateTime.ofInstant(scenario.now(), IncidentScenario.ZONE)),
                Verdict.fmt(Duration.between(scenario.restart(), scenario.now())), s.permitsInUse(), s.permits()));
        lines.add(String.format("  %-10s %9s %10s %9s %10s %10s", "lane", "backlog", "in flight", "done", "p50 wait",
                "p99 wait"));
        long rawRows = 0;
        long configRows = 0;
        for (LaneSnapshot l : s.lanes()) {
            List<Duration> waits = scenario.recorder().waits(l.name());
            lines.add(String.format("  %-10s %,9d %10d %,9d %10s %10s", l.name(), Math.max(0, l.backlog()), l.inFlight(),
                    l.completed(), Verdict.fmt(RunRecorder.quantile(waits, 0.5)), Verdict.fmt(RunRecorder.quantile(waits, 0.99))));
            if (l.name().equals(IncidentScenario.CONFIG)) {
                configRows += l.rows();
            } else {
                rawRows += l.rows();
            }
        }
        long planned = scenario.planner().backfillTotal();
        long done = s.lane(IncidentScenario.BACKFILL).map(LaneSnapshot::completed).orElse(0L);
        double fraction = planned == 0 ? 0 : Math.min(1.0, done / (double) planned);
        int filled = (int) Math.round(fraction * BAR);
        lines.add(String.format("  backfill  [%s%s] %3.0f%%  %,d / %,d windows", "=".repeat(filled),
                " ".repeat(BAR - filled), fraction * 100, done, planned));
        lines.add(String.format("  rows relayed: %,d raw, %,d config   phase %s", rawRows, configRows,
                scenario.phase().name().toLowerCase(Locale.ROOT)));
        return lines;
    }

    private String plainLine(IncidentScenario scenario) {
        RelaySnapshot s = scenario.snapshot();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("[+%s %s]", Verdict.fmt(Duration.between(scenario.restart(), scenario.now())),
                ZonedDateTime.ofInstant(scenario.now(), IncidentScenario.ZONE).toLocalDateTime()));
        for (LaneSnapshot l : s.lanes()) {
            List<Duration> waits = scenario.recorder().waits(l.name());
            sb.append(String.format(" %s: backlog %d, in flight %d, done %d, p50 %s, p99 %s;", l.name(),
                    Math.max(0, l.backlog()), l.inFlight(), l.completed(), Verdict.fmt(RunRecorder.quantile(waits, 0.5)),
                    Verdict.fmt(RunRecorder.quantile(waits, 0.99))));
        }
        long planned = scenario.planner().backfillTotal();
        long done = s.lane(IncidentScenario.BACKFILL).map(LaneSnapshot::completed).orElse(0L);
        sb.append(String.format(" backfill %d%%", planned == 0 ? 0 : Math.min(100, done * 100 / planned)));
        return sb.toString();
    }

    private String bold(String s) {
        return ansi ? "\033[1m" + s + "\033[0m" : s;
    }
}
