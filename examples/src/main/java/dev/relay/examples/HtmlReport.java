package dev.relay.examples;

import dev.relay.core.LaneSnapshot;
import dev.relay.core.RelaySnapshot;
import dev.relay.simulation.RunRecorder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the demo's report: one self-contained HTML file (inline CSS and SVG, no script, no network) with the
 * verdict, per-lane figures and four charts — the first day's config snapshots done after 19:00 by relay and by
 * the old relay (one FIFO queue), completions over time per lane, the wait distribution per lane, and the source
 * permits in use over time, stacked by lane. Every chart's axes carry a title with the unit.
 *
 * <p>Not threadsafe; stateless apart from the run it is given.
 */
final class HtmlReport {

    private static final Map<String, String> COLORS = Map.of(IncidentScenario.BACKFILL, "#7f7f7f",
            IncidentScenario.REALTIME, "#1f77b4", IncidentScenario.CONFIG, "#ff7f0e");
    private static final List<String> LANES = List.of(IncidentScenario.BACKFILL, IncidentScenario.REALTIME,
            IncidentScenario.CONFIG);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("EEE MMM d, HH:mm", Locale.ROOT);
    private static final int WIDTH = 1200;

    private final IncidentScenario scenario;
    private final Verdict verdict;
    private final OldRelayBaseline.Result old;
    private final Instant t0;
    private final Instant t1;
    private final List<RunRecorder.Completion> completions;

    HtmlReport(IncidentScenario scenario, Verdict verdict, OldRelayBaseline.Result old) {
        this.scenario = scenario;
        this.verdict = verdict;
        this.old = old;
        this.t0 = scenario.restart();
        Instant end = scenario.now();
        this.t1 = end.isAfter(t0) ? end : t0.plusSeconds(1);
        this.completions = scenario.recorder().completions();
    }

    /**
     * Writes the report.
     *
     * @param path the file; its directory is created if missing
     * @return the absolute path written
     */
    Path write(Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        if (abs.getParent() != null) {
            Files.createDirectories(abs.getParent());
        }
        Files.writeString(abs, html(), StandardCharsets.UTF_8);
        return abs;
    }

