package dev.relay.handoff;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/** One in-process KRaft broker for the JVM's tests (started on first use), and client helpers. */
final class TestKafka {

    private static KafkaClusterTestKit cluster;

    private TestKafka() {
    }

    static synchronized String bootstrapServers() {
        if (cluster == null) {
            try {
                Path base = Path.of("target", "test-kafka").toAbsolutePath();
                if (Files.exists(base)) {
                    try (Stream<Path> paths = Files.walk(base)) {
                        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                            Files.deleteIfExists(p);
                        }
                    }
                }
                Files.createDirectories(base);
                KafkaClusterTestKit c = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setBaseDirectory(base)
                        .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                        .setConfigProp("group.initial.rebalance.delay.ms", "0")
                        .setConfigProp("group.min.session.timeout.ms", "1000")
                        .setConfigProp("offsets.topic.replication.factor", "1")
                        .setConfigProp("offsets.topic.num.partitions", "2")
                        .setConfigProp("transaction.state.log.replication.factor", "1")
                        .setConfigProp("transaction.state.log.min.isr", "1")
                        .setConfigProp("transaction.state.log.num.partitions", "2")
                        .setConfigProp("auto.create.topics.enable", "false")
                        .build();
                c.format();
                c.startup();
                c.waitForReadyBrokers();
                cluster = c;
            } catch (Exception e) {
                throw new IllegalStateException("could not start the in-process Kafka broker", e);
            }
        }
        return cluster.bootstrapServers();
    }

    static String unique(String what) {
        return what + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static Admin admin() {
        return Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /** Reads a whole topic from the beginning to its current end. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, String isolation) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo pi : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                parts.add(new TopicPartition(topic, pi.partition()));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            if ("read_committed".equals(isolation)) {
                // A committed transaction's markers are written after commitTransaction returns: wait (briefly) until the
                // last stable offset reaches the high watermark, so that a read right after a commit sees that commit.
                p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
                try (KafkaConsumer<byte[], byte[]> hw = new KafkaConsumer<>(p)) {
                    Map<TopicPartition, Long> high = hw.endOffsets(parts, Duration.ofSeconds(30));
                    long settle = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    while (!end.equals(high) && System.nanoTime() < settle) {
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException("interrupted while waiting for " + topic + " to settle", e);
                        }
                        end = c.endOffsets(parts, Duration.ofSeconds(30));
                    }
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                boolean done = true;
                for (TopicPartition tp : parts) {
                    done &= c.position(tp, Duration.ofSeconds(10)) >= end.get(tp);
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
