package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Bad configuration fails at build(), naming the value. */
class ConfigurationTest {

    @Test
    void topics_retentionShorterThanLongestOutage_failsAtBuild() {
        KafkaTopics.Builder b = KafkaTopics.builder().retention(Duration.ofMinutes(30)).longestOutage(Duration.ofDays(14));
        IllegalStateException e = assertThrows(IllegalStateException.class, b::build);
        assertTrue(e.getMessage().contains("PT30M") && e.getMessage().contains("PT336H"), e.getMessage());
    }

    @Test
    void topics_badValues_areNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KafkaTopics.builder().partitions(0))
                .getMessage().contains("0"));
        assertThrows(IllegalArgumentException.class, () -> KafkaTopics.builder().prefix("bad prefix"));
        assertThrows(IllegalArgumentException.class, () -> KafkaTopics.builder().replicationFactor(0));
        assertThrows(IllegalArgumentException.class, () -> KafkaTopics.builder().retention(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> KafkaTopics.builder().topicConfig("retention.ms", "1"));
        assertThrows(IllegalStateException.class, () -> KafkaTopics.builder().deadLetterRetention(Duration.ofDays(1)).build());
    }

    @Test
    void topics_layout() {
        KafkaTopics t = KafkaTopics.builder().prefix("pems.").build();
        assertEquals("pems.config", t.laneTopic("config"));
        assertEquals("pems.config.retry", t.retryTopic("config"));
        assertEquals("pems.config.dlt", t.deadLetterTopic("config"));
        assertEquals("config", t.laneOf("pems.config").orElseThrow());
        assertEquals("config", t.laneOf("pems.config.retry").orElseThrow());
        assertTrue(t.isRetryTopic("pems.config.retry"));
        assertTrue(t.laneOf("pems.config.dlt").isEmpty());
        assertTrue(t.laneOf("other.config").isEmpty());
    }

    @Test
    void lane_collidingWithRetryTopicMetrics_isRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KafkaTopics.requireLane("backfill_retry"));
        assertTrue(e.getMessage().contains("backfill_retry"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KafkaTopics.requireLane("Bad"));
    }

    @Test
    void queue_missingRequiredSettings_failAtBuild() {
        assertTrue(assertThrows(IllegalStateException.class, () -> KafkaTaskQueue.builder().groupId("g").build())
                .getMessage().contains("bootstrapServers"));
        assertTrue(assertThrows(IllegalStateException.class,
                () -> KafkaTaskQueue.builder().bootstrapServers("localhost:1").build()).getMessage().contains("groupId"));
    }

    @Test
    void queue_badValues_areNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KafkaTaskQueue.builder().prefetchPerLane(0))
                .getMessage().contains("prefetchPerLane"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> KafkaTaskQueue.builder().commitInterval(Duration.ofSeconds(-1))).getMessage().contains("PT-1S"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> KafkaTaskQueue.builder()
                .bootstrapServers("localhost:1").groupId("g").revocationTimeout(Duration.ofMinutes(10)).build());
        assertTrue(e.getMessage().contains("max.poll.interval.ms"), e.getMessage());
    }

    @Test
    void migration_missingRouter_failsAtBuild() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LayoutMigration.builder()
                .bootstrapServers("localhost:1").sourceTopic("legacy").build());
        assertTrue(e.getMessage().contains("router"), e.getMessage());
    }
}
