package dev.relay.faults;

import dev.relay.api.LaneSpec;
import dev.relay.api.RetryPolicy;
import dev.relay.api.SeriesKey;
import dev.relay.core.LaneSnapshot;
import dev.relay.core.Relay;
import dev.relay.core.RelaySnapshot;
import dev.relay.core.plan.PlanningLoop;
import dev.relay.core.plan.RealtimeTicker;
import dev.relay.core.plan.SnapshotSchedule;
import dev.relay.handoff.HandoffSink;
import dev.relay.handoff.HandoffTopics;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.JdbcPuller;
import dev.relay.jdbc.SourceQuery;
import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import dev.relay.kafka.KafkaTaskQueue;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;

/**
 * The puller host of the two-host suite, in a JVM of its own: planner (realtime windows and daily config snapshots on
 * the accelerated clock), Kafka task queue, fair scheduler, JDBC puller on the PostgreSQL source, and the hand-off
 * sink. Its completion ledger (the planners' watermarks) lives in a schema of its own: the puller host never reaches
 * the warehouse. Arguments as {@link RelayChild}'s.
 */
public final class PullerHostChild {

    private PullerHostChild() {
    }

    static HandoffTopics handoffTopics(String prefix) {
        return HandoffTopics.builder().prefix(prefix).partitions(3).build();
    }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[0]))) {
            p.load(r);
        }
        String instance = args[1];
        Path status = Path.of(args[2]);
        Path stop = Path.of(args[3]);
        long parent = Long.parseLong(args[4]);
        List<String> districts = List.of(p.getProperty("districts").split(","));
        LocalDate day0 = LocalDate.parse(p.getProperty("day0"));
        int days = Integer.parseInt(p.getProperty("days"));
        int permits = Integer.parseInt(p.getProperty("permits"));

        DataSource source = RelayChild.pool(RelayChild.pg(p, p.getProperty("src.schema"), "handoff-src-" + instance), permits + 1);
        DataSource state = RelayChild.pool(RelayChild.pg(p, p.getProperty("state.schema"), "handoff-state-" + instance), 3);
        KafkaTaskQueue queue = KafkaTaskQueue.builder()
                .bootstrapServers(p.getProperty("bootstrap")).groupId(p.getProperty("group") + "-puller").clientId(instance)
                .topics(RelayChild.topics(p.getProperty("prefix"))).createTopics(true).prefetchPerLane(64)
                .commitInterval(Duration.ofMillis(200)).offerTimeout(Duration.ofSeconds(10)).revocationTimeout(Duration.ofSeconds(5))
                .clientProperty("session.timeout.ms", "6000").clientProperty("heartbeat.interval.ms", "500")
                .clientProperty("group.instance.id", instance)   // static membership: a restart resumes at once
                .clientProperty("reconnect.backoff.max.ms", "500")
                .build();
        JdbcCompletionLedger ledger = JdbcCompletionLedger.builder(Jdbi.create(state)).table(FaultSuite.LEDGER_TABLE).build();
        JdbcPuller puller = JdbcPuller.builder(source, Dialect.POSTGRESQL)
                .query(SourceQuery.window("vds30sec", "SELECT * FROM VDS30SEC_${district} WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end")
                        .identifier("district", "D[0-9]+").build())
                .query(SourceQuery.snapshot("config", "SELECT * FROM ${table}").identifier("table", "[A-Z_]+").build())
                .fetchSize(500).chunkSize(250).queryTimeout(Duration.ofSeconds(30)).build();
        HandoffSink handoff = HandoffSink.builder().bootstrapServers(p.getProperty("bootstrap"))
                .transactionalIdPrefix(p.getProperty("group") + "-" + instance)   // stable across restarts: fences the killed one
                .topics(handoffTopics(p.getProperty("prefix"))).producers(permits).chunkBytes(64 * 1024)
                .transactionTimeout(Duration.ofSeconds(30)).slotTimeout(Duration.ofSeconds(30))
                .clientProperty("max.block.ms", 20_000).clientProperty("reconnect.backoff.max.ms", 500)
                .clientProperty("delivery.timeout.ms", 20_000).clientProperty("request.timeout.ms", 5_000)
                .build();
        RetryPolicy retry = RetryPolicy.builder().maxAttempts(50).initialDelay(Duration.ofMillis(100)).maxDelay(Duration.ofSeconds(1)).build();
        Relay engine = Relay.builder().queue(queue).puller(puller).sink(handoff).ledger(ledger).sourcePermits(permits)
                .quantum(Duration.ofMillis(20)).idlePollInterval(Duration.ofMillis(50)).shutdownTimeout(Duration.ofSeconds(10))
                .suspendAfterFailures(0)
                .lane(LaneSpec.builder("realtime").weight(4).retryPolicy(retry).build())
                .lane(LaneSpec.builder("backfill").weight(1).retryPolicy(retry).build())
                .lane(LaneSpec.builder("config").weight(8).retryPolicy(retry).build())
                .build();
        queue.subscribe(Set.copyOf(RelayChild.LANES));
        engine.start();

        List<SeriesKey> series = new ArrayList<>();
        for (String d : districts) {
            series.add(SeriesKey.of("vds30sec", "district", d));
        }
        List<SeriesKey> tables = new ArrayList<>();
        for (String t : RelayChild.CONFIG_TABLES) {
            tables.add(SeriesKey.of("config", "table", t));
        }
        Clock simulated = new RelayChild.SimClock(RelayChild.realEpoch(Path.of(args[0]).resolveSibling("epoch")),
                day0.plusDays(days - 1L).atStartOfDay(RelayChild.ZONE).toInstant(), Double.parseDouble(p.getProperty("speed")),
                day0.plusDays(days).atStartOfDay(RelayChild.ZONE).toInstant().plus(RelayChild.LATENESS).plusSeconds(60));
        RealtimeTicker ticker = RealtimeTicker.builder().series(series).windowSize(Duration.ofMinutes(10)).zone(RelayChild.ZONE)
                .seriesStart(day0.atStartOfDay()).lateness(RelayChild.LATENESS).backfillChunk(60)
                .queue(queue).ledger(ledger).clock(simulated).build();
        SnapshotSchedule snapshots = SnapshotSchedule.builder().tables(tables).at(RelayChild.SNAPSHOT_TIME, RelayChild.ZONE)
                .firstDay(day0).replanAfter(Duration.ofHours(12)).queue(queue).ledger(ledger).clock(simulated).build();
        PlanningLoop planning = PlanningLoop.builder().step("config", snapshots::tick).step("realtime", ticker::tick).build();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "planner-" + instance);
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                planning.run();
            } catch (Throwable t) {
                t.printStackTrace();
            }
        }, 0, 100, TimeUnit.MILLISECONDS);

        while (!Files.exists(stop)) {
            if (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false) == Boolean.FALSE) {
                Runtime.getRuntime().halt(3);
            }
            writeStatus(status, instance, engine.snapshot(), false);
            Thread.sleep(100);
        }
        timer.shutdownNow();
        engine.shutdown(Duration.ofSeconds(15));
        queue.close();
        handoff.close();
        writeStatus(status, instance, engine.snapshot(), true);
        System.exit(0);
    }

    static void writeStatus(Path status, String instance, RelaySnapshot s, boolean stopped) throws java.io.IOException {
        Properties out = new Properties();
        out.setProperty("instance", instance);
        out.setProperty("maxPermitsInUse", Integer.toString(s.maxPermitsInUse()));
        out.setProperty("inFlight", Integer.toString(s.inFlight()));
        out.setProperty("stopped", Boolean.toString(stopped));
        for (LaneSnapshot lane : s.lanes()) {
            out.setProperty("completed." + lane.name(), Long.toString(lane.completed()));
            out.setProperty("deadLettered." + lane.name(), Long.toString(lane.deadLettered()));
            out.setProperty("retried." + lane.name(), Long.toString(lane.retried()));
            out.setProperty("rows." + lane.name(), Long.toString(lane.rows()));
            out.setProperty("waitMaxMs." + lane.name(), Long.toString(lane.waitMax().toMillis()));
        }
        Path tmp = status.resolveSibling(status.getFileName() + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp)) {
            out.store(w, null);
        }
        Files.move(tmp, status, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