    String html() {
        DemoOptions o = scenario.options();
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<title>relay: PeMS incident replay</title>\n<style>\n")
                .append("body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px 40px;color:#222;max-width:1260px}\n")
                .append("h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin:28px 0 6px}p.sub{color:#555;margin-top:0}\n")
                .append(".verdict{padding:12px 16px;border-radius:6px;font-weight:600;margin:16px 0}\n")
                .append(".pass{background:#e6f4ea;border:1px solid #34a853}.fail{background:#fce8e6;border:1px solid #d93025}\n")
                .append("table{border-collapse:collapse;font-size:14px}td,th{padding:4px 12px;border-bottom:1px solid #ddd;text-align:right}\n")
                .append("th:first-child,td:first-child{text-align:left}svg{display:block;margin:4px 0 8px}\n")
                .append(".legend{margin-top:14px}.legend span{display:inline-block;margin-right:18px}.legend i{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px}\n")
                .append("</style></head><body>\n");
        h.append("<h1>relay — the PeMS incident, replayed</h1>\n<p class=\"sub\">The relay host was down for ")
                .append(o.outageDays()).append(o.outageDays() == 1 ? " day" : " days")
                .append("; after the restart the missed windows went to the <b>backfill</b> lane while <b>realtime</b> windows ")
                .append("and the 19:00 <b>config</b> snapshots kept coming, all through P = ").append(o.permits())
                .append(o.permits() == 1 ? " source permit" : " source permits")
                .append(" (the old relay: one queue, one puller; its config uploads waited a week). Simulated time ")
                .append(esc(TIME.format(local(t0)))).append(" to ").append(esc(TIME.format(local(t1))))
                .append(" America/Los_Angeles; every task really pulled its rows from an embedded H2 source (MODE=Oracle) ")
                .append("into an embedded H2 warehouse.</p>\n");
        h.append("<div class=\"verdict ").append(verdict.passed() ? "pass" : "fail").append("\">")
                .append(esc(verdict.line())).append("</div>\n");
        h.append(comparison());
        h.append("<h2>The first day's 19:00 config snapshots: relay beside the old relay</h2>\n<p class=\"sub\">Snapshots ")
                .append("done against time since they were due, for the same tasks and source times. The old relay's one FIFO ")
                .append("queue holds them behind the whole backlog; relay's config lane starts them within its bound.</p>\n");
        h.append(contrastChart());
        h.append(legend());

        h.append("<h2>Completions over time, per lane</h2>\n<p class=\"sub\">Tasks done since the restart (each lane on its ")
                .append("own scale). Dashed orange: a day's config snapshots due at 19:00; green: backfill and first config day done.</p>\n");
        h.append(completionsChart());
        h.append("<h2>Wait from ready to start, per lane</h2>\n<p class=\"sub\">Share of each lane's tasks by wait (log scale). ")
                .append("The backfill's backlog waits for hours by design (the ticker keeps up to 500 windows queued in it), and the windows of the last two hours before the ")
                .append("restart arrive in the realtime lane at once; the first config snapshot of a day starts within the ")
                .append("scheduler's stated bound (red: the longest task of another lane plus one round of the other lanes' ")
                .append("quanta), the later ones queue behind it in their own lane.</p>\n");
        h.append(waitChart());
        h.append("<h2>Source permits in use over time</h2>\n<p class=\"sub\">Average permits held per lane (stacked), never above P.</p>\n");
        h.append(permitsChart());

        h.append("<h2>Lanes</h2>\n").append(laneTable());
        h.append("<h2>Config snapshots per day</h2>\n").append(configTable());
        h.append("<h2>Sink checked against the source</h2>\n").append(checkTable());
        h.append("<h2>Scenario</h2>\n<table>")
                .append(row("outage", o.outageDays() + " days, from " + scenario.outageStart() + " to " + IncidentScenario.RESTART))
                .append(row("source permits P", Integer.toString(o.permits())))
                .append(row("lane weights", "backfill " + SourceTimeModel.W_BACKFILL + ", realtime " + SourceTimeModel.W_REALTIME
                        + ", config " + SourceTimeModel.W_CONFIG + "; quantum " + Verdict.fmt(SourceTimeModel.QUANTUM)))
                .append(row("source time per task", "recent window 2–5 s, old window 18–22 s, config snapshot 10–60 s"))
                .append(row("data", "9 districts × " + o.stations() + " stations × 2,880 samples a day; config tables at 1/"
                        + o.configScale() + " of their real sizes"))
                .append(row("seed", Long.toString(o.seed())))
                .append("</table>\n</body></html>\n");
        return h.toString();
    }

    private String comparison() {
        Verdict.ConfigDay first = verdict.configDays().isEmpty() ? null : verdict.configDays().get(0);
        return "<table><tr><th>first day's 19:00 config snapshots</th><th>first started after</th>"
                + "<th>all done after</th><th>realtime worst wait</th></tr>"
                + "<tr><td><b>relay</b>: lanes, fair scheduler, P = " + scenario.options().permits() + "</td><td>"
                + Verdict.fmt(first == null ? null : first.firstWait()) + "</td><td>" + Verdict.fmt(first == null ? null : first.done())
                + "</td><td>" + Verdict.fmt(verdict.realtimeWorstWait()) + "</td></tr>"
                + "<tr><td>the old relay: one FIFO queue, same tasks and source times</td><td>"
                + Verdict.fmt(old.configFirstWait()) + "</td><td>" + (old.configDone() == null ? "not within days"
                        : Verdict.fmt(old.configDone())) + "</td><td>" + Verdict.fmt(old.realtimeWorstWait()) + "</td></tr>"
                + "</table>\n";
    }

    private String legend() {
        StringBuilder sb = new StringBuilder("<div class=\"legend\">");
        for (String lane : LANES) {
            sb.append("<span><i style=\"background:").append(COLORS.get(lane)).append("\"></i>").append(lane).append("</span>");
        }
        return sb.append("</div>\n").toString();
    }

    // ------------------------------------------------------------------ chart 0: relay beside the old relay

