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

    @Test
    void build_makesExactlyOneThread_withTheInjectedFactory() {
        java.util.List<Thread> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        KafkaTaskQueue q = KafkaTaskQueue.builder().bootstrapServers("localhost:1").groupId("threads")
                .revocationTimeout(Duration.ofSeconds(1)).offerTimeout(Duration.ofSeconds(1))
                .threadFactory(r -> {
                    Thread t = new Thread(r, "injected-consumer-thread");
                    t.setDaemon(true);
                    made.add(t);
                    return t;
                }).build();
        try {
            assertEquals(1, made.size(), "one consumer thread, from the injected factory");
            assertTrue(made.get(0).isAlive());
            assertEquals(-1, q.backlog("nowhere"), "a lane not subscribed has no known backlog");
            assertTrue(q.poll("nowhere", 5).isEmpty());
        } finally {
            q.close();
        }
        assertTrue(!made.get(0).isAlive(), "close ends the consumer thread");
        assertThrows(dev.relay.api.QueueException.class, () -> q.offer(TestSink.task("realtime", 1)));
    }

    @Test
    void queue_badProbationTimeout_isNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KafkaTaskQueue.builder().probationTimeout(Duration.ZERO))
                .getMessage().contains("probationTimeout"));
    }

    @Test
    void shareQueue_badValues_areNamed_andTheQueuesGroupConfigsAreReserved() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KafkaShareTaskQueue.builder().consumersPerLane(0))
                .getMessage().contains("consumersPerLane"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KafkaShareTaskQueue.builder().prefetchPerLane(0))
                .getMessage().contains("prefetchPerLane"));
        IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
                () -> KafkaShareTaskQueue.builder().groupConfig("share.auto.offset.reset", "latest"));
        assertTrue(reserved.getMessage().contains("share.auto.offset.reset"), reserved.getMessage());
        IllegalArgumentException foreign = assertThrows(IllegalArgumentException.class,
                () -> KafkaShareTaskQueue.builder().groupConfig("session.timeout.ms", "1000"));
        assertTrue(foreign.getMessage().contains("session.timeout.ms"), foreign.getMessage());
        assertTrue(assertThrows(IllegalStateException.class, () -> KafkaShareTaskQueue.builder().groupId("g").build())
                .getMessage().contains("bootstrapServers"));
        assertTrue(assertThrows(IllegalStateException.class,
                () -> KafkaShareTaskQueue.builder().bootstrapServers("localhost:1").build()).getMessage().contains("groupId"));
    }

    @Test
    void shareQueue_startsNoThreadBeforeALaneIsSubscribed() {
        java.util.List<Thread> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        KafkaShareTaskQueue q = KafkaShareTaskQueue.builder().bootstrapServers("localhost:1").groupId("threads")
                .offerTimeout(Duration.ofSeconds(1)).threadFactory(r -> {
                    Thread t = new Thread(r, "injected-share-thread");
                    t.setDaemon(true);
                    made.add(t);
                    return t;
                }).build();
        try {
            assertEquals(0, made.size());
            assertEquals(-1, q.backlog("nowhere"));
            assertTrue(q.poll("nowhere", 5).isEmpty());
            assertEquals("threads.x", q.shareGroup("x"), "one share group per lane");
        } finally {
            q.close();
        }
        assertThrows(dev.relay.api.QueueException.class, () -> q.offer(TestSink.task("realtime", 1)));
    }
}
