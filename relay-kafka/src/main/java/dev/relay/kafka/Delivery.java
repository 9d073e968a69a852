package dev.relay.kafka;

import dev.relay.api.Task;
import java.time.Instant;
import org.apache.kafka.common.TopicPartition;

/**
 * One fetched record of a lane or retry topic, decoded: what a lease hands out. Immutable.
 *
 * @param tp the partition it was fetched from
 * @param offset its offset
 * @param epoch the assignment epoch of the partition when it was fetched (stale after a revocation)
 * @param task the task, in the lane of the topic, with its attempt counting the crashes it has been through
 * @param readySince when it became ready: the record time, or the retry's not-before time
 * @param notBefore for a retry record, when it may be handed out; null for a lane record
 */
record Delivery(TopicPartition tp, long offset, long epoch, Task task, Instant readySince, Instant notBefore) {

    /** @return {@code topic-partition@offset} */
    String where() {
        return tp + "@" + offset;
    }
}
