package dev.relay.faults;

import dev.relay.api.LaneSpec;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Sink;
import dev.relay.core.Relay;
import dev.relay.handoff.HandoffSource;
import dev.relay.handoff.Manifest;
import dev.relay.handoff.UploadListener;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.SnapshotSink;
import dev.relay.jdbc.WindowSink;
import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Properties;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;

/**
 * The uploader host of the two-host suite, in a JVM of its own: the hand-off source (queue of committed hand-offs and
 * the puller of their chunks), a fair scheduler whose permits are the warehouse's load slots, and the window and
 * snapshot sinks on the PostgreSQL warehouse with its completion ledger. Every load it completes is appended to
 * {@code <instance>.loads} (task id and delivery), so the suite can check that no load came from an aborted
 * transaction. Arguments as {@link RelayChild}'s.
 */
public final class UploaderHostChild {

    private UploaderHostChild() {
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
        int slots = Integer.parseInt(p.getProperty("permits"));
        Path loads = status.resolveSibling(instance + ".loads");

        DataSource warehouse = RelayChild.pool(RelayChild.pg(p, p.getProperty("sink.schema"), "handoff-sink-" + instance), slots + 3);
        DataSource locks = RelayChild.pool(RelayChild.pg(p, null, "handoff-locks-" + instance), slots + 1);
        JdbcCompletionLedger ledger = JdbcCompletionLedger.builder(Jdbi.create(warehouse)).table(FaultSuite.LEDGER_TABLE).build();
        HandoffSource handoff = HandoffSource.builder().bootstrapServers(p.getProperty("bootstrap"))
                .groupId(p.getProperty("group") + "-uploader").topics(PullerHostChild.handoffTopics(p.getProperty("prefix")))
                .prefetchPerLane(32).commitInterval(Duration.ofMillis(200)).readTimeout(Duration.ofSeconds(20))
                .clientProperty("session.timeout.ms", 6000).clientProperty("heartbeat.interval.ms", 500)
                .clientProperty("group.instance.id", instance)   // static membership: a restart resumes at once
                .clientProperty("reconnect.backoff.max.ms", 500).clientProperty("request.timeout.ms", 5_000)
                .listener(new UploadListener() {
                    @Override
                    public void loaded(Manifest m) {
                        try {
                            Files.writeString(loads, m.task().id() + " " + m.delivery() + "\n", StandardCharsets.UTF_8,
                                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }
                })
                .build();
        Sink windows = new WindowLockingSink(WindowSink.builder(warehouse, Dialect.POSTGRESQL).table("VDS30SEC_${district}")
                .identifier("district", "D[0-9]+").timeColumn("SAMPLE_TIME").batchSize(500).build(), locks);
        Sink configs = SnapshotSink.builder(warehouse, Dialect.POSTGRESQL).table("${table}").identifier("table", "[A-Z_]+")
                .minimumRows(1).build();
        RetryPolicy retry = RetryPolicy.builder().maxAttempts(50).initialDelay(Duration.ofMillis(100)).maxDelay(Duration.ofSeconds(1)).build();
        Relay engine = Relay.builder().queue(handoff.queue()).puller(handoff.puller()).ledger(ledger)
                .sourcePermits(slots)                                 // the warehouse's load slots
                .quantum(Duration.ofMillis(20)).idlePollInterval(Duration.ofMillis(50)).shutdownTimeout(Duration.ofSeconds(10))
                .suspendAfterFailures(0)
                .lane(LaneSpec.builder("realtime").weight(4).retryPolicy(retry).build(), windows)
                .lane(LaneSpec.builder("backfill").weight(1).retryPolicy(retry).build(), windows)
                .lane(LaneSpec.builder("config").weight(8).retryPolicy(retry).build(), configs)
                .build().start();
        while (!Files.exists(stop)) {
            if (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false) == Boolean.FALSE) {
                Runtime.getRuntime().halt(3);
            }
            PullerHostChild.writeStatus(status, instance, engine.snapshot(), false);
            Thread.sleep(100);
        }
        engine.shutdown(Duration.ofSeconds(15));
        handoff.close();
        PullerHostChild.writeStatus(status, instance, engine.snapshot(), true);
        System.exit(0);
    }
}
