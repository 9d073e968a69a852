package dev.relay.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Column;
import dev.relay.api.LaneSpec;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The README's quick start, compiled and run; and a check that the README shows exactly this code. */
class QuickStartTest {

    static Map<String, List<Row>> quickStart() throws Exception {
        // quick-start:begin
        RowSchema schema = RowSchema.of(new Column("VDS_ID", JDBCType.INTEGER), new Column("VOLUME", JDBCType.INTEGER));
        Map<String, List<Row>> warehouse = new ConcurrentHashMap<>(); // task id -> rows: replace-by-task, idempotent

        InMemoryTaskQueue queue = InMemoryTaskQueue.create();
        Relay relay = Relay.builder()
                .queue(queue)
                .puller(task -> RowCursor.of(schema, List.of(Row.of(schema, 717_001, 12)), 1_000))
                .sink((Task task, RowSchema s) -> new SinkSession() {
                    final List<Row> rows = new ArrayList<>();
                    public void write(List<Row> chunk) { rows.addAll(chunk); }
                    public void commit() { warehouse.put(task.id(), List.copyOf(rows)); }
                    public void abort() { rows.clear(); }
                    public void close() { }
                })
                .sourcePermits(1)                                      // never more than 1 query on the source
                .lane(LaneSpec.builder("realtime").weight(4).build())
                .lane(LaneSpec.builder("config").weight(8).build())
                .lane(LaneSpec.builder("backfill").weight(1).build())  // a backlog here cannot starve the others
                .build()
                .start();

        LocalDateTime tenAm = LocalDateTime.of(2024, 3, 14, 10, 0);
        queue.offer(Task.builder("realtime", "vds30sec")
                .scope(Window.starting(tenAm, Duration.ofMinutes(10)))   // [10:00, 10:10)
                .parameter("district", "7")
                .build());
        while (relay.snapshot().completed() < 1) {
            Thread.sleep(10);
        }
        relay.shutdown(Duration.ofSeconds(30));                         // finishes or releases in-flight work
        // quick-start:end
        return warehouse;
    }

    @Test
    void quickStart_relaysOneWindow() throws Exception {
        Map<String, List<Row>> warehouse = quickStart();
        assertEquals(1, warehouse.size());
        assertEquals(717_001, warehouse.values().iterator().next().get(0).get("VDS_ID"));
    }

    @Test
    void readme_showsTheQuickStartAsCompiled() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/relay/simulation/QuickStartTest.java"));
        String code = between(source, "// quick-start:begin\n", "        // quick-start:end").stripIndent().strip();
        String readme = Files.readString(Path.of("../README.md"));
        assertTrue(normalize(readme).contains(normalize(code)),
                "README.md must contain the quick start exactly as compiled in QuickStartTest:\n" + code);
    }

    private static String between(String s, String a, String b) {
        int i = s.indexOf(a);
        int j = s.indexOf(b, i);
        return s.substring(i + a.length(), j);
    }

    private static String normalize(String s) {
        return s.lines().map(String::strip).filter(l -> !l.isEmpty()).reduce("", (x, y) -> x + "\n" + y);
    }
}