    private String contrastChart() {
        int left = 80;
        int right = 260;
        int top = 20;
        int plotH = 180;
        int height = top + plotH + 50;
        double plotW = WIDTH - left - right;
        int tables = PemsSource.CONFIG_TABLES.size();
        Svg svg = new Svg(WIDTH, height, "contrast");
        Verdict.ConfigDay first = verdict.configDays().isEmpty() ? null : verdict.configDays().get(0);
        List<Duration> relayDone = new ArrayList<>();
        if (first != null) {
            java.time.LocalDate day = local(first.due()).toLocalDate();
            for (RunRecorder.Completion c : completions) {
                if (c.task().lane().equals(IncidentScenario.CONFIG)
                        && c.task().snapshot().map(s -> s.asOf().equals(day)).orElse(false)) {
                    relayDone.add(Duration.between(first.due(), c.at()));
                }
            }
        }
        relayDone.sort(null);
        List<Duration> oldDone = old.configCompletions();
        Duration span = Duration.ofHours(1);
        for (Duration d : oldDone) {
            span = d.compareTo(span) > 0 ? d : span;
        }
        for (Duration d : relayDone) {
            span = d.compareTo(span) > 0 ? d : span;
        }
        long hours = (long) Math.ceil(span.toMinutes() * 1.08 / 60.0);
        double spanSeconds = hours * 3600.0;
        svg.rect(left, top, plotW, plotH, "#fafafa", "#ccc");
        for (int k = 0; k <= tables; k += 2) {
            double y = top + plotH - plotH * k / (double) tables;
            svg.line(left - 4, y, left, y, "#555", 1, null);
            svg.text(left - 8, y + 4, Integer.toString(k), "end", 11, "#555", false);
        }
        long step = hours <= 6 ? 1 : hours <= 24 ? 2 : hours <= 72 ? 6 : 12;
        for (long hh = 0; hh <= hours; hh += step) {
            double x = left + plotW * hh * 3600.0 / spanSeconds;
            svg.line(x, top + plotH, x, top + plotH + 4, "#555", 1, null);
            svg.text(x, top + plotH + 16, hh + " h", "middle", 11, "#555", false);
        }
        svg.text(left + plotW / 2, top + plotH + 36, "time since the snapshots were due at 19:00 (hours, simulated)", "middle",
                12, "#333", false);
        svg.verticalText(18, top + plotH / 2.0, "config snapshots done (of " + tables + ")", 12, "#333");
        String[] series = {"relay", "old"};
        for (String which : series) {
            List<Duration> done = which.equals("relay") ? relayDone : oldDone;
            String color = which.equals("relay") ? COLORS.get(IncidentScenario.CONFIG) : "#444";
            StringBuilder pts = new StringBuilder().append(fmt(left)).append(',').append(fmt(top + plotH));
            int k = 0;
            double x = left;
            for (Duration d : done) {
                x = left + plotW * Math.min(1, d.toNanos() / 1e9 / spanSeconds);
                pts.append(' ').append(fmt(x)).append(',').append(fmt(top + plotH - plotH * k / (double) tables));
                k++;
                pts.append(' ').append(fmt(x)).append(',').append(fmt(top + plotH - plotH * k / (double) tables));
            }
            pts.append(' ').append(fmt(left + plotW)).append(',').append(fmt(top + plotH - plotH * k / (double) tables));
            svg.polyline(pts.toString(), color, which.equals("relay") ? 3 : 2.5);
            String label = which.equals("relay")
                    ? "relay: all done after " + Verdict.fmt(first == null ? null : first.done())
                    : "old relay: " + (old.configDone() == null ? "not done within the run" : "all done after " + Verdict.fmt(old.configDone()));
            double ly = which.equals("relay") ? top + 14 : top + 34;
            svg.line(left + plotW + 12, ly - 4, left + plotW + 36, ly - 4, color, which.equals("relay") ? 3 : 2.5, null);
            svg.text(left + plotW + 42, ly, esc(label), "start", 12, color, true);
        }
        svg.text(left + plotW + 42, top + 56, esc("old relay's first start: after " + Verdict.fmt(old.configFirstWait())),
                "start", 11, "#555", false);
        return svg.toString();
    }

    // ------------------------------------------------------------------ chart 1: completions over time

