package dev.relay.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import dev.relay.simulation.RunRecorder;
import org.junit.jupiter.api.Test;

/** The live view on a terminal: a block redrawn in place, per lane figures and the backfill's progress bar. */
class LiveViewTest {

    @Test
    void update_onATerminal_redrawsTheBlockInPlace() throws Exception {
        DemoOptions o = DemoOptions.parse("--days", "1", "--stations", "1", "--config-scale", "10000", "--speed", "0");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (IncidentScenario scenario = new IncidentScenario(o)) {
            LiveView view = new LiveView(ps, true, "title");
            view.update(scenario, true);
            scenario.advance(Duration.ofMinutes(90));
            view.update(scenario, true);
            List<String> frame = view.frame(scenario);
            assertEquals(8, frame.size(), String.join("\n", frame));
            assertTrue(frame.get(2).contains("backlog") && frame.get(2).contains("p99 wait"), frame.get(2));
            assertTrue(frame.get(3).trim().startsWith("backfill"), frame.get(3));
            assertTrue(frame.get(6).matches("  backfill  \\[=+ +\\] +\\d+%  [\\d,]+ / [\\d,]+ windows"), frame.get(6));
            assertTrue(frame.get(7).matches("  rows relayed: [\\d,]+ raw, 0 config   phase running"), frame.get(7));
            // the percentiles are the report's: nearest rank over every recorded wait of the lane
            for (int i = 3; i <= 5; i++) {
                String[] cells = frame.get(i).trim().split(" +");
                List<Duration> waits = scenario.recorder().waits(cells[0]);
                assertEquals(Verdict.fmt(RunRecorder.quantile(waits, 0.5)), cells[4], frame.get(i));
                assertEquals(Verdict.fmt(RunRecorder.quantile(waits, 0.99)), cells[5], frame.get(i));
            }
        }
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("\033[8F"), "the second frame moves up over the first");
        assertTrue(s.contains("\033[2K"), "lines are cleared before they are redrawn");
    }
}
