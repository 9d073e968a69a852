package dev.relay.faults;

import dev.relay.api.LaneSpec;
import dev.relay.api.PermitStatus;
import dev.relay.api.RetryPolicy;
import dev.relay.api.SourcePermits;
import dev.relay.api.Task;
import dev.relay.core.LaneSnapshot;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.core.RelaySnapshot;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.JdbcPuller;
import dev.relay.jdbc.SourceQuery;
import dev.relay.jdbc.WindowSink;
import dev.relay.jdbc.permits.JdbcSourcePermits;
import dev.relay.kafka.KafkaTaskQueue;
import dev.relay.kafka.KafkaTopics;
import dev.relay.kafka.permits.KafkaSourcePermits;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * One relay process of the cluster-wide permits test: a Kafka task queue (the lanes' partitions shared by the group),
 * a JDBC puller on the PostgreSQL source whose sessions carry {@code application_name = permits-src-<instance>}, window
 * sinks on PostgreSQL, and cluster-wide source permits from Kafka or from lease rows.
 *
 * <p>Arguments: the run's properties file, the instance name, the status file, the stop file, the suite's pid. Every
 * 100 ms it writes its figures to the status file (atomically); when the stop file appears it shuts down gracefully;
 * when the suite's JVM is gone it halts.
 */
public final class PermitsChild {

    static final Map<String, Integer> LANES = Map.of("realtime", 4, "backfill", 2, "config", 1);

    private PermitsChild() {
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
        int permits = Integer.parseInt(p.getProperty("permits"));
        Duration lease = Duration.ofMillis(Long.parseLong(p.getProperty("lease.ms")));
        Duration renew = Duration.ofMillis(Long.parseLong(p.getProperty("renew.ms")));
        Duration margin = Duration.ofMillis(Long.parseLong(p.getProperty("margin.ms")));

        // one data source per lane, so that the source's pg_stat_activity tells whose query runs
        // (application_name permits-src-<instance>-<lane>)
        Map<String, JdbcPuller> pullers = new java.util.HashMap<>();
        for (String lane : LANES.keySet()) {
            PGSimpleDataSource source = RelayChild.pg(p, p.getProperty("src.schema"), "permits-src-" + instance + "-" + lane);
            // a killed holder's query stops at once instead of running to its end (PostgreSQL 14+)
            source.setOptions("-c client_connection_check_interval=100");
            pullers.put(lane, JdbcPuller.builder(source, Dialect.POSTGRESQL)
                    .query(SourceQuery.window("src", "SELECT sample_time, id, v FROM src_${lane} WHERE sample_time >= :start"
                            + " AND sample_time < :end AND 0 < (SELECT count(*) FROM pg_sleep(" + p.getProperty("query.seconds") + "))")
                            .identifier("lane", "realtime|backfill|config").build())
                    .fetchSize(100).chunkSize(100).queryTimeout(Duration.ofSeconds(30)).build());
        }
        dev.relay.api.Puller puller = task -> pullers.get(task.lane()).open(task);
        DataSource sink = RelayChild.pool(RelayChild.pg(p, p.getProperty("sink.schema"), "permits-sink-" + instance), permits + 2);

        SourcePermits sourcePermits;
        if ("jdbc".equals(p.getProperty("store"))) {
            DataSource coordination = RelayChild.pool(RelayChild.pg(p, p.getProperty("sink.schema"), "permits-lease-" + instance), 2);
            sourcePermits = JdbcSourcePermits.builder(coordination, Dialect.POSTGRESQL).table(p.getProperty("permits.table"))
                    .permits(permits).lease(lease).renewInterval(renew).margin(margin)
                    .revocationGrace(Duration.ofSeconds(2)).memberId(instance + "-" + ProcessHandle.current().pid()).build();
        } else {
            sourcePermits = KafkaSourcePermits.builder().bootstrapServers(p.getProperty("bootstrap"))
                    .groupId(p.getProperty("permits.group")).topic(p.getProperty("permits.topic")).permits(permits)
                    .createTopic(true, 1).lease(lease).renewInterval(renew).margin(margin)
                    .revocationGrace(Duration.ofSeconds(2)).cancelTimeout(Duration.ofSeconds(2)).clientId(instance).build();
        }

        KafkaTaskQueue queue = KafkaTaskQueue.builder()
                .bootstrapServers(p.getProperty("bootstrap"))
                .groupId(p.getProperty("group"))
                .clientId(instance)
                .topics(topics(p.getProperty("prefix")))
                .createTopics(false)
                .prefetchPerLane(16)
                .commitInterval(Duration.ofMillis(200))
                .revocationTimeout(Duration.ofSeconds(2))
                .clientProperty("session.timeout.ms", "3000")
                .clientProperty("heartbeat.interval.ms", "300")
                .build();

        Map<String, AtomicLong> serviceMicros = new ConcurrentHashMap<>();
        Relay.Builder relay = Relay.builder().queue(queue).puller(puller).sourcePermits(sourcePermits)
                .quantum(Duration.ofMillis(50)).idlePollInterval(Duration.ofMillis(50)).shutdownTimeout(Duration.ofSeconds(5))
                .listener(new RelayListener() {
                    @Override
                    public void completed(Task task, Instant at, Duration service, long rows) {
                        serviceMicros.computeIfAbsent(task.lane(), k -> new AtomicLong()).addAndGet(service.toNanos() / 1_000);
                    }
                });
        RetryPolicy retry = RetryPolicy.builder().maxAttempts(50).initialDelay(Duration.ofMillis(100))
                .maxDelay(Duration.ofMillis(500)).build();
        for (Map.Entry<String, Integer> lane : LANES.entrySet()) {
            relay.lane(LaneSpec.builder(lane.getKey()).weight(lane.getValue()).retryPolicy(retry).build(),
                    WindowSink.builder(sink, Dialect.POSTGRESQL).table("dst_${lane}").identifier("lane", "realtime|backfill|config")
                            .timeColumn("sample_time").batchSize(500).build());
        }
        queue.subscribe(LANES.keySet());
        Relay engine = relay.build().start();

        while (!Files.exists(stop)) {
            if (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false) == Boolean.FALSE) {
                Runtime.getRuntime().halt(3);
            }
            writeStatus(status, instance, engine.snapshot(), sourcePermits.status(), engine.permitCancellations(), serviceMicros, false);
            Thread.sleep(100);
        }
        engine.shutdown(Duration.ofSeconds(10));
        sourcePermits.close();
        queue.close();
        writeStatus(status, instance, engine.snapshot(), sourcePermits.status(), engine.permitCancellations(), serviceMicros, true);
        System.exit(0);
    }

    static KafkaTopics topics(String prefix) {
        return KafkaTopics.builder().prefix(prefix).partitions(3).replicationFactor(1).build();
    }

    static Set<String> lanes() {
        return LANES.keySet();
    }

    private static void writeStatus(Path status, String instance, RelaySnapshot s, PermitStatus permits, long cancellations,
            Map<String, AtomicLong> serviceMicros, boolean stopped) throws java.io.IOException {
        Properties out = new Properties();
        out.setProperty("instance", instance);
        out.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
        out.setProperty("stopped", Boolean.toString(stopped));
        out.setProperty("permits.held", Integer.toString(permits.held()));
        out.setProperty("permits.fenced", Integer.toString(permits.fenced()));
        out.setProperty("permits.grants", Long.toString(permits.grants()));
        out.setProperty("permits.revocations", Long.toString(permits.revocations()));
        out.setProperty("permits.losses", Long.toString(permits.losses()));
        out.setProperty("permits.failedRenewals", Long.toString(permits.failedRenewals()));
        out.setProperty("permits.forcedReleases", Long.toString(permits.forcedReleases()));
        out.setProperty("permits.cancellations", Long.toString(cancellations));
        out.setProperty("permitLimit", Integer.toString(s.permitLimit()));
        out.setProperty("permitsInUse", Integer.toString(s.permitsInUse()));
        out.setProperty("maxPermitsInUse", Integer.toString(s.maxPermitsInUse()));
        for (LaneSnapshot lane : s.lanes()) {
            out.setProperty("completed." + lane.name(), Long.toString(lane.completed()));
            out.setProperty("deadLettered." + lane.name(), Long.toString(lane.deadLettered()));
            out.setProperty("retried." + lane.name(), Long.toString(lane.retried()));
            out.setProperty("backlog." + lane.name(), Long.toString(lane.backlog()));
            out.setProperty("buffered." + lane.name(), Long.toString(lane.buffered()));
            out.setProperty("inFlight." + lane.name(), Long.toString(lane.inFlight()));
            out.setProperty("leasesLost." + lane.name(), Long.toString(lane.leasesLost()));
        }
        serviceMicros.forEach((lane, micros) -> out.setProperty("serviceMicros." + lane, Long.toString(micros.get())));
        Path tmp = status.resolveSibling(status.getFileName() + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp)) {
            out.store(w, null);
        }
        Files.move(tmp, status, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
