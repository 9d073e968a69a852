package dev.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.kafka.KafkaTopics;
import dev.relay.kafka.TaskRecordCodec;
import dev.relay.kafka.TestBroker;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/** {@code lanes} and {@code migrate} against a real broker (relay-kafka's in-process KRaft broker). */
class KafkaCommandsTest {

    private static final LocalDateTime T0 = LocalDateTime.of(2024, 3, 14, 0, 0);

    static Task task(String lane, String source, int i) {
        return Task.builder(lane, source).scope(Window.starting(T0.plusMinutes(10L * i), Duration.ofMinutes(10)))
                .parameter("district", "D7").build();
    }

    static ProducerRecord<byte[], byte[]> record(String topic, int partition, Task task) {
        return new ProducerRecord<>(topic, partition, null, TaskRecordCodec.encode(task));
    }

    @Test
    void lanes_layoutWithCommittedOffsets_showsRecordsLagAndDeadLetters() throws Exception {
        String servers = TestBroker.bootstrapServers();
        String prefix = TestBroker.unique("lanes") + ".";
        String group = TestBroker.unique("relay");
        KafkaTopics topics = KafkaTopics.builder().prefix(prefix).partitions(2).replicationFactor(1).build();
        try (Admin admin = TestBroker.admin()) {
            topics.create(admin, List.of("realtime", "backfill"), Duration.ofSeconds(60));
        }
        List<ProducerRecord<byte[], byte[]>> setup = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            setup.add(record(topics.laneTopic("realtime"), i < 6 ? 0 : 1, task("realtime", "vds30sec", i)));
        }
        for (int i = 0; i < 4; i++) {
            setup.add(record(topics.laneTopic("backfill"), 0, task("backfill", "vds30sec", 100 + i)));
        }
        for (int i = 0; i < 2; i++) {
            setup.add(record(topics.deadLetterTopic("backfill"), 0, task("backfill", "vds30sec", 200 + i)));
        }
        TestBroker.sendAll(setup);
        // the relay's group has done all of realtime's partition 0 and one record of partition 1
        commit(servers, group, Map.of(new TopicPartition(topics.laneTopic("realtime"), 0), 6L,
                new TopicPartition(topics.laneTopic("realtime"), 1), 1L));

        Cli cli = Cli.run("lanes", "--bootstrap-servers", servers, "--prefix", prefix, "--group", group);
        assertEquals(RelayCli.OK, cli.status(), cli.toString());
        List<String> lines = cli.out().lines().toList();
        assertEquals(3, lines.size(), cli.toString());
        assertTrue(lines.get(0).startsWith("lane "), lines.get(0));
        assertEquals(List.of("backfill", prefix + "backfill", "2", "4", "4", "0", "2"), cells(lines.get(1)), cli.toString());
        assertEquals(List.of("realtime", prefix + "realtime", "2", "10", "3", "0", "0"), cells(lines.get(2)), cli.toString());

        Cli noGroup = Cli.run("lanes", "--bootstrap-servers", servers, "--prefix", prefix);
        assertEquals(RelayCli.OK, noGroup.status(), noGroup.toString());
        assertEquals(List.of("realtime", prefix + "realtime", "2", "10", "-", "-", "0"), cells(noGroup.out().lines().toList().get(2)));

        Cli none = Cli.run("lanes", "--bootstrap-servers", servers, "--prefix", TestBroker.unique("nothing") + ".");
        assertEquals(RelayCli.OK, none.status(), none.toString());
        assertTrue(none.out().startsWith("no lanes: "), none.toString());
    }

    @Test
    void migrate_legacyTopic_routesEachTaskOnceAndRejectsWhatDoesNotDecode() {
        String legacy = TestBroker.unique("legacy");
        String prefix = TestBroker.unique("migrated") + ".";
        try (Admin admin = TestBroker.admin()) {
            admin.createTopics(List.of(new NewTopic(legacy, 1, (short) 1))).all().get();
        } catch (Exception e) {
            throw new IllegalStateException("could not create " + legacy, e);
        }
        List<ProducerRecord<byte[], byte[]>> setup = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            setup.add(record(legacy, 0, task("queue", "vds30sec", i)));
        }
        for (int i = 0; i < 2; i++) {
            setup.add(record(legacy, 0, task("queue", "config", i)));
        }
        setup.add(new ProducerRecord<>(legacy, 0, null, new byte[] {1, 2, 3}));
        setup.add(record(legacy, 0, task("queue", "unknown", 9)));
        TestBroker.sendAll(setup);

        String[] args = {"migrate", "--bootstrap-servers", TestBroker.bootstrapServers(), "--source-topic", legacy,
            "--prefix", prefix, "--route", "vds30sec=backfill", "--route", "config=config", "--create-topics",
            "--partitions", "1", "--replication-factor", "1"};
        Cli cli = Cli.run(args);
        assertEquals(RelayCli.OK, cli.status(), cli.toString());
        assertTrue(cli.out().startsWith("migrated 5 tasks from " + legacy + " into lane topics, rejected 2"), cli.toString());
        assertEquals(3, TestBroker.readAll(prefix + "backfill").size());
        assertEquals(2, TestBroker.readAll(prefix + "config").size());
        assertEquals(2, TestBroker.readAll(legacy + ".rejected").size());
        Set<String> sources = TestBroker.readAll(prefix + "backfill").stream()
                .map(r -> TaskRecordCodec.decode(r.value())).map(t -> t.source() + "/" + t.lane()).collect(Collectors.toSet());
        assertEquals(Set.of("vds30sec/backfill"), sources);

        Cli again = Cli.run(args);
        assertEquals(RelayCli.OK, again.status(), again.toString());
        assertTrue(again.out().startsWith("migrated 0 tasks"), "a rerun moves nothing twice: " + again);
        assertEquals(3, TestBroker.readAll(prefix + "backfill").size());
    }

    private static List<String> cells(String line) {
        return List.of(line.trim().split(" +")).stream().map(c -> c.replace(",", "")).toList();
    }

    private static void commit(String servers, String group, Map<TopicPartition, Long> offsets) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.assign(offsets.keySet());
            c.commitSync(offsets.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                    e -> new OffsetAndMetadata(e.getValue()))), Duration.ofSeconds(60));
        }
    }
}
