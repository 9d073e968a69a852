package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.DeadLetter;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/**
 * What the Kafka dead letters add to the contract (which runs with both Kafka queues): records that are no task,
 * deleting the records of replayed and purged entries without reaching other entries, and the standalone builder
 * that operators' tools use without a queue. The dead letters are written here as the queues write them.
 */
class KafkaDeadLettersTest {

    private static final Instant T = Instant.parse("2024-03-14T10:00:00Z");

    private static Task task(String lane, int i, int attempt) {
        return Task.builder(lane, "vds30sec").scope(Window.starting(LocalDateTime.of(2024, 3, 14, 0, 0).plusMinutes(10L * i),
                Duration.ofMinutes(10))).parameter("district", "7").attempt(attempt).build();
    }

    /** A dead letter as the queues write it ({@link OutcomeProducer#deadLetterHeaders}), to partition 0. */
    private static ProducerRecord<byte[], byte[]> deadLetter(KafkaTopics topics, String lane, String key, byte[] value,
            String reason, Instant at) {
        return new ProducerRecord<>(topics.deadLetterTopic(lane), 0, null, key.getBytes(StandardCharsets.UTF_8), value,
                OutcomeProducer.deadLetterHeaders(reason, new TopicPartition(topics.laneTopic(lane), 0), 7,
                        Clock.fixed(at, ZoneOffset.UTC)));
    }

    private static KafkaTopics layout(String prefix) {
        KafkaTopics topics = KafkaTopics.builder().prefix(prefix).partitions(1).replicationFactor(1).build();
        try (Admin admin = EmbeddedKafka.admin(EmbeddedKafka.bootstrapServers())) {
            topics.create(admin, List.of("config", "other"), Duration.ofSeconds(60));
        }
        return topics;
    }

    private static long startOffset(KafkaTopics topics, String lane) throws Exception {
        try (Admin admin = EmbeddedKafka.admin(EmbeddedKafka.bootstrapServers())) {
            TopicPartition tp = new TopicPartition(topics.deadLetterTopic(lane), 0);
            return admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all().get().get(tp).offset();
        }
    }

    @Test
    void standalone_listsTasksAndRecordsThatAreNoTask_replaysOnlyTasks_andDeletesWhatEnded() throws Exception {
        KafkaTopics topics = layout(EmbeddedKafka.unique("dlt") + ".");
        Task poison = task("config", 1, 4);
        Task other = task("config", 2, 1);
        try (EmbeddedKafka.SetupProducer p = EmbeddedKafka.setupProducer(EmbeddedKafka.bootstrapServers())) {
            p.send(deadLetter(topics, "config", poison.id(), TaskRecordCodec.encode(poison), "sink failed: attempt 4", T));
            p.send(deadLetter(topics, "config", "garbage", new byte[] {1, 2, 3}, "malformed task record: bad magic", T.plusSeconds(1)));
            p.send(deadLetter(topics, "config", other.id(), TaskRecordCodec.encode(other), "not retryable", T.plusSeconds(2)));
            p.send(deadLetter(topics, "other", other.id(), TaskRecordCodec.encode(other.withLane("other")), "elsewhere", T));
        }
        KafkaDeadLetters dead = KafkaDeadLetters.builder().bootstrapServers(EmbeddedKafka.bootstrapServers()).topics(topics)
                .timeout(Duration.ofSeconds(30)).build();

        List<DeadLetter> listed = dead.list("config");
        assertEquals(List.of("0@0", "0@1", "0@2"), listed.stream().map(DeadLetter::id).toList(), listed.toString());
        assertEquals(new DeadLetter("0@0", "config", poison, 4, "sink failed: attempt 4", T), listed.get(0));
        DeadLetter garbage = listed.get(1);
        assertNull(garbage.task());
        assertFalse(garbage.replayable());
        assertEquals(0, garbage.attempts());
        assertEquals("malformed task record: bad magic", garbage.reason());
        assertEquals(List.of(), dead.list("nosuchlane"), "a lane without dead-letter topic has no dead letters");

        IllegalArgumentException noTask = assertThrows(IllegalArgumentException.class,
                () -> dead.replay("config", List.of("0@0", "0@1")));
        assertTrue(noTask.getMessage().contains("0@1 (malformed task record: bad magic)"), noTask.getMessage());
        IllegalArgumentException noTopic = assertThrows(IllegalArgumentException.class,
                () -> dead.replay("config", List.of("0@0"), "nosuchlane"));
        assertTrue(noTopic.getMessage().contains("'" + topics.laneTopic("nosuchlane") + "' does not exist"), noTopic.getMessage());
        assertEquals(3, dead.list("config").size(), "nothing was replayed");

        assertEquals(List.of(listed.get(0)), dead.replay("config", List.of("0@0")));
        List<ConsumerRecord<byte[], byte[]>> lane = EmbeddedKafka.readAll(EmbeddedKafka.bootstrapServers(),
                topics.laneTopic("config"), Duration.ofSeconds(30));
        assertEquals(1, lane.size());
        assertEquals(poison.withAttempt(1), TaskRecordCodec.decode(lane.get(0).value()), "fresh attempts, same id");
        assertEquals(poison.id(), new String(lane.get(0).key(), StandardCharsets.UTF_8));
        assertEquals(1, startOffset(topics, "config"), "the replayed entry, first in its partition, is deleted");

        assertEquals(List.of(garbage), dead.purge("config", List.of("0@1")));
        assertEquals(List.of("0@2"), dead.list("config").stream().map(DeadLetter::id).toList());
        assertEquals(2, startOffset(topics, "config"), "records up to the oldest remaining dead letter are deleted");

        try (EmbeddedKafka.SetupProducer p = EmbeddedKafka.setupProducer(EmbeddedKafka.bootstrapServers())) {
            p.send(deadLetter(topics, "config", poison.id(), TaskRecordCodec.encode(poison.withAttempt(2)), "again", T.plusSeconds(9)));
        }
        List<DeadLetter> now = dead.list("config");
        assertEquals(2, now.size(), now.toString());
        assertEquals("again", now.get(1).reason(), "the same task dead-lettered again is a new entry");
        assertEquals(2, dead.purgeAll("config"));
        assertEquals(List.of(), dead.list("config"));
        assertEquals(1, dead.list("other").size(), "other lanes' dead letters are kept");
        assertEquals(1, EmbeddedKafka.readAll(EmbeddedKafka.bootstrapServers(), topics.laneTopic("config"),
                Duration.ofSeconds(30)).size(), "purging replays nothing");
    }

