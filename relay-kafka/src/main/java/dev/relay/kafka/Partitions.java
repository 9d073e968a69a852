package dev.relay.kafka;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/**
 * The partitions assigned to the consumer, with their state, and the epoch counter that tells a current
 * assignment from an older one. Not threadsafe: owned by the consumer thread.
 */
final class Partitions {

    private final Map<TopicPartition, PartitionState> assigned = new HashMap<>();
    private long epochs;

    /** @return a new epoch for a new assignment */
    long nextEpoch() {
        return ++epochs;
    }

    void put(PartitionState ps) {
        assigned.put(ps.tp, ps);
    }

    PartitionState remove(TopicPartition tp) {
        return assigned.remove(tp);
    }

    PartitionState get(TopicPartition tp) {
        return assigned.get(tp);
    }

    /** @return the partition's state if it is still the assignment of that epoch, else null */
    PartitionState current(TopicPartition tp, long epoch) {
        PartitionState ps = assigned.get(tp);
        return ps != null && ps.epoch == epoch ? ps : null;
    }

    /** @return the states, a live view */
    Collection<PartitionState> all() {
        return assigned.values();
    }

    /** @return the assigned partitions, a live view */
    Collection<TopicPartition> keys() {
        return assigned.keySet();
    }

    boolean isEmpty() {
        return assigned.isEmpty();
    }
}
