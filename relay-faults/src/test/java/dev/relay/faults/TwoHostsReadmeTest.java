package dev.relay.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.Puller;
import dev.relay.api.Sink;
import dev.relay.core.Relay;
import dev.relay.handoff.HandoffSink;
import dev.relay.handoff.HandoffSource;
import dev.relay.handoff.HandoffTopics;
import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import dev.relay.kafka.KafkaTaskQueue;
import dev.relay.kafka.KafkaTopics;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

/**
 * The README's "Two hosts" wiring, compiled (each host's code is a method here; {@link TwoHostFaultTest} runs the same
 * wiring against PostgreSQL and a broker process), and a check that the README shows exactly this code.
 */
class TwoHostsReadmeTest {

    static Relay pullerHost(Admin admin, KafkaTopics taskTopics, Puller oracle, JdbcCompletionLedger pullerLedger, String hostName,
            MeterRegistry registry) {
        // two-hosts-puller:begin
        HandoffTopics handoffTopics = HandoffTopics.builder().prefix("pems.").partitions(6).replicationFactor(3)
                .retention(Duration.ofDays(30)).longestOutage(Duration.ofDays(21)).build();
        handoffTopics.create(admin, List.of("realtime", "config", "backfill"), Duration.ofMinutes(1));
        KafkaTaskQueue tasks = KafkaTaskQueue.builder().bootstrapServers("kafka1:9092").groupId("pems-puller")
                .topics(taskTopics).createTopics(true).build();                    // the planners offer here, as in one host
        HandoffSink handoff = HandoffSink.builder().bootstrapServers("kafka1:9092")
                .transactionalIdPrefix("pems-puller-" + hostName)   // stable per process: a restart fences its predecessor
                .topics(handoffTopics).producers(2)                  // at least the source permits
                .meterRegistry(registry).build().start();            // aborts what a crashed predecessor left open
        Relay puller = Relay.builder().queue(tasks).puller(oracle).sink(handoff)   // every lane hands off
                .ledger(pullerLedger)                                // handed off = done, for the planners' watermarks
                .sourcePermits(1)                                    // never more than 1 query on Oracle
                .lane(LaneSpec.builder("realtime").weight(4).build())
                .lane(LaneSpec.builder("config").weight(8).build())
                .lane(LaneSpec.builder("backfill").weight(1).build())
                .meterRegistry(registry).build().start();
        // two-hosts-puller:end
        return puller;
    }

    static Relay uploaderHost(Sink snowflake, Sink configSnapshotSink, JdbcCompletionLedger warehouseLedger, MeterRegistry registry) {
        HandoffTopics handoffTopics = HandoffTopics.builder().prefix("pems.").partitions(6).replicationFactor(3)
                .retention(Duration.ofDays(30)).longestOutage(Duration.ofDays(21)).build();
        // two-hosts-uploader:begin
        HandoffSource handoff = HandoffSource.builder().bootstrapServers("kafka1:9092").groupId("pems-uploader")
                .topics(handoffTopics).meterRegistry(registry).build();       // same topics as the puller host
        Relay uploader = Relay.builder().queue(handoff.queue()).puller(handoff.puller())
                .ledger(warehouseLedger)                             // loaded = done (GapDetector, BackfillManifest)
                .sourcePermits(2)                                    // the warehouse's load slots
                .lane(LaneSpec.builder("realtime").weight(4).build(), snowflake)
                .lane(LaneSpec.builder("config").weight(8).build(), configSnapshotSink)
                .lane(LaneSpec.builder("backfill").weight(1).build(), snowflake)   // cannot delay the config uploads
                .meterRegistry(registry).build().start();
        // two-hosts-uploader:end
        return uploader;
    }

    @Test
    void readme_showsBothHostsAsCompiled() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/relay/faults/TwoHostsReadmeTest.java"));
        String readme = normalize(Files.readString(Path.of("../README.md")));
        for (String host : List.of("puller", "uploader")) {
            String code = between(source, "// two-hosts-" + host + ":begin\n", "        // two-hosts-" + host + ":end")
                    .stripIndent().strip();
            assertTrue(readme.contains(normalize(code)), "README.md must contain the " + host + " host's wiring exactly as"
                    + " compiled in TwoHostsReadmeTest:\n" + code);
        }
    }

    private static String between(String s, String begin, String end) {
        int b = s.indexOf(begin);
        int e = s.indexOf(end, b);
        if (b < 0 || e < 0) {
            throw new AssertionError("markers " + begin.strip() + " / " + end.strip() + " not found");
        }
        return s.substring(b + begin.length(), e);
    }

    private static String normalize(String s) {
        return s.replaceAll("[ \\t]+", " ").replaceAll("\\s*\\n\\s*", "\n");
    }
}
