package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.QueueException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/** Topic creation and the retention check against a real broker. */
class KafkaTopicsAdminTest {

    @Test
    void create_makesLaneRetryAndDeadLetterTopics_withTheLayoutsSettings() throws Exception {
        String prefix = EmbeddedKafka.unique("layout") + ".";
        KafkaTopics topics = KafkaTopics.builder().prefix(prefix).partitions(3).replicationFactor(1)
                .retention(Duration.ofDays(30)).longestOutage(Duration.ofDays(14)).build();
        try (Admin admin = EmbeddedKafka.admin(EmbeddedKafka.bootstrapServers())) {
            Set<String> created = topics.create(admin, List.of("realtime"), Duration.ofSeconds(30));
            assertEquals(Set.copyOf(topics.topicsOf("realtime")), created);
            assertTrue(topics.create(admin, List.of("realtime"), Duration.ofSeconds(30)).isEmpty(), "idempotent");
            Map<String, TopicDescription> d = admin.describeTopics(topics.topicsOf("realtime")).allTopicNames()
                    .get(30, TimeUnit.SECONDS);
            d.values().forEach(t -> assertEquals(3, t.partitions().size(), t.name()));
            Map<ConfigResource, Config> configs = admin.describeConfigs(List.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, topics.laneTopic("realtime")),
                    new ConfigResource(ConfigResource.Type.TOPIC, topics.deadLetterTopic("realtime"))))
                    .all().get(30, TimeUnit.SECONDS);
            assertEquals(Long.toString(Duration.ofDays(30).toMillis()), configs.get(new ConfigResource(
                    ConfigResource.Type.TOPIC, topics.laneTopic("realtime"))).get("retention.ms").value());
            assertEquals("-1", configs.get(new ConfigResource(ConfigResource.Type.TOPIC,
                    topics.deadLetterTopic("realtime"))).get("retention.ms").value(), "dead letters are kept");
        }
    }

    @Test
    void subscribe_existingTopicWithTooShortRetention_failsNamingIt() throws Exception {
        String prefix = EmbeddedKafka.unique("shortretention") + ".";
        KafkaTopics topics = KafkaTopics.builder().prefix(prefix).partitions(1).replicationFactor(1).build();
        try (Admin admin = EmbeddedKafka.admin(EmbeddedKafka.bootstrapServers())) {
            // what the old relay had: 30 minutes
            admin.createTopics(List.of(new NewTopic(topics.laneTopic("config"), 1, (short) 1)
                    .configs(Map.of("retention.ms", Long.toString(Duration.ofMinutes(30).toMillis())))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        KafkaTaskQueue q = KafkaTaskQueue.builder().bootstrapServers(EmbeddedKafka.bootstrapServers())
                .groupId(prefix + "g").topics(topics).createTopics(true).build();
        try {
            QueueException e = assertThrows(QueueException.class, () -> q.subscribe(Set.of("config")));
            assertTrue(e.getMessage().contains(topics.laneTopic("config")) && e.getMessage().contains("PT30M"),
                    e.getMessage());
            assertFalse(e.retryable());
        } finally {
            q.close();
        }
    }
}
