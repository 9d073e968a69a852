package dev.relay.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Column;
import dev.relay.api.LaneSpec;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.math.BigDecimal;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The demo's two-host wiring ({@link TwoHosts}, what {@code --kafka embedded} starts) on its own, fast: tasks handed
 * off through the puller host's sink cross an embedded broker and are loaded by the uploader host's relay, windows
 * into the window sink and the config lane's snapshots into the snapshot sink, each once, every row intact. The whole
 * demo in two-host mode with PostgreSQL runs in {@link TwoHostDemoTest} (about 2 minutes, behind a flag).
 */
class TwoHostsTest {

    static final RowSchema SCHEMA = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP), new Column("VDS_ID", JDBCType.INTEGER),
            new Column("OCC", JDBCType.DECIMAL), new Column("NOTE", JDBCType.VARCHAR));

    /** A sink that keeps what each task committed, and counts commits per task id. */
    static final class RecordingSink implements Sink {
        final Map<String, List<Row>> committed = new ConcurrentHashMap<>();
        final Map<String, Integer> commits = new ConcurrentHashMap<>();

        @Override
        public SinkSession open(Task task, RowSchema schema) {
            List<Row> rows = new ArrayList<>();
            return new SinkSession() {
                @Override
                public void write(List<Row> batch) {
                    rows.addAll(batch);
                }

                @Override
                public void commit() {
                    committed.put(task.id(), List.copyOf(rows));
                    commits.merge(task.id(), 1, Integer::sum);
                }

                @Override
                public void abort() {
                    rows.clear();
                }

                @Override
                public void close() {
                }
            };
        }
    }

    /** @return the rows' values, decimals without trailing zeros (a decimal's value, not its scale, is what must survive) */
    static List<List<Object>> normalised(List<Row> rows) {
        assertTrue(rows != null, "no rows committed");
        List<List<Object>> out = new ArrayList<>();
        for (Row row : rows) {
            List<Object> values = new ArrayList<>();
            for (int i = 0; i < row.size(); i++) {
                Object v = row.get(i);
                values.add(v instanceof BigDecimal d ? d.stripTrailingZeros() : v);
            }
            out.add(values);
        }
        return out;
    }

    @Test
    void handOff_windowsAndSnapshots_crossTheBroker_loadedOnceIntoTheirSinks() throws Exception {
        List<LaneSpec> lanes = List.of(LaneSpec.builder("backfill").weight(1).build(), LaneSpec.builder("realtime").weight(4).build(),
                LaneSpec.builder("config").weight(2).build());
        RecordingSink windows = new RecordingSink();
        RecordingSink snapshots = new RecordingSink();
        Map<String, List<Row>> sent = new HashMap<>();
        Map<String, String> laneOf = new HashMap<>();
        try (TwoHosts hosts = TwoHosts.start(TwoHosts.EMBEDDED, lanes, windows, snapshots, "config", 2)) {
            int handedOff = 0;
            for (int i = 0; i < 24; i++) {
                String lane = i % 3 == 0 ? "config" : i % 3 == 1 ? "realtime" : "backfill";
                Task task = lane.equals("config")
                        ? Task.builder(lane, "pems_config").scope(Snapshot.of(LocalDate.of(2024, 6, 13).plusDays(i)))
                                .parameter("table", "stations").build()
                        : Task.window(lane, "vds30sec", Window.starting(LocalDateTime.of(2024, 6, 13, 14, 0).plusMinutes(10L * i),
                                Duration.ofMinutes(10)));
                List<Row> rows = new ArrayList<>();
                for (int r = 0; r < 1 + i * 7; r++) {
                    rows.add(Row.of(SCHEMA, LocalDateTime.of(2024, 6, 13, 14, 0).plusSeconds(30L * r), 400_000 + r,
                            r % 5 == 0 ? null : new BigDecimal("0." + (1000 + r)), "row " + r + " of " + task.id()));
                }
                try (SinkSession session = hosts.handoff().open(task, SCHEMA)) {
                    session.write(rows.subList(0, rows.size() / 2));
                    session.write(rows.subList(rows.size() / 2, rows.size()));
                    session.commit();
                }
                sent.put(task.id(), rows);
                laneOf.put(task.id(), lane);
                handedOff++;
            }
            hosts.awaitUploaded(handedOff, Duration.ofMinutes(2));
            assertEquals(handedOff, hosts.uploader().completed(), "tasks the uploader host's relay loaded");
            assertTrue(hosts.summary(handedOff).contains("handed 24 tasks off through Kafka (a broker in this JVM at "),
                    hosts.summary(handedOff));
        }
        for (Map.Entry<String, List<Row>> e : sent.entrySet()) {
            RecordingSink expected = laneOf.get(e.getKey()).equals("config") ? snapshots : windows;
            RecordingSink other = expected == windows ? snapshots : windows;
            assertEquals(normalised(e.getValue()), normalised(expected.committed.get(e.getKey())),
                    "rows of " + e.getKey() + " in lane " + laneOf.get(e.getKey()));
            assertEquals(1, expected.commits.get(e.getKey()), "loads of " + e.getKey());
            assertTrue(!other.committed.containsKey(e.getKey()), e.getKey() + " reached the other lane's sink");
        }
    }
}
