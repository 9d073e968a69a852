package dev.relay.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * One in-process KRaft broker shared by every test class of the JVM (started on first use, stopped at JVM
 * exit), plus small client helpers. Tests keep apart by distinct topic prefixes and group ids.
 */
final class EmbeddedKafka {

    private static KafkaClusterTestKit cluster;

    private EmbeddedKafka() {
    }

    static synchronized String bootstrapServers() {
        if (cluster == null) {
            long t0 = System.nanoTime();
            try {
                // under target/, emptied at the start of each run: the broker is not shut down at exit (a
                // graceful shutdown on a busy machine can outlast surefire's fork exit timeout)
                Path base = Path.of("target", "embedded-kafka").toAbsolutePath();
                deleteRecursively(base);
                Files.createDirectories(base);
                KafkaClusterTestKit c = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                        .setBaseDirectory(base)
                        .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                        .setConfigProp("group.initial.rebalance.delay.ms", "0")
                        .setConfigProp("group.min.session.timeout.ms", "1000")
                        .setConfigProp("offsets.topic.replication.factor", "1")
                        .setConfigProp("offsets.topic.num.partitions", "4")
                        .setConfigProp("transaction.state.log.replication.factor", "1")
                        .setConfigProp("transaction.state.log.min.isr", "1")
                        .setConfigProp("transaction.state.log.num.partitions", "4")
                        .setConfigProp("auto.create.topics.enable", "false")
                        // share groups (KIP-932): the share-state topic must fit one broker; short locks and
                        // sessions so that a crashed share consumer's records come back within a test
                        .setConfigProp("share.coordinator.state.topic.replication.factor", "1")
                        .setConfigProp("share.coordinator.state.topic.min.isr", "1")
                        .setConfigProp("share.coordinator.state.topic.num.partitions", "4")
                        .setConfigProp("group.share.min.record.lock.duration.ms", "1000")
                        .setConfigProp("group.share.min.session.timeout.ms", "1000")
                        .setConfigProp("group.share.min.heartbeat.interval.ms", "100")
                        .setConfigProp("group.share.max.delivery.count.limit", "25")
                        .build();
                c.format();
                c.startup();
                c.waitForReadyBrokers();
                cluster = c;
            } catch (Exception e) {
                throw new IllegalStateException("could not start the embedded Kafka broker", e);
            }
            System.out.printf("embedded Kafka broker at %s started in %d ms%n", cluster.bootstrapServers(),
                    (System.nanoTime() - t0) / 1_000_000);
        }
        return cluster.bootstrapServers();
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** @return a unique name for a test's topics and groups */
    static String unique(String what) {
        return what + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static Admin admin(String servers) {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers));
    }

    /**
     * A producer for test setups that checks every send: {@link SetupProducer#close()} waits for all
     * acknowledgements and fails, naming how many records were lost and the first cause, if any send failed.
     * A setup that lost records fails as a setup, not later as a wrong count in the test.
     */
    static SetupProducer setupProducer(String servers) {
        return new SetupProducer(producer(servers));
    }

    /** See {@link #setupProducer}. Not threadsafe. */
    static final class SetupProducer implements AutoCloseable {
        private final KafkaProducer<byte[], byte[]> producer;
        private final java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicReference<Exception> first = new java.util.concurrent.atomic.AtomicReference<>();
        private long sent;

        private SetupProducer(KafkaProducer<byte[], byte[]> producer) {
            this.producer = producer;
        }

        void send(org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]> record) {
            sent++;
            producer.send(record, (md, e) -> {
                if (e != null) {
                    failed.incrementAndGet();
                    first.compareAndSet(null, e);
                }
            });
        }

        /** Waits for every acknowledgement; fails if a record was not acknowledged. */
        @Override
        public void close() {
            try {
                producer.flush();
            } finally {
                producer.close(Duration.ofSeconds(30));
            }
            if (failed.get() > 0) {
                throw new IllegalStateException("test setup lost " + failed.get() + " of its " + sent + " records; first"
                        + " failure: " + first.get(), first.get());
            }
        }
    }

    static KafkaProducer<byte[], byte[]> producer(String servers) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    /** Reads a whole topic (read_committed) from the beginning to its current end. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String servers, String topic, Duration timeout) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "20"); // else close() waits ~500 ms for the fetch held at the end
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo pi : c.partitionsFor(topic, timeout)) {
                parts.add(new TopicPartition(topic, pi.partition()));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                boolean done = true;
                for (TopicPartition tp : parts) {
                    if (c.position(tp, timeout) < end.get(tp)) {
                        done = false;
                    }
                }
                if (done) {
                    break;
                }
                c.poll(Duration.ofMillis(100)).forEach(out::add);
            }
        }
        return out;
    }
}
