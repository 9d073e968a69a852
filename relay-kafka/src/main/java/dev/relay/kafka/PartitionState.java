package dev.relay.kafka;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * What the consumer thread knows of one assigned partition: its offsets ({@link OffsetTracker}), the records
 * fetched but held back because its lane was full, the deliveries waiting for the commit that arms them, and
 * what was last committed. A new assignment of the partition gets a new state with a new epoch, so a stale
 * ending or send result (older epoch) never touches a new owner's offsets.
 *
 * <p>Not threadsafe: owned by the consumer thread.
 */
final class PartitionState {

    final TopicPartition tp;
    final String lane;
    final boolean retry;
    final long epoch;
    final OffsetTracker tracker;
    /** Fetched, not yet decoded or tracked: the lane had no room. The partition is paused while any are held. */
    final ArrayDeque<ConsumerRecord<byte[], byte[]>> held = new ArrayDeque<>();
    /** Tracked and armed, waiting for a commit that names them armed before they may be handed out. */
    List<Delivery> arming = new ArrayList<>();
    /**
     * Lane records tracked and armed but not decoded yet: the next commit names them armed and they are decoded
     * while it is in flight ({@link Intake#decodeArming}). Counted with {@link #arming}.
     */
    List<ConsumerRecord<byte[], byte[]>> armingRaw = new ArrayList<>();
    /** Deliveries in an arming commit in flight: still counted against the lane's bound. */
    int armingInFlight;
    long lastCommitted = -1;
    String lastMetadata = "";

    PartitionState(TopicPartition tp, String lane, boolean retry, long epoch, OffsetTracker tracker) {
        this.tp = tp;
        this.lane = lane;
        this.retry = retry;
        this.epoch = epoch;
        this.tracker = tracker;
    }

    /** @return whether deliveries or records wait for an arming commit */
    boolean hasArming() {
        return !arming.isEmpty() || !armingRaw.isEmpty();
    }

    /** @return the deliveries waiting for their arming commit, leaving none (the raw records: {@link #takeArmingRaw}) */
    List<Delivery> takeArming() {
        List<Delivery> out = arming;
        arming = new ArrayList<>();
        armingInFlight += out.size();
        return out;
    }

    /** @return the records waiting for their arming commit, to be decoded once it is sent, leaving none */
    List<ConsumerRecord<byte[], byte[]>> takeArmingRaw() {
        List<ConsumerRecord<byte[], byte[]>> out = armingRaw;
        armingRaw = new ArrayList<>();
        armingInFlight += out.size();
        return out;
    }

    /** @return deliveries (and records) waiting for arming, in a commit in flight or not */
    int armingCount() {
        return arming.size() + armingRaw.size() + armingInFlight;
    }

    @Override
    public String toString() {
        return "PartitionState[" + tp + " lane=" + lane + (retry ? " retry" : "") + " epoch=" + epoch + " " + tracker
                + " held=" + held.size() + " arming=" + (arming.size() + armingRaw.size()) + "]";
    }
}
