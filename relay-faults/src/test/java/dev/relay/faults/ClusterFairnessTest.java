package dev.relay.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Column;
import dev.relay.api.LaneSpec;
import dev.relay.api.PullException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.inmemory.InMemoryTaskQueue;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.permits.JdbcSourcePermits;
import java.sql.Connection;
import java.sql.JDBCType;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How close the cluster-wide shares follow the weights when the permits are spread over processes: three relays (in
 * one JVM, each with its own queue — its "partitions" of the lanes), {@code P} = 4 shared through lease rows on
 * PostgreSQL (so held 2, 1, 1), lanes realtime 4, backfill 2, config 1 always backlogged, every pull taking about
 * 25 ms of source time. The source time each lane got across the cluster is measured by the puller over a window.
 *
 * <p>Two layouts run at once (two independent permit tables): every relay serving every lane — the shares follow the
 * weights — and the config lane served by one relay only, whose cluster-wide share is then
 * {@code Σ_p (h_p / P) · w_i / Σ_{j on p} w_j}, which the test computes from the permits each relay held and compares.
 */
class ClusterFairnessTest {

    private static final int P = 4;
    private static final Map<String, Integer> WEIGHTS = new LinkedHashMap<>();
    private static final RowSchema SCHEMA = RowSchema.of(new Column("ID", JDBCType.VARCHAR));
    private static final Duration WINDOW = Duration.ofSeconds(10);
    private static final String SCHEMA_NAME = "permits_fair_" + ProcessHandle.current().pid();

    static {
        WEIGHTS.put("realtime", 4);
        WEIGHTS.put("backfill", 2);
        WEIGHTS.put("config", 1);
    }

