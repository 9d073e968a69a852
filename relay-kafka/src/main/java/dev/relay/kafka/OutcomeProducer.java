package dev.relay.kafka;

import dev.relay.api.QueueException;
import dev.relay.api.Task;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces the outcomes that leave a record's partition: retry records (to the lane's retry topic) and dead
 * letters (to its dead-letter topic), and completes the source record's offset only when the outcome is
 * acknowledged. A failed send is repeated after a back-off while the partition stays assigned; meanwhile the
 * source offset stays uncommitted, so a crash re-delivers the original.
 *
 * <p>The producer's callbacks post {@link Sent} results to the consumer thread's {@link Mailbox}; everything
 * else runs on the consumer thread. Not threadsafe.
 */
final class OutcomeProducer {

    private static final Logger LOG = LoggerFactory.getLogger(OutcomeProducer.class);

    /** Wait before re-sending an outcome whose send failed. */
    static final long RESEND_BACKOFF_MILLIS = 500;

    /** A send's result, posted by the producer's I/O thread; the producer it went to (null if none was made). */
    record Sent(Pending pending, Exception error, Producer<byte[], byte[]> producer) {
    }

    /** An outcome in flight; its source offset completes when it is acknowledged. */
    static final class Pending {
        final ProducerRecord<byte[], byte[]> record;
        final TopicPartition tp;
        final long offset;
        final long epoch;
        long resendAt = -1;

        Pending(ProducerRecord<byte[], byte[]> record, TopicPartition tp, long offset, long epoch) {
            this.record = record;
            this.tp = tp;
            this.offset = offset;
            this.epoch = epoch;
        }
    }

    private final LazyProducer producers;
    private final KafkaTopics topics;
    private final Partitions partitions;
    private final Mailbox mailbox;
    private final Clock clock;
    private final List<Pending> pending = new ArrayList<>();

    OutcomeProducer(LazyProducer producers, KafkaTopics topics, Partitions partitions, Mailbox mailbox, Clock clock) {
        this.producers = producers;
        this.topics = topics;
        this.partitions = partitions;
        this.mailbox = mailbox;
        this.clock = clock;
    }

    /** Sends a retry of the delivery: its task with the attempt incremented, not before the given time. */
    void retry(Delivery d, Instant notBefore, String reason) {
        Task next = d.task().withAttempt(d.task().attempt() + 1);
        RecordHeaders h = new RecordHeaders();
        h.add(TaskRecordCodec.HEADER_NOT_BEFORE, utf8(Long.toString(notBefore.toEpochMilli())));
        h.add(TaskRecordCodec.HEADER_RETRY_REASON, utf8(reason));
        send(new ProducerRecord<>(topics.retryTopic(d.task().lane()), null, null, utf8(next.id()), TaskRecordCodec.encode(next), h),
                d.tp(), d.offset(), d.epoch());
    }

    /** Sends the delivery's task to the lane's dead letters with the reason. */
    void deadLetter(Delivery d, String reason) {
        send(new ProducerRecord<>(topics.deadLetterTopic(d.task().lane()), null, null, utf8(d.task().id()),
                TaskRecordCodec.encode(d.task()), deadLetterHeaders(reason, d.tp(), d.offset())), d.tp(), d.offset(), d.epoch());
    }

    /** Sends a record that is no task (malformed, unknown version) to the lane's dead letters, as it is. */
    void deadLetterRaw(PartitionState ps, ConsumerRecord<byte[], byte[]> rec, String reason) {
        LOG.warn("record {}@{} goes to the dead-letter topic: {}", ps.tp, rec.offset(), reason);
        send(new ProducerRecord<>(topics.deadLetterTopic(ps.lane), null, null, rec.key(), rec.value(),
                deadLetterHeaders(reason, ps.tp, rec.offset())), ps.tp, rec.offset(), ps.epoch);
    }

    private void send(ProducerRecord<byte[], byte[]> record, TopicPartition tp, long offset, long epoch) {
        Pending p = new Pending(record, tp, offset, epoch);
        pending.add(p);
        trySend(p);
    }

    private void trySend(Pending p) {
        Producer<byte[], byte[]> producer = null;
        try {
            producer = producers.get();
            Producer<byte[], byte[]> used = producer;
            producer.send(p.record, (md, e) -> mailbox.post(new Sent(p, e, used), false));
        } catch (KafkaException | QueueException e) {
            mailbox.post(new Sent(p, e, producer), false);
        }
    }

    /** Applies a send result (consumer thread). */
    void sent(Sent s) {
        Pending p = s.pending();
        PartitionState ps = partitions.current(p.tp, p.epoch);
        if (s.error() == null) {
            producers.succeeded();
            pending.remove(p);
            if (ps != null) {
                ps.tracker.complete(p.offset);
            }
            return;
        }
        if (!(s.error() instanceof QueueException)) { // a QueueException: the producer backs off, reported already
            // reported, and logged at most once per interval per kind, through the queue's client health
            producers.failed(s.producer(), s.error());
        }
        if (ps == null) {
            pending.remove(p); // revoked: the original is delivered again by the new owner
            return;
        }
        p.resendAt = producers.resendAt(clock.millis() + RESEND_BACKOFF_MILLIS);
    }

    /** Sends again what failed and is due (consumer thread). */
    void resendDue() {
        long now = clock.millis();
        for (Pending p : pending) {
            if (p.resendAt >= 0 && now >= p.resendAt) {
                p.resendAt = -1;
                trySend(p);
            }
        }
    }

    /** @return the earliest resend time, or Long.MAX_VALUE */
    long nextResend() {
        long next = Long.MAX_VALUE;
        for (Pending p : pending) {
            if (p.resendAt >= 0) {
                next = Math.min(next, p.resendAt);
            }
        }
        return next;
    }

    /** @return whether an outcome of one of the partitions is in flight */
    boolean hasPending(Collection<TopicPartition> parts) {
        for (Pending p : pending) {
            if (parts.contains(p.tp)) {
                return true;
            }
        }
        return false;
    }

    /** @return how many outcomes are in flight */
    int pendingCount() {
        return pending.size();
    }

    /** Forgets the outcomes of revoked partitions (their originals are delivered again). */
    void forget(Collection<TopicPartition> parts) {
        Iterator<Pending> it = pending.iterator();
        while (it.hasNext()) {
            if (parts.contains(it.next().tp)) {
                it.remove();
            }
        }
    }

    private RecordHeaders deadLetterHeaders(String reason, TopicPartition tp, long offset) {
        return deadLetterHeaders(reason, tp, offset, clock);
    }

    /** @return the headers of a dead letter ({@link TaskRecordCodec}'s wire constants) */
    static RecordHeaders deadLetterHeaders(String reason, TopicPartition tp, long offset, Clock clock) {
        RecordHeaders h = new RecordHeaders();
        h.add(TaskRecordCodec.HEADER_DLT_REASON, utf8(reason));
        h.add(TaskRecordCodec.HEADER_DLT_ORIGIN, utf8(tp.topic() + "-" + tp.partition() + "@" + offset));
        h.add(TaskRecordCodec.HEADER_DLT_TIME, utf8(clock.instant().toString()));
        return h;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
