package dev.relay.kafka;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lag of each lane on this consumer's partitions: records not yet fetched. The consumer knows the lag of a
 * partition it fetches from ({@code currentLag}); for a paused partition the meter asks the end offsets every
 * {@code lagRefreshInterval}. Not threadsafe: owned by the consumer thread.
 */
final class LagMeter {

    private static final Logger LOG = LoggerFactory.getLogger(LagMeter.class);

    private final Consumer<byte[], byte[]> consumer;
    private final Partitions partitions;
    private final Clock clock;
    private final Duration refreshInterval;
    private final Map<TopicPartition, Long> endOffsets = new HashMap<>();
    private final Map<String, long[]> lanes = new HashMap<>();
    private long lastRefresh = Long.MIN_VALUE;
    private boolean everAssigned;

    LagMeter(Consumer<byte[], byte[]> consumer, Partitions partitions, Clock clock, Duration refreshInterval) {
        this.consumer = consumer;
        this.partitions = partitions;
        this.clock = clock;
        this.refreshInterval = refreshInterval;
    }

    /** Partitions were assigned: their end offsets are fetched at once. */
    void assigned() {
        everAssigned = true;
        lastRefresh = Long.MIN_VALUE;
    }

    /** Partitions were revoked. */
    void revoked(Collection<TopicPartition> parts) {
        parts.forEach(endOffsets::remove);
    }

    /** Refreshes the end offsets if due, then recomputes every lane's lag. */
    void update() {
        long now = clock.millis();
        if (!partitions.isEmpty() && (lastRefresh == Long.MIN_VALUE || now - lastRefresh >= refreshInterval.toMillis())) {
            lastRefresh = now;
            try {
                endOffsets.putAll(consumer.endOffsets(partitions.keys(), Duration.ofSeconds(2)));
            } catch (WakeupException e) {
                lastRefresh = Long.MIN_VALUE; // woken for something else: try again next turn
            } catch (KafkaException e) {
                LOG.debug("could not refresh end offsets: {}", e.toString());
            }
        }
        lanes.clear();
        for (PartitionState ps : partitions.all()) {
            long[] l = lanes.computeIfAbsent(ps.lane, k -> new long[2]);
            long lag = lagOf(ps.tp);
            if (lag < 0) {
                l[1]++;
            } else {
                l[0] += lag;
            }
        }
    }

    private long lagOf(TopicPartition tp) {
        long best = -1;
        OptionalLong cl = consumer.currentLag(tp);
        if (cl.isPresent()) {
            best = cl.getAsLong();
        }
        Long end = endOffsets.get(tp);
        if (end != null) {
            try {
                long pos = consumer.position(tp, Duration.ZERO);
                best = Math.max(best, Math.max(0, end - pos));
            } catch (KafkaException e) {
                // position not known yet (or woken): unknown this turn
            }
        }
        return best;
    }

    /** @return the lane's lag on this consumer's partitions */
    long lag(String lane) {
        long[] l = lanes.get(lane);
        return l == null ? 0 : l[0];
    }

    /** @return whether every assigned partition's lag of the lane is known (and the consumer has joined) */
    boolean known(String lane) {
        long[] l = lanes.get(lane);
        return everAssigned && (l == null || l[1] == 0);
    }
}