    @BeforeAll
    static void schema() throws SQLException {
        FaultSuite.requirePostgres();
        try (Connection c = FaultSuite.dataSource(null).getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + SCHEMA_NAME + " CASCADE");
            s.execute("CREATE SCHEMA " + SCHEMA_NAME);
        }
    }

    @AfterAll
    static void drop() throws SQLException {
        try (Connection c = FaultSuite.dataSource(null).getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + SCHEMA_NAME + " CASCADE");
        }
    }

    /** Source time per lane, counted only while the window is open; and the most pulls at once. */
    static final class Source {
        final Map<String, AtomicLong> busyNanos = new ConcurrentHashMap<>();
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger maxRunning = new AtomicInteger();
        volatile boolean measuring;

        RowCursor open(Task task) {
            return new RowCursor() {
                private boolean done;
                private volatile boolean cancelled;

                @Override
                public RowSchema schema() {
                    return SCHEMA;
                }

                @Override
                public List<Row> next() {
                    if (done) {
                        return List.of();
                    }
                    done = true;
                    int n = running.incrementAndGet();
                    maxRunning.accumulateAndGet(n, Math::max);
                    long t0 = System.nanoTime();
                    try {
                        Thread.sleep(25);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        running.decrementAndGet();
                    }
                    if (measuring) {
                        busyNanos.computeIfAbsent(task.lane(), k -> new AtomicLong()).addAndGet(System.nanoTime() - t0);
                    }
                    if (cancelled) {
                        throw new PullException("cancelled", null);
                    }
                    return List.of(Row.of(SCHEMA, task.id()));
                }

                @Override
                public void cancel() {
                    cancelled = true;
                }

                @Override
                public void close() {
                }
            };
        }

        Map<String, Double> shares() {
            long total = busyNanos.values().stream().mapToLong(AtomicLong::get).sum();
            Map<String, Double> out = new LinkedHashMap<>();
            for (String lane : WEIGHTS.keySet()) {
                out.put(lane, busyNanos.getOrDefault(lane, new AtomicLong()).get() / (double) Math.max(1, total));
            }
            return out;
        }
    }

    /** Three relays sharing one permit table; {@code lanesOf} says which lanes each serves. */
    static final class Cluster implements AutoCloseable {
        final Source source = new Source();
        final List<Relay> relays = new ArrayList<>();
        final List<JdbcSourcePermits> permits = new ArrayList<>();
        final List<List<String>> lanes;

        Cluster(String table, List<List<String>> lanesOf) {
            this.lanes = lanesOf;
            DataSource db = FaultSuite.dataSource(SCHEMA_NAME);
            Sink sink = (task, schema) -> new SinkSession() {
                @Override
                public void write(List<Row> chunk) {
                }

                @Override
                public void commit() {
                }

                @Override
                public void abort() {
                }

                @Override
                public void close() {
                }
            };
            for (int r = 0; r < lanesOf.size(); r++) {
                JdbcSourcePermits store = JdbcSourcePermits.builder(db, Dialect.POSTGRESQL).table(table).permits(P)
                        .lease(Duration.ofSeconds(5)).renewInterval(Duration.ofMillis(500)).margin(Duration.ofSeconds(1))
                        .memberId(table + "-" + r).build();
                if (r == 0) {
                    store.createTablesIfNotExists();
                }
                permits.add(store);
                InMemoryTaskQueue queue = InMemoryTaskQueue.create();
                Relay.Builder b = Relay.builder().queue(queue).puller(source::open).sink(sink).sourcePermits(store)
                        .quantum(Duration.ofMillis(10)).idlePollInterval(Duration.ofMillis(20));
                for (String lane : lanesOf.get(r)) {
                    b.lane(LaneSpec.builder(lane).weight(WEIGHTS.get(lane)).build());
                    for (int i = 0; i < 700; i++) { // backlogged for the whole run: at most about 500 start in it
                        queue.offer(Task.builder(lane, "src").scope(Window.starting(LocalDateTime.of(2024, 1, 1, 0, 0)
                                .plusMinutes(i), Duration.ofMinutes(1))).parameter("relay", Integer.toString(r)).parameter("lane", lane).build());
                    }
                }
                relays.add(b.build());
            }
        }

        void start() {
            relays.forEach(Relay::start);
        }

        int held() {
            return relays.stream().mapToInt(r -> r.permitStatus().held()).sum();
        }

        /** @return the shares the layout predicts from the permits each relay holds now (fractions of {@code P}) */
        Map<String, Double> predicted() {
            Map<String, Double> out = new LinkedHashMap<>();
            WEIGHTS.keySet().forEach(l -> out.put(l, 0.0));
            for (int r = 0; r < relays.size(); r++) {
                double h = relays.get(r).permitStatus().held() / (double) P;
                int w = lanes.get(r).stream().mapToInt(WEIGHTS::get).sum();
                for (String lane : lanes.get(r)) {
                    out.merge(lane, h * WEIGHTS.get(lane) / w, Double::sum);
                }
            }
            return out;
        }

        @Override
        public void close() throws InterruptedException {
            for (Relay r : relays) {
                r.shutdown(Duration.ofSeconds(2));
            }
        }
    }

    @Test
    void lanesOnEveryProcess_cluster_wideSharesFollowTheWeights() throws Exception {
        List<String> all = List.copyOf(WEIGHTS.keySet());
        try (Cluster even = new Cluster("fair_even", List.of(all, all, all));
             Cluster uneven = new Cluster("fair_uneven", List.of(all, List.of("realtime", "backfill"), List.of("realtime", "backfill")))) {
            even.start();
            uneven.start();
            ClusterPermitsTest.waitFor(() -> even.held() == P && uneven.held() == P, "all permits held in both clusters");
            Thread.sleep(1_000); // estimates settle
            even.source.measuring = true;
            uneven.source.measuring = true;
            // the prediction follows the permits each relay holds, sampled every 50 ms over the window (they may move)
            Map<String, Double> evenPredicted = new LinkedHashMap<>();
            Map<String, Double> unevenPredicted = new LinkedHashMap<>();
            long end = System.nanoTime() + WINDOW.toNanos();
            while (System.nanoTime() < end) {
                even.predicted().forEach((k, v) -> evenPredicted.merge(k, v, Double::sum));
                uneven.predicted().forEach((k, v) -> unevenPredicted.merge(k, v, Double::sum));
                Thread.sleep(50);
            }
            even.source.measuring = false;
            uneven.source.measuring = false;
            for (Map<String, Double> m : List.of(evenPredicted, unevenPredicted)) {
                double sum = m.values().stream().mapToDouble(Double::doubleValue).sum();
                m.replaceAll((k, v) -> v / sum); // shares of the source time actually used
            }
            report("every lane on every process", even, evenPredicted);
            report("config on one process", uneven, unevenPredicted);
            assertTrue(even.source.maxRunning.get() <= P, "at most P pulls at once: " + even.source.maxRunning.get());
            assertTrue(uneven.source.maxRunning.get() <= P, "at most P pulls at once: " + uneven.source.maxRunning.get());
            for (Cluster c : List.of(even, uneven)) {
                Map<String, Double> measured = c.source.shares();
                Map<String, Double> predicted = c == even ? evenPredicted : unevenPredicted;
                for (String lane : WEIGHTS.keySet()) {
                    double error = Math.abs(measured.get(lane) - predicted.get(lane));
                    assertTrue(error < 0.05, lane + ": share " + measured.get(lane) + " against " + predicted.get(lane));
                }
            }
        }
    }

    private static void report(String layout, Cluster c, Map<String, Double> predicted) {
        StringBuilder b = new StringBuilder("[permits fairness] " + layout + ", permits held");
        for (Relay r : c.relays) {
            b.append(' ').append(r.permitStatus().held());
        }
        b.append(", source-time shares over ").append(WINDOW.toSeconds()).append(" s:");
        Map<String, Double> measured = c.source.shares();
        for (String lane : WEIGHTS.keySet()) {
            b.append(String.format(" %s %.3f (predicted %.3f)", lane, measured.get(lane), predicted.get(lane)));
        }
        System.out.println(b);
    }
}
