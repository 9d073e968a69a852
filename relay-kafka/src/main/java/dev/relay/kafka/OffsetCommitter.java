package dev.relay.kafka;

import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.LongPredicate;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits each partition's {@linkplain OffsetTracker#committable() committable offset} with its
 * {@linkplain OffsetTracker#metadata metadata}, and is the only class that commits.
 *
 * <p>A commit also <em>arms</em>: the deliveries a partition took in since its last commit are named armed in
 * the metadata, and they are handed to the ready buffers ({@link Intake#armed}) only when the broker
 * acknowledged that commit (invariant 3 of {@link OffsetTracker}). So the consumer thread commits
 * asynchronously as soon as new deliveries wait for arming, or every commit interval otherwise, with at most one
 * asynchronous commit in flight: deliveries that arrive meanwhile are armed together by the next one. Lane
 * records are armed by offset and decoded ({@link Intake#decodeArming}) right after their asynchronous commit is
 * sent, so decoding and the commit's round trip overlap. Commits are synchronous where the next step needs them
 * done: probation, flush, revocation and close.
 *
 * <p>What a commit calls armed depends on the queue's state ({@link Mode}): every armed record normally; while
 * the probation gate is closed only the records whose lease is open (nothing else can be handed out); at a
 * graceful end nothing, so that the next owner counts no crash.
 *
 * <p>Not threadsafe: owned by the consumer thread (the asynchronous callbacks run on it too, inside the
 * consumer's calls; a callback that armed deliveries publishes them at once through {@code afterArmed}).
 */
final class OffsetCommitter {

    private static final Logger LOG = LoggerFactory.getLogger(OffsetCommitter.class);

    /** Longest commit metadata written; brokers accept 4096 bytes by default ({@code offset.metadata.max.bytes}). */
    static final int MAX_METADATA_CHARS = 4000;

    /** What a commit calls armed. */
    enum Mode {
        /** Every armed record: the ready ones may be handed out at any moment. */
        NORMAL,
        /** The probation gate is closed: only records whose lease is open can be running. */
        GATED,
        /** A graceful end: nothing can be running any more. */
        CLEAN
    }

    private final Consumer<byte[], byte[]> consumer;
    private final Partitions partitions;
    private final LeaseRegistry registry;
    private final Intake intake;
    private final BooleanSupplier gated;
    private final Runnable afterArmed;
    private final Clock clock;
    private final Duration interval;
    private boolean inFlight;
    private long lastCommit;

    OffsetCommitter(QueueConfig config, Consumer<byte[], byte[]> consumer, Partitions partitions, LeaseRegistry registry,
            Intake intake, BooleanSupplier gated, Runnable afterArmed) {
        this.consumer = consumer;
        this.partitions = partitions;
        this.registry = registry;
        this.intake = intake;
        this.gated = gated;
        this.afterArmed = afterArmed;
        this.clock = config.clock();
        this.interval = config.commitInterval();
        this.lastCommit = clock.millis();
    }

    /** What one commit covers. */
    private record Batch(Map<TopicPartition, OffsetAndMetadata> offsets, Map<TopicPartition, PartitionState> states,
            Map<TopicPartition, List<Delivery>> arming, Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> raw) {
    }

    /**
     * Commits asynchronously if deliveries wait for arming, or the commit interval passed; not while another
     * asynchronous commit is in flight.
     */
    void maybeCommit() {
        if (inFlight || partitions.isEmpty()) {
            return;
        }
        boolean arming = false;
        for (PartitionState ps : partitions.all()) {
            if (ps.hasArming()) {
                arming = true;
                break;
            }
        }
        long now = clock.millis();
        if (!arming && now - lastCommit < interval.toMillis()) {
            return;
        }
        lastCommit = now;
        Batch b = build(partitions.keys(), gated.getAsBoolean() ? Mode.GATED : Mode.NORMAL);
        if (b.offsets.isEmpty()) {
            return;
        }
        inFlight = true;
        boolean refused = false;
        try {
            consumer.commitAsync(b.offsets, (done, error) -> {
                inFlight = false;
                if (error != null) {
                    LOG.debug("asynchronous commit failed (repeated at once or at the next interval): {}", error.toString());
                    failed(b);
                } else {
                    succeeded(b);
                }
            });
        } catch (KafkaException e) {
            inFlight = false;
            LOG.debug("asynchronous commit refused: {}", e.toString());
            refused = true;
        } finally {
            // while the commit is in flight: its callback runs inside a later consumer call, after this
            decode(b);
        }
        if (refused) {
            failed(b);
        }
    }

    /** Decodes the batch's raw arming records into the deliveries its acknowledgement publishes. */
    private void decode(Batch b) {
        b.raw.forEach((tp, records) -> intake.decodeArming(b.states.get(tp), records, b.arming.get(tp)));
    }

    /** @return when the next interval commit is due, epoch millis; Long.MAX_VALUE while one is in flight */
    long nextDue() {
        return inFlight ? Long.MAX_VALUE : lastCommit + interval.toMillis();
    }

    /**
     * Commits synchronously.
     *
     * @param parts the partitions to commit
     * @param mode what the commit calls armed
     * @param timeout how long to wait
     * @return whether the commit succeeded (or nothing needed committing)
     */
    boolean commitSync(Collection<TopicPartition> parts, Mode mode, Duration timeout) {
        Batch b = build(parts, mode);
        if (b.offsets.isEmpty()) {
            return true;
        }
        decode(b);
        try {
            try {
                consumer.commitSync(b.offsets, timeout);
            } catch (WakeupException e) {
                consumer.commitSync(b.offsets, timeout); // woken for something else: the next turn handles it
            }
            succeeded(b);
            return true;
        } catch (KafkaException e) {
            LOG.warn("commit of {} failed; those records will be delivered again after a restart", b.offsets, e);
            failed(b);
            return false;
        }
    }

    private Batch build(Collection<TopicPartition> parts, Mode mode) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, PartitionState> states = new HashMap<>();
        Map<TopicPartition, List<Delivery>> arming = new HashMap<>();
        Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> raw = new HashMap<>();
        for (TopicPartition tp : parts) {
            PartitionState ps = partitions.get(tp);
            if (ps == null) {
                continue;
            }
            long c = ps.tracker.committable();
            if (c < 0) {
                continue;
            }
            String metadata = ps.tracker.metadata(MAX_METADATA_CHARS, view(ps, mode));
            if (c != ps.lastCommitted || !metadata.equals(ps.lastMetadata) || ps.hasArming()) {
                offsets.put(tp, new OffsetAndMetadata(c, metadata));
                states.put(tp, ps);
                if (ps.hasArming()) {
                    arming.put(tp, ps.takeArming());
                    if (!ps.armingRaw.isEmpty()) {
                        raw.put(tp, ps.takeArmingRaw());
                    }
                }
            }
        }
        return new Batch(offsets, states, arming, raw);
    }

    private LongPredicate view(PartitionState ps, Mode mode) {
        return switch (mode) {
            case NORMAL -> o -> true;
            case CLEAN -> o -> false;
            case GATED -> {
                Set<Long> open = new HashSet<>(registry.openOffsets(ps.tp));
                yield open::contains;
            }
        };
    }

    private void succeeded(Batch b) {
        b.offsets.forEach((tp, om) -> {
            PartitionState ps = b.states.get(tp);
            if (partitions.current(tp, ps.epoch) != null && om.offset() >= ps.lastCommitted) {
                ps.lastCommitted = om.offset();
                ps.lastMetadata = om.metadata();
            }
        });
        b.arming.forEach((tp, ds) -> {
            PartitionState ps = b.states.get(tp);
            ps.armingInFlight -= ds.size();
            if (partitions.current(tp, ps.epoch) != null) {
                intake.armed(ds);
            }
        });
        if (!b.arming.isEmpty()) {
            afterArmed.run(); // publish at once, also from inside the consumer's poll: no poll interval of latency
        }
    }

    private void failed(Batch b) {
        b.arming.forEach((tp, ds) -> {
            PartitionState ps = b.states.get(tp);
            ps.armingInFlight -= ds.size();
            if (partitions.current(tp, ps.epoch) != null) {
                ds.addAll(ps.arming);
                ps.arming = ds; // armed again by the next commit, in order
            }
        });
    }
}