    private String completionsChart() {
        int panelH = 120;
        int left = 90;
        int right = 20;
        int top = 10;
        int gap = 22;
        int height = top + LANES.size() * (panelH + gap) + 36;
        Svg svg = new Svg(WIDTH, height, "completions");
        double plotW = WIDTH - left - right;
        for (int i = 0; i < LANES.size(); i++) {
            String lane = LANES.get(i);
            int y0 = top + i * (panelH + gap);
            List<Instant> times = completions.stream().filter(c -> c.task().lane().equals(lane))
                    .map(RunRecorder.Completion::at).sorted().toList();
            int n = Math.max(1, times.size());
            svg.rect(left, y0, plotW, panelH, "#fafafa", "#ccc");
            svg.text(left - 8, y0 + 12, esc(lane), "end", 13, COLORS.get(lane), true);
            svg.text(left - 8, y0 + 28, String.format("%,d", times.size()), "end", 11, "#555", false);
            svg.text(left - 8, y0 + panelH, "0", "end", 11, "#555", false);
            markers(svg, left, y0, plotW, panelH);
            StringBuilder pts = new StringBuilder();
            pts.append(fmt(left)).append(',').append(fmt(y0 + panelH));
            int k = 0;
            for (Instant t : times) {
                double x = left + plotW * frac(t);
                pts.append(' ').append(fmt(x)).append(',').append(fmt(y0 + panelH - panelH * (double) k / n));
                k++;
                pts.append(' ').append(fmt(x)).append(',').append(fmt(y0 + panelH - panelH * (double) k / n));
            }
            pts.append(' ').append(fmt(left + plotW)).append(',').append(fmt(y0 + panelH - panelH * (double) k / n));
            svg.polyline(pts.toString(), COLORS.get(lane), 2);
        }
        timeAxis(svg, left, top + LANES.size() * (panelH + gap) - gap + 4, plotW);
        svg.verticalText(14, top + LANES.size() * (panelH + gap) / 2.0, "tasks done since the restart (count, per lane)", 12, "#333");
        svg.text(left + plotW / 2, height - 2, "simulated time, America/Los_Angeles (day and hour)", "middle", 12, "#333", false);
        return svg.toString();
    }

    private void markers(Svg svg, double left, double y0, double plotW, double h) {
        for (Instant due : scenario.planner().snapshotTimes()) {
            double x = left + plotW * frac(due);
            svg.line(x, y0, x, y0 + h, "#ff7f0e", 1.5, "5,4");
        }
        if (scenario.caughtUpAt() != null) {
            double x = left + plotW * frac(scenario.caughtUpAt());
            svg.line(x, y0, x, y0 + h, "#34a853", 1.5, "2,3");
        }
    }

    private void timeAxis(Svg svg, double left, double y, double plotW) {
        long hours = Math.max(1, Duration.between(t0, t1).toHours());
        long step = hours <= 12 ? 1 : hours <= 36 ? 3 : hours <= 96 ? 6 : 12;
        for (long hh = 0; hh <= hours; hh += step) {
            Instant t = t0.plus(Duration.ofHours(hh));
            double x = left + plotW * frac(t);
            svg.line(x, y - 4, x, y + 2, "#555", 1, null);
            svg.text(x, y + 14, esc(DateTimeFormatter.ofPattern("EEE HH:mm", Locale.ROOT).format(local(t))), "middle", 11,
                    "#555", false);
        }
    }

    // ------------------------------------------------------------------ chart 2: wait distribution

