package dev.relay.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo end to end on a small scenario (one day of outage, one station per district): it passes its verdict,
 * checked against the databases, and writes a self-contained report holding the three charts. The report is
 * rendered in headless Chromium when one is installed (skipped otherwise).
 */
class IncidentDemoTest {

    @TempDir
    static Path dir;

    static int status;
    static String out;
    static String err;
    static Path report;

    @BeforeAll
    static void runDemo() {
        report = dir.resolve("report.html");
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        status = IncidentDemo.run(new String[] {"--days", "1", "--stations", "1", "--config-scale", "5000", "--speed", "0",
            "--report", report.toString()}, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8), false);
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        System.err.println(err);
    }

    @Test
    void run_smallScenario_passesItsVerdict() {
        assertEquals(IncidentDemo.OK, status, out + err);
        String verdict = out.lines().filter(l -> l.startsWith("PASS") || l.startsWith("FAIL")).findFirst().orElseThrow();
        assertTrue(verdict.startsWith("PASS: config first wait "), verdict);
        assertTrue(verdict.contains("rows duplicated 0, windows missing 0"), verdict);
        assertTrue(verdict.contains("permits used 1/1"), verdict);
        Matcher rows = Pattern.compile("rows relayed ([0-9,]+)").matcher(verdict);
        assertTrue(rows.find(), verdict);
        long relayed = Long.parseLong(rows.group(1).replace(",", ""));
        assertTrue(relayed >= 9 * 2880, "at least the outage day of 9 districts: " + relayed);
        assertTrue(out.contains("report: " + report.toAbsolutePath()), out);
        assertTrue(out.contains("the old relay (one FIFO queue, same tasks and source times) would have started the 19:00"
                + " config snapshots after "), out);
    }

    @Test
    void run_boundBroken_failsWithExit1() throws Exception {
        Path failing = dir.resolve("failing.html");
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        // the day's six config snapshots take about two minutes of source time: a one-minute deadline breaks
        int code = IncidentDemo.run(new String[] {"--days", "1", "--stations", "1", "--config-scale", "10000", "--speed", "0",
            "--plain", "--config-deadline", "1", "--report", failing.toString()}, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
        String text = o.toString(StandardCharsets.UTF_8);
        assertEquals(IncidentDemo.FAILED, code, text);
        String verdict = text.lines().filter(l -> l.startsWith("FAIL")).findFirst().orElseThrow(() -> new AssertionError(text));
        assertTrue(verdict.contains("> deadline 1m00s"), verdict);
        assertTrue(verdict.contains("rows duplicated 0, windows missing 0"), verdict);
        assertTrue(Files.readString(failing).contains("class=\"verdict fail\""));
    }

    @Test
    void run_notATerminal_printsPlainPeriodicLines() {
        assertFalse(out.contains("\033["), "no ANSI escapes when the output is not a terminal");
        List<String> lines = out.lines().filter(l -> l.startsWith("[+")).toList();
        assertTrue(lines.size() >= 5, out);
        assertTrue(lines.get(1).contains("backfill: backlog "), lines.get(1));
        assertTrue(lines.get(1).contains("p99 "), lines.get(1));
        assertTrue(lines.get(lines.size() - 1).endsWith("backfill 100%"), lines.get(lines.size() - 1));
    }

    @Test
    void run_firstLines_titleAndWhatIsBeingPreparedBeforeAnyFrame() {
        List<String> lines = out.lines().toList();
        assertTrue(lines.get(0).startsWith("relay demo: PeMS relay host down 1 day"), lines.get(0));
        assertTrue(lines.get(1).startsWith("generating the PeMS-shaped source"), lines.get(1));
        assertTrue(lines.get(2).startsWith("[+"), "the first frame comes after: " + lines.get(2));
        assertTrue(out.contains("replaying the same tasks the old relay's way"), out);
    }

    @Test
    void report_isSelfContained_withTheFourChartsAndTheirAxes() throws Exception {
        String html = Files.readString(report);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        for (String chart : List.of("contrast", "completions", "waits", "permits")) {
            assertTrue(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"" + chart + "\""), chart);
        }
        assertEquals(4, count(html, "<svg "));
        for (String axis : List.of("time since the snapshots were due at 19:00 (hours, simulated)", "config snapshots done (of 6)",
                "tasks done since the restart (count, per lane)", "simulated time, America/Los_Angeles (day and hour)",
                "share of the lane&#39;s tasks (%)", "(log scale: seconds to days)", "source permits in use")) {
            assertTrue(html.contains(axis.replace("&#39;", "'")), "axis title: " + axis);
        }
        assertTrue(count(html, "transform=\"rotate(-90") >= 4, "a y-axis title on every chart");
        assertTrue(count(html, "<polyline ") >= 5, "a completion curve per lane, and relay and the old relay");
        assertTrue(html.contains(">relay: all done after "), "relay's line is labelled");
        assertTrue(html.contains(">old relay: all done after ") || html.contains(">old relay: not done within the run"),
                "the old relay's line is labelled");
        assertTrue(count(html, "<polygon ") >= 3, "a permits area per lane");
        assertTrue(count(html, "<rect ") > 20, "histogram bars");
        assertTrue(html.contains("class=\"verdict pass\""));
        assertTrue(html.contains("the old relay: one FIFO queue"), "the comparison with the old design");
        assertFalse(html.contains("<script"), "no script");
        assertFalse(Pattern.compile("(src|href)=\"(https?:)?//").matcher(html).find(), "nothing loaded from the network");
    }

    @Test
    void report_rendersInHeadlessChromium() throws Exception {
        String chromium = chromium();
        Assumptions.assumeTrue(chromium != null, "chromium is not installed; skipping the screenshot");
        Path png = Path.of("target", "report-screenshot.png").toAbsolutePath();
        Files.createDirectories(png.getParent());
        Files.deleteIfExists(png);
        Path profile = Files.createTempDirectory(dir, "chromium");
        List<String> cmd = new ArrayList<>(List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile, "--screenshot=" + png, "--window-size=1400,1800",
                report.toAbsolutePath().toUri().toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile())
                .start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish in 2 minutes");
        assertTrue(Files.exists(png), "no screenshot: " + Files.readString(dir.resolve("chromium.log")));
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1400, img.getWidth());
        // the lanes' colours fill visible areas of the charts
        assertTrue(pixels(img, 0x7f7f7f) > 5_000, "backfill (grey) areas visible");
        assertTrue(pixels(img, 0x1f77b4) > 500, "realtime (blue) curves and bars visible");
        assertTrue(pixels(img, 0xff7f0e) > 500, "config (orange) curves and bars visible");
        System.out.println("screenshot: " + png);
    }

    static String chromium() {
        for (String name : List.of("chromium", "chromium-browser")) {
            for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                File f = new File(d, name);
                if (f.canExecute()) {
                    return f.getPath();
                }
            }
        }
        return null;
    }

    static long pixels(BufferedImage img, int rgb) {
        long n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int c = img.getRGB(x, y) & 0xffffff;
                if (Math.abs(((c >> 16) & 0xff) - ((rgb >> 16) & 0xff)) <= 12 && Math.abs(((c >> 8) & 0xff) - ((rgb >> 8) & 0xff)) <= 12
                        && Math.abs((c & 0xff) - (rgb & 0xff)) <= 12) {
                    n++;
                }
            }
        }
        return n;
    }

    static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
