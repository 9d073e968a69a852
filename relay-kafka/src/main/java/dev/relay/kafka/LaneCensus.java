package dev.relay.kafka;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which lanes the queue's topics hold tasks for, also lanes this consumer does not serve (a task offered to a lane no
 * relay serves would otherwise wait unseen): every five lag refresh intervals (10 s by default) the consumer thread
 * lists the topics
 * under the prefix and, for the lanes it does not serve, compares their lane and retry topics' end offsets with the
 * group's committed offsets. Served lanes report through their buffers.
 *
 * <p>Threadsafe: refreshed by the consumer thread, read from any thread (an immutable map behind a volatile field).
 */
final class LaneCensus {

    private static final Logger LOG = LoggerFactory.getLogger(LaneCensus.class);

    private final Consumer<byte[], byte[]> consumer;
    private final KafkaTopics topics;
    private final Clock clock;
    private final long interval;
    private long last = Long.MIN_VALUE;
    /** Unserved lane → records not consumed by the group; null until the first census. */
    private volatile Map<String, Long> unserved;

    LaneCensus(Consumer<byte[], byte[]> consumer, KafkaTopics topics, Clock clock, Duration lagRefreshInterval) {
        this.interval = lagRefreshInterval.toMillis() * 5;
        this.consumer = consumer;
        this.topics = topics;
        this.clock = clock;
    }

    /** Runs the census if due (consumer thread). */
    void refresh(Set<String> served) {
        long now = clock.millis();
        if (last != Long.MIN_VALUE && now - last < interval) {
            return;
        }
        last = now;
        try {
            Map<String, List<PartitionInfo>> all = consumer.listTopics(Duration.ofSeconds(5));
            Map<String, List<TopicPartition>> partsOf = new HashMap<>();
            for (Map.Entry<String, List<PartitionInfo>> e : all.entrySet()) {
                String lane = topics.laneOf(e.getKey()).orElse(null);
                if (lane == null || served.contains(lane)) {
                    continue;
                }
                for (PartitionInfo pi : e.getValue()) {
                    partsOf.computeIfAbsent(lane, k -> new ArrayList<>()).add(new TopicPartition(pi.topic(), pi.partition()));
                }
            }
            Map<String, Long> out = new HashMap<>();
            if (!partsOf.isEmpty()) {
                List<TopicPartition> parts = new ArrayList<>();
                partsOf.values().forEach(parts::addAll);
                Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(5));
                Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts, Duration.ofSeconds(5));
                Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new java.util.HashSet<>(parts),
                        Duration.ofSeconds(5));
                partsOf.forEach((lane, ps) -> {
                    long n = 0;
                    for (TopicPartition tp : ps) {
                        OffsetAndMetadata om = committed.get(tp);
                        long from = om != null ? om.offset() : begin.getOrDefault(tp, 0L);
                        n += Math.max(0, end.getOrDefault(tp, 0L) - from);
                    }
                    out.put(lane, n);
                });
            }
            unserved = Map.copyOf(out);
        } catch (WakeupException e) {
            last = Long.MIN_VALUE; // woken for something else: again next turn
        } catch (KafkaException e) {
            LOG.debug("lane census failed: {}", e.toString());
        }
    }

    /** @return unserved lane → records waiting for the group (an estimate), or null before the first census */
    Map<String, Long> unserved() {
        return unserved;
    }
}