    private String waitChart() {
        int panelW = 350;
        int panelH = 170;
        int gapX = 40;
        int top = 40;
        int left = 70;
        int height = top + panelH + 44;
        Svg svg = new Svg(WIDTH, height, "waits");
        double lo = Math.log10(0.1);
        double hi = Math.log10(Math.max(3600.0 * 30, seconds(maxWait()) * 1.5));
        int bins = 28;
        for (int i = 0; i < LANES.size(); i++) {
            String lane = LANES.get(i);
            double x0 = left + i * (panelW + gapX);
            List<Duration> waits = scenario.recorder().waits(lane);
            int[] counts = new int[bins];
            for (Duration w : waits) {
                double lw = Math.log10(Math.max(0.1, seconds(w)));
                int b = (int) Math.floor((lw - lo) / (hi - lo) * bins);
                counts[Math.max(0, Math.min(bins - 1, b))]++;
            }
            int n = Math.max(1, waits.size());
            double maxShare = 0;
            for (int c : counts) {
                maxShare = Math.max(maxShare, c / (double) n);
            }
            maxShare = Math.max(maxShare, 0.05);
            svg.rect(x0, top, panelW, panelH, "#fafafa", "#ccc");
            svg.text(x0, top - 22, esc(lane), "start", 13, COLORS.get(lane), true);
            svg.text(x0, top - 7, String.format("%,d", waits.size()) + " tasks · p50 "
                    + Verdict.fmt(RunRecorder.quantile(waits, 0.5)) + " · p99 " + Verdict.fmt(RunRecorder.quantile(waits, 0.99))
                    + " · max " + Verdict.fmt(waits.isEmpty() ? Duration.ZERO : waits.get(waits.size() - 1)),
                    "start", 11, "#555", false);
            double bw = panelW / (double) bins;
            for (int b = 0; b < bins; b++) {
                if (counts[b] == 0) {
                    continue;
                }
                double hgt = (panelH - 6) * (counts[b] / (double) n) / maxShare;
                svg.rect(x0 + b * bw + 1, top + panelH - hgt, bw - 2, hgt, COLORS.get(lane), null);
            }
            svg.text(x0 - 4, top + 10, String.format("%.0f%%", maxShare * 100), "end", 10, "#555", false);
            svg.text(x0 - 4, top + panelH, "0", "end", 10, "#555", false);
            double[] ticks = {1, 10, 60, 600, 3600, 36000, 86400 * 2};
            String[] labels = {"1s", "10s", "1m", "10m", "1h", "10h", "2d"};
            for (int t = 0; t < ticks.length; t++) {
                double f = (Math.log10(ticks[t]) - lo) / (hi - lo);
                if (f < 0 || f > 1) {
                    continue;
                }
                double x = x0 + panelW * f;
                svg.line(x, top + panelH, x, top + panelH + 4, "#555", 1, null);
                svg.text(x, top + panelH + 16, labels[t], "middle", 10, "#555", false);
            }
            if (lane.equals(IncidentScenario.CONFIG)) {
                double f = (Math.log10(seconds(verdict.bound())) - lo) / (hi - lo);
                double x = x0 + panelW * f;
                svg.line(x, top, x, top + panelH, "#d93025", 2, "6,3");
                svg.text(x0 + panelW - 6, top + 14, "red: stated bound " + Verdict.fmt(verdict.bound()), "end", 11, "#d93025",
                        true);
                svg.text(x0 + panelW - 6, top + 28, "for a day's first snapshot", "end", 10, "#d93025", false);
            }
        }
        svg.text(left + (3 * panelW + 2 * gapX) / 2.0, height - 6, "wait from ready in the queue to start on a source permit"
                + " (log scale: seconds to days)", "middle", 12, "#333", false);
        svg.verticalText(14, top + panelH / 2.0, "share of the lane's tasks (%)", 12, "#333");
        return svg.toString();
    }

    private Duration maxWait() {
        Duration m = Duration.ZERO;
        for (String lane : LANES) {
            List<Duration> w = scenario.recorder().waits(lane);
            if (!w.isEmpty() && w.get(w.size() - 1).compareTo(m) > 0) {
                m = w.get(w.size() - 1);
            }
        }
        return m;
    }

    // ------------------------------------------------------------------ chart 3: permits in use