    @Test
    void purge_aMiddleEntry_keepsItsRecordUntilTheOlderOnesEnd_butNeverListsIt() throws Exception {
        KafkaTopics topics = layout(EmbeddedKafka.unique("dltmid") + ".");
        try (EmbeddedKafka.SetupProducer p = EmbeddedKafka.setupProducer(EmbeddedKafka.bootstrapServers())) {
            for (int i = 0; i < 3; i++) {
                Task t = task("config", i, 2);
                p.send(deadLetter(topics, "config", t.id(), TaskRecordCodec.encode(t), "poison " + i, T.plusSeconds(i)));
            }
        }
        KafkaDeadLetters dead = KafkaDeadLetters.builder().bootstrapServers(EmbeddedKafka.bootstrapServers()).topics(topics)
                .build();
        dead.purge("config", List.of("0@1"));
        assertEquals(List.of("0@0", "0@2"), dead.list("config").stream().map(DeadLetter::id).toList());
        assertEquals(0, startOffset(topics, "config"), "an older dead letter holds the partition's start");
        List<ConsumerRecord<byte[], byte[]>> raw = EmbeddedKafka.readAll(EmbeddedKafka.bootstrapServers(),
                topics.deadLetterTopic("config"), Duration.ofSeconds(30));
        ConsumerRecord<byte[], byte[]> marker = raw.get(raw.size() - 1);
        assertNull(marker.value(), "a marker has no value");
        assertEquals("purged", new String(marker.headers().lastHeader(KafkaDeadLetters.HEADER_MARKER).value(), StandardCharsets.UTF_8));
        assertEquals("1", new String(marker.headers().lastHeader(KafkaDeadLetters.HEADER_MARKER_ENTRY).value(), StandardCharsets.UTF_8));
        assertEquals(TimestampType.CREATE_TIME, marker.timestampType());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dead.purge("config", List.of("0@1", "1@0", "x")));
        assertTrue(e.getMessage().contains("[0@1, 1@0, x]"), e.getMessage());
        dead.purge("config", List.of("0@0"));
        assertEquals(2, startOffset(topics, "config"), "now the purged middle entry goes too");
        assertEquals(List.of("0@2"), dead.list("config").stream().map(DeadLetter::id).toList());
    }

    @Test
    void builder_badSettings_failNamingThem() {
        assertThrows(IllegalStateException.class, () -> KafkaDeadLetters.builder().build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KafkaDeadLetters.builder().timeout(Duration.ZERO));
        assertTrue(e.getMessage().contains("PT0S"), e.getMessage());
        KafkaDeadLetters dead = KafkaDeadLetters.builder().bootstrapServers("127.0.0.1:1").build();
        IllegalArgumentException lane = assertThrows(IllegalArgumentException.class, () -> dead.list("bad/lane"));
        assertTrue(lane.getMessage().contains("bad/lane"), lane.getMessage());
        assertThrows(IllegalArgumentException.class, () -> dead.purge("config", List.of()));
    }
}
