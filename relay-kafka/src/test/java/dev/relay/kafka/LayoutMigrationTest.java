package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** The legacy single topic moves into lane topics exactly once, also when the migrator dies midway. */
class LayoutMigrationTest {

    private static final String[] DISTRICTS = {"3", "4", "5", "6", "7", "8", "10", "11", "12"};

    /** The old relay's single topic: window tasks of every district, config snapshots, one poison record. */
    private static Map<String, Task> fillLegacyTopic(String servers, String topic, int windows) throws Exception {
        try (Admin admin = EmbeddedKafka.admin(servers)) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            KafkaTopics.awaitReady(admin, List.of(topic), Duration.ofSeconds(30)); // a fresh topic: leaders first
        }
        Map<String, Task> tasks = new HashMap<>();
        try (EmbeddedKafka.SetupProducer p = EmbeddedKafka.setupProducer(servers)) {
            for (int i = 0; i < windows; i++) {
                String d = DISTRICTS[i % DISTRICTS.length];
                Task t = Task.builder("legacy", "D" + d + ".VDS30SEC")
                        .scope(Window.starting(LocalDateTime.of(2024, 3, 1, 0, 0).plusMinutes(10L * (i / DISTRICTS.length)),
                                Duration.ofMinutes(10)))
                        .parameter("district", d).build();
                tasks.put(t.id(), t);
                p.send(new ProducerRecord<>(topic, t.id().getBytes(StandardCharsets.UTF_8), TaskRecordCodec.encode(t)));
            }
            for (String table : List.of("CONTROLLER_CONFIG", "CONTROLLER_CONFIG_LOG", "DETECTOR_CONFIG",
                    "DETECTOR_CONFIG_LOG", "STATION_CONFIG", "STATION_CONFIG_LOG")) {
                Task t = Task.snapshot("legacy", "PEMS." + table, Snapshot.of(LocalDate.of(2024, 3, 1)));
                tasks.put(t.id(), t);
                p.send(new ProducerRecord<>(topic, t.id().getBytes(StandardCharsets.UTF_8), TaskRecordCodec.encode(t)));
            }
            // the old relay put SQL text in messages: such a record cannot be migrated
            p.send(new ProducerRecord<>(topic, null,
                    "SELECT * FROM D7.VDS30SEC WHERE SAMPLE_TIME BETWEEN :a AND :b".getBytes(StandardCharsets.UTF_8)));
        }
        return tasks;
    }

    private static String route(Task t) {
        return t.snapshot().isPresent() ? "config" : (t.parameter("district").orElse("").equals("7") ? "d7" : "realtime");
    }

    @Test
    void migration_interruptedMidwayAndResumed_movesEveryRecordExactlyOnce() throws Exception {
        String servers = EmbeddedKafka.bootstrapServers();
        String legacy = EmbeddedKafka.unique("legacy");
        String prefix = legacy + ".lanes.";
        Map<String, Task> tasks = fillLegacyTopic(servers, legacy, 3000);
        KafkaTopics topics = KafkaTopics.builder().prefix(prefix).partitions(2).replicationFactor(1).build();
        LayoutMigration.Builder builder = LayoutMigration.builder().bootstrapServers(servers).sourceTopic(legacy)
                .topics(topics).router(LayoutMigrationTest::route).createTopics(true).batchSize(400);

        // the migrator dies in the middle of its fourth transaction
        long killAt = 1_350;
        LayoutMigration doomed = builder.afterRecord(n -> {
            if (n == killAt) {
                throw new IllegalStateException("kill -9 after " + n + " records");
            }
        }).build();
        assertThrows(IllegalStateException.class, doomed::run);

        LayoutMigration.Result resumed = builder.afterRecord(n -> { }).build().run();
        LayoutMigration.Result again = builder.build().run();

        Map<String, Integer> seen = new HashMap<>();
        Map<String, String> laneOf = new HashMap<>();
        long wrongLane = 0;
        for (String lane : List.of("config", "d7", "realtime")) {
            for (ConsumerRecord<byte[], byte[]> r : EmbeddedKafka.readAll(servers, topics.laneTopic(lane), Duration.ofSeconds(30))) {
                Task t = TaskRecordCodec.decode(r.value());
                seen.merge(t.id(), 1, Integer::sum);
                laneOf.put(t.id(), lane);
                if (!route(t).equals(lane) || !t.lane().equals(lane)) {
                    wrongLane++;
                }
            }
        }
        List<ConsumerRecord<byte[], byte[]>> rejected = EmbeddedKafka.readAll(servers, legacy + ".rejected", Duration.ofSeconds(30));
        long duplicates = seen.values().stream().filter(c -> c > 1).count();
        long missing = tasks.keySet().stream().filter(id -> !seen.containsKey(id)).count();
        System.out.printf("[migration] legacy records=%d (tasks %d + 1 poison), killed after %d records;"
                + " resumed run moved %d (+%d rejected), third run moved %d; lane topics hold %d distinct tasks,"
                + " duplicates=%d, missing=%d, wrong lane=%d, rejected topic holds %d%n",
                tasks.size() + 1, tasks.size(), killAt, resumed.migrated(), resumed.rejected(), again.migrated(),
                seen.size(), duplicates, missing, wrongLane, rejected.size());
        assertEquals(0, missing, "every legacy task is in a lane topic");
        assertEquals(0, duplicates, "no legacy task is in a lane topic twice");
        assertEquals(tasks.keySet(), seen.keySet());
        assertEquals(0, wrongLane);
        assertEquals(1, rejected.size(), "the SQL-text record is rejected, once");
        assertTrue(new String(rejected.get(0).headers().lastHeader(TaskRecordCodec.HEADER_DLT_REASON).value(),
                StandardCharsets.UTF_8).contains("malformed"));
        assertEquals(0, again.migrated(), "a finished migration has nothing left to move");
        assertTrue(resumed.migrated() < tasks.size(), "the resumed run starts after the committed transactions");
    }
}