    private String permitsChart() {
        int left = 70;
        int right = 20;
        int top = 22;
        int plotH = 200;
        int height = top + plotH + 46;
        int buckets = 240;
        int permits = scenario.options().permits();
        double plotW = WIDTH - left - right;
        long spanNanos = Duration.between(t0, t1).toNanos();
        double bucketNanos = spanNanos / (double) buckets;
        Map<String, double[]> busy = new LinkedHashMap<>();
        for (String lane : LANES) {
            busy.put(lane, new double[buckets]);
        }
        for (RunRecorder.Completion c : completions) {
            double[] acc = busy.get(c.task().lane());
            if (acc == null) {
                continue;
            }
            long end = Duration.between(t0, c.at()).toNanos();
            long start = end - c.service().toNanos();
            for (int b = (int) Math.max(0, Math.floor(start / bucketNanos)); b < buckets && b * bucketNanos < end; b++) {
                double bs = b * bucketNanos;
                double be = bs + bucketNanos;
                double overlap = Math.min(be, end) - Math.max(bs, start);
                if (overlap > 0) {
                    acc[b] += overlap / bucketNanos;
                }
            }
        }
        Svg svg = new Svg(WIDTH, height, "permits");
        svg.rect(left, top, plotW, plotH, "#fafafa", "#ccc");
        double[] base = new double[buckets];
        for (String lane : LANES) {
            double[] acc = busy.get(lane);
            StringBuilder pts = new StringBuilder();
            for (int b = 0; b < buckets; b++) {
                double x = left + plotW * b / buckets;
                double y = top + plotH - plotH * Math.min(permits, base[b] + acc[b]) / permits;
                pts.append(fmt(x)).append(',').append(fmt(y)).append(' ')
                        .append(fmt(x + plotW / buckets)).append(',').append(fmt(y)).append(' ');
            }
            for (int b = buckets - 1; b >= 0; b--) {
                double x = left + plotW * b / buckets;
                double y = top + plotH - plotH * Math.min(permits, base[b]) / permits;
                pts.append(fmt(x + plotW / buckets)).append(',').append(fmt(y)).append(' ')
                        .append(fmt(x)).append(',').append(fmt(y)).append(' ');
            }
            svg.polygon(pts.toString().trim(), COLORS.get(lane));
            for (int b = 0; b < buckets; b++) {
                base[b] += acc[b];
            }
        }
        svg.line(left, top, left + plotW, top, "#d93025", 1.5, "6,3");
        svg.text(left + plotW, top - 6, "P = " + permits + " (max in use " + verdict.maxPermitsInUse() + ")", "end",
                11, "#d93025", true);
        svg.text(left - 8, top + 10, Integer.toString(permits), "end", 11, "#555", false);
        svg.text(left - 8, top + plotH, "0", "end", 11, "#555", false);
        markers(svg, left, top, plotW, plotH);
        timeAxis(svg, left, top + plotH + 4, plotW);
        svg.verticalText(14, top + plotH / 2.0, "source permits in use", 12, "#333");
        svg.text(left + plotW / 2, height - 2, "simulated time, America/Los_Angeles (day and hour)", "middle", 12, "#333", false);
        return svg.toString();
    }

    // ------------------------------------------------------------------ tables

    private String laneTable() {
        RelaySnapshot s = scenario.snapshot();
        long totalSource = s.lanes().stream().mapToLong(l -> l.sourceTime().toMillis()).sum();
        StringBuilder sb = new StringBuilder("<table><tr><th>lane</th><th>weight</th><th>tasks done</th><th>rows</th>"
                + "<th>p50 wait</th><th>p99 wait</th><th>max wait</th><th>share of source time</th><th>retried</th>"
                + "<th>dead-lettered</th></tr>");
        for (LaneSnapshot l : s.lanes()) {
            List<Duration> w = scenario.recorder().waits(l.name());
            sb.append("<tr><td style=\"color:").append(COLORS.getOrDefault(l.name(), "#222")).append("\"><b>")
                    .append(esc(l.name())).append("</b></td><td>").append(l.weight()).append("</td><td>")
                    .append(String.format("%,d", l.completed())).append("</td><td>").append(String.format("%,d", l.rows()))
                    .append("</td><td>").append(Verdict.fmt(RunRecorder.quantile(w, 0.5))).append("</td><td>")
                    .append(Verdict.fmt(RunRecorder.quantile(w, 0.99))).append("</td><td>")
                    .append(Verdict.fmt(w.isEmpty() ? Duration.ZERO : w.get(w.size() - 1))).append("</td><td>")
                    .append(String.format("%.1f%%", totalSource == 0 ? 0.0 : 100.0 * l.sourceTime().toMillis() / totalSource))
                    .append("</td><td>").append(l.retried()).append("</td><td>").append(l.deadLettered()).append("</td></tr>");
        }
        return sb.append("</table>\n").toString();
    }

    private String configTable() {
        StringBuilder sb = new StringBuilder("<table><tr><th>due</th><th>first started after</th><th>stated bound</th>"
                + "<th>all 6 done after</th><th>deadline</th></tr>");
        for (Verdict.ConfigDay d : verdict.configDays()) {
            sb.append("<tr><td>").append(esc(TIME.format(local(d.due())))).append("</td><td>").append(Verdict.fmt(d.firstWait()))
                    .append("</td><td>").append(Verdict.fmt(verdict.bound())).append("</td><td>").append(Verdict.fmt(d.done()))
                    .append("</td><td>").append(Verdict.fmt(verdict.deadline())).append("</td></tr>");
        }
        return sb.append("</table>\n").toString();
    }

