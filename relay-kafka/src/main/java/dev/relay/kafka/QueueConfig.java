package dev.relay.kafka;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadFactory;

/**
 * The settings of a {@link KafkaTaskQueue} or {@link KafkaShareTaskQueue}, copied out of its builder (settings a
 * backend does not use keep their defaults). Immutable.
 */
record QueueConfig(
        String bootstrapServers,
        Map<String, Object> clientProperties,
        String groupId,
        String clientId,
        KafkaTopics topics,
        boolean createTopics,
        int prefetchPerLane,
        Duration commitInterval,
        Duration revocationTimeout,
        Duration offerTimeout,
        Duration pollInterval,
        Duration lagRefreshInterval,
        Duration adminTimeout,
        Duration probationTimeout,
        Clock clock,
        ThreadFactory threadFactory,
        Map<String, String> groupConfigs,
        int consumersPerLane,
        Duration failureBackoff,
        Duration failureBackoffMax,
        Duration failureLogInterval) {
}
