package dev.relay.examples;

import dev.relay.api.LaneSpec;
import dev.relay.api.Sink;
import dev.relay.core.Relay;
import dev.relay.core.RelaySnapshot;
import dev.relay.handoff.HandoffSink;
import dev.relay.handoff.HandoffSource;
import dev.relay.handoff.HandoffTopics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * The demo's two-host mode ({@code --kafka}): the puller host's relay (the scenario's, on the simulation's clock,
 * holding the source permits) hands every task's rows to Kafka through a {@link HandoffSink}, and an uploader host's
 * relay — a second {@link Relay} with its own fair scheduler, in real time — takes the committed hand-offs from a
 * {@link HandoffSource} and loads them into the warehouse's window and snapshot sinks through {@value #LOAD_SLOTS}
 * load slots. Kafka is a cluster at {@code HOST:PORT}, or with {@code --kafka embedded} a single broker started in
 * this JVM.
 *
 * <p>Not threadsafe: the demo's thread builds, waits on and closes it; the uploader relay runs on its own threads.
 */
final class TwoHosts implements AutoCloseable {

    /** The uploader relay's permits: the warehouse's load slots. */
    static final int LOAD_SLOTS = 2;
    /** The {@code --kafka} value that starts a broker in this JVM. */
    static final String EMBEDDED = "embedded";

    private final Path brokerDir;
    private final KafkaClusterTestKit broker;
    private final String bootstrap;
    private final HandoffSink handoff;
    private final HandoffSource source;
    private final Relay uploader;

    private TwoHosts(Path brokerDir, KafkaClusterTestKit broker, String bootstrap, HandoffSink handoff, HandoffSource source,
            Relay uploader) {
        this.brokerDir = brokerDir;
        this.broker = broker;
        this.bootstrap = bootstrap;
        this.handoff = handoff;
        this.source = source;
        this.uploader = uploader;
    }

    /**
     * Starts the broker if asked, creates this run's hand-off topics, and starts the uploader relay.
     *
     * @param kafka {@value #EMBEDDED} or {@code HOST:PORT}
     * @param lanes the lanes with their weights, as the puller host has them
     * @param windows the warehouse's window sink (realtime and backfill lanes)
     * @param snapshots the warehouse's snapshot sink (config lane)
     * @param configLane the name of the config lane
     * @param permits the puller host's source permits (its hand-off producers)
     * @return the running two-host set-up
     */
    static TwoHosts start(String kafka, List<LaneSpec> lanes, Sink windows, Sink snapshots, String configLane, int permits)
            throws Exception {
        Path dir = null;
        KafkaClusterTestKit cluster = null;
        String servers = kafka;
        if (EMBEDDED.equals(kafka)) {
            dir = Files.createTempDirectory("relay-demo-kafka");
            cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setBaseDirectory(dir)
                    .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "2")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("transaction.state.log.num.partitions", "2")
                    .build();
            java.io.PrintStream out = System.out;
            System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream())); // the storage tool's chatter
            try {
                cluster.format();
            } finally {
                System.setOut(out);
            }
            cluster.startup();
            cluster.waitForReadyBrokers();
            servers = cluster.bootstrapServers();
        }
        String run = "relay-demo-" + UUID.randomUUID().toString().substring(0, 8);
        HandoffTopics topics = HandoffTopics.builder().prefix(run + ".").partitions(3).build();
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers))) {
            topics.create(admin, lanes.stream().map(LaneSpec::name).toList(), Duration.ofMinutes(1));
        }
        HandoffSink sink = HandoffSink.builder().bootstrapServers(servers).transactionalIdPrefix(run + "-puller").topics(topics)
                .producers(permits).build().start();
        HandoffSource src = HandoffSource.builder().bootstrapServers(servers).groupId(run + "-uploader").topics(topics)
                .prefetchPerLane(64).pollInterval(Duration.ofMillis(20)).build();
        Relay.Builder up = Relay.builder().queue(src.queue()).puller(src.puller()).sourcePermits(LOAD_SLOTS)
                .idlePollInterval(Duration.ofMillis(50));
        for (LaneSpec lane : lanes) {
            up.lane(lane, lane.name().equals(configLane) ? snapshots : windows);
        }
        return new TwoHosts(dir, cluster, servers, sink, src, up.build().start());
    }

    /** @return the puller host's sink: hands each task off through Kafka */
    Sink handoff() {
        return handoff;
    }

    /** @return the uploader relay's figures */
    RelaySnapshot uploader() {
        return uploader.snapshot();
    }

    /**
     * @param handedOff tasks the puller host's relay handed off
     * @return one line on the two hosts, for the demo's output
     */
    String summary(long handedOff) {
        RelaySnapshot s = uploader.snapshot();
        long loaded = s.completed();
        return String.format("two hosts: the puller-side relay handed %,d tasks off through Kafka (%s); the uploader-side"
                + " relay (its own fair scheduler, %d load slots) loaded %,d tasks, %,d rows", handedOff, kafka(), LOAD_SLOTS,
                loaded, s.lanes().stream().mapToLong(l -> l.rows()).sum());
    }

    /** @return where Kafka is, and whether the demo started it */
    String kafka() {
        return broker == null ? bootstrap : "a broker in this JVM at " + bootstrap;
    }

    /**
     * Waits (real time) until the uploader relay has completed as many tasks as the puller host handed off.
     *
     * @param handedOff tasks the puller host's relay completed (handed off)
     * @param timeout how long to wait
     * @throws IllegalStateException if the uploads do not catch up in time
     */
    void awaitUploaded(long handedOff, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            RelaySnapshot s = uploader.snapshot();
            long ended = s.completed() + s.lanes().stream().mapToLong(l -> l.deadLettered() + l.duplicates()).sum();
            if (ended >= handedOff && s.inFlight() == 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the uploader host loaded " + ended + " of " + handedOff + " handed-off tasks"
                        + " within " + timeout + "; " + s);
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            uploader.shutdown(Duration.ofSeconds(30));
        } finally {
            source.close();
            handoff.close();
            if (broker != null) {
                broker.close(); // removes its log directories
                if (Files.exists(brokerDir)) {
                    try (Stream<Path> files = Files.walk(brokerDir)) {
                        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                    }
                }
            }
        }
    }
}