    private String checkTable() {
        Warehouse.Check c = verdict.check();
        return "<table>" + row("rows relayed (raw VDS30SEC)", String.format("%,d", c.rowsRelayed()))
                + row("rows duplicated", Long.toString(c.rowsDuplicated()))
                + row("district windows compared (count and checksum)", String.format("%,d", c.windowsChecked()))
                + row("windows missing or different", Long.toString(c.windowsMissing()))
                + row("config tables matching the source", c.configTablesMatching() + " / " + c.configTables())
                + row("district series whose ledger watermark reached the end of the planned windows",
                        (PemsSource.DISTRICTS.size() - scenario.ledgerBehind().size()) + " / " + PemsSource.DISTRICTS.size())
                + row("tasks dead-lettered", Integer.toString(verdict.deadLettered()))
                + "</table>\n";
    }

    private static String row(String k, String v) {
        return "<tr><td>" + esc(k) + "</td><td>" + esc(v) + "</td></tr>";
    }

    // ------------------------------------------------------------------ helpers

    private double frac(Instant t) {
        double f = Duration.between(t0, t).toNanos() / (double) Duration.between(t0, t1).toNanos();
        return Math.max(0, Math.min(1, f));
    }

    private static ZonedDateTime local(Instant t) {
        return ZonedDateTime.ofInstant(t, IncidentScenario.ZONE);
    }

    private static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String esc(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** A tiny SVG writer. Not threadsafe. */
    private static final class Svg {
        private final StringBuilder sb = new StringBuilder();

        Svg(int width, int height, String id) {
            sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"").append(id).append("\" width=\"").append(width)
                    .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(width).append(' ')
                    .append(height).append("\" font-family=\"system-ui,Helvetica,Arial,sans-serif\">\n");
        }

        void rect(double x, double y, double w, double h, String fill, String stroke) {
            sb.append("<rect x=\"").append(fmt(x)).append("\" y=\"").append(fmt(y)).append("\" width=\"").append(fmt(w))
                    .append("\" height=\"").append(fmt(h)).append("\" fill=\"").append(fill).append('"');
            if (stroke != null) {
                sb.append(" stroke=\"").append(stroke).append('"');
            }
            sb.append("/>\n");
        }

        void line(double x1, double y1, double x2, double y2, String stroke, double width, String dash) {
            sb.append("<line x1=\"").append(fmt(x1)).append("\" y1=\"").append(fmt(y1)).append("\" x2=\"").append(fmt(x2))
                    .append("\" y2=\"").append(fmt(y2)).append("\" stroke=\"").append(stroke).append("\" stroke-width=\"")
                    .append(fmt(width)).append('"');
            if (dash != null) {
                sb.append(" stroke-dasharray=\"").append(dash).append('"');
            }
            sb.append("/>\n");
        }

        void polyline(String points, String stroke, double width) {
            sb.append("<polyline fill=\"none\" stroke=\"").append(stroke).append("\" stroke-width=\"").append(fmt(width))
                    .append("\" points=\"").append(points).append("\"/>\n");
        }

        void polygon(String points, String fill) {
            sb.append("<polygon fill=\"").append(fill).append("\" fill-opacity=\"0.85\" points=\"").append(points)
                    .append("\"/>\n");
        }

        void text(double x, double y, String escaped, String anchor, int size, String color, boolean bold) {
            sb.append("<text x=\"").append(fmt(x)).append("\" y=\"").append(fmt(y)).append("\" text-anchor=\"").append(anchor)
                    .append("\" font-size=\"").append(size).append("\" fill=\"").append(color).append('"');
            if (bold) {
                sb.append(" font-weight=\"600\"");
            }
            sb.append('>').append(escaped).append("</text>\n");
        }

        /** An axis title written bottom to top, centred on (x, y). */
        void verticalText(double x, double y, String escaped, int size, String color) {
            sb.append("<text x=\"").append(fmt(x)).append("\" y=\"").append(fmt(y)).append("\" text-anchor=\"middle\" font-size=\"")
                    .append(size).append("\" fill=\"").append(color).append("\" transform=\"rotate(-90 ").append(fmt(x)).append(' ')
                    .append(fmt(y)).append(")\">").append(escaped).append("</text>\n");
        }

        @Override
        public String toString() {
            return sb + "</svg>\n";
        }
    }
}
