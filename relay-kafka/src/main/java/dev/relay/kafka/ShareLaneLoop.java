package dev.relay.kafka;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.Task;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A thread that owns one of a lane's {@link ShareConsumer}s in a {@link KafkaShareTaskQueue}: it acquires records,
 * hands them to the lane's {@link LaneBuffer} (shared by the lane's loops), and acknowledges each as its lease ends.
 * Its deliveries carry its index as their epoch, so that a lease's ending reaches the loop that acquired it.
 *
 * <h2>Design</h2>
 * The share consumer runs in explicit acknowledgement mode: every record a poll returned must be acknowledged
 * before the next poll, and a record acknowledged {@code RENEW} (its lock extended) is returned again by a later
 * poll — and while a share consumer (Kafka 4.3) has renewed records to return, a poll acquires nothing new. So a
 * loop acquires a batch only when it holds nothing, and the lane gets more loops when the engine wants more while
 * every loop holds records ({@link KafkaShareTaskQueue}). Each record a loop holds is in one of two states:
 * returned by the last poll (it must be acknowledged before the next one), or renewed and waiting to come back
 * (it must not be acknowledged until it does; an ending that arrives meanwhile is applied when it comes back).
 * <ol>
 *   <li>Endings are applied at the start of a turn: complete → {@code ACCEPT}; retry → held (renewed) until its
 *       delay passed, then {@code RELEASE} (the broker delivers it again, counting the attempt); dead letter → the
 *       dead-letter record is produced, and once acknowledged the record is {@code REJECT}ed; release → back to
 *       the buffer, still acquired (no attempt counted). Acknowledgements are committed at once, without a poll.
 *   <li>It polls for a new batch when it holds nothing (waiting for records up to the poll interval), at most
 *       {@code prefetch} records ({@code share.acquire.mode=record_limit}); while it holds records it polls only
 *       to renew their locks (every half acquisition-lock period) and to take them back.
 *   <li>New records are decoded (a record that does not decode goes to the dead letters, then is rejected) and
 *       published; the broker's delivery count is the task's attempt ({@code encoded attempt + count − 1}).
 * </ol>
 * A retry or dead letter on the record's last delivery the share group allows ({@code share.delivery.count.limit},
 * after which the broker would archive it silently) is dead-lettered instead, with a reason saying so.
 *
 * <p>Not threadsafe, except {@link #stop} and {@link #flush}; everything else runs on the loop's thread. Other
 * threads talk to it through its {@link Mailbox}.
 */
final class ShareLaneLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ShareLaneLoop.class);

    /** Wait before re-sending a dead letter whose send failed. */
    private static final long RESEND_BACKOFF_MILLIS = 500;
    /** Wait after an unexpected error before the next turn. */
    private static final long ERROR_BACKOFF_MILLIS = 500;
    /** Acquisition lock period assumed until the consumer says it (the brokers' default is 30 s). */
    private static final long DEFAULT_LOCK_MILLIS = 10_000;

    /** A flush: commit the acknowledgements made so far. */
    record Flush(java.util.concurrent.CompletableFuture<Boolean> done) {
    }

    /** A dead letter's send result. */
    private record Sent(Key key, Exception error) {
    }

    private record Key(TopicPartition tp, long offset) {
    }

    /** What the loop holds of one acquired record. */
    private static final class Held {
        ConsumerRecord<byte[], byte[]> record;
        final Delivery delivery;
        /** Renewed, not yet returned by a poll: must not be acknowledged until it is. Epoch millis of the renewal, or -1. */
        long renewedAt = -1;
        /** The final acknowledgement decided while renewed: applied when the record comes back. */
        AcknowledgeType finalAck;
        /** Retry waiting for its time, epoch millis; -1 if none. */
        long releaseAt = -1;
        /** A dead letter in flight (or to send again at {@link #resendAt}). */
        ProducerRecord<byte[], byte[]> deadLetter;
        long resendAt = -1;

        Held(ConsumerRecord<byte[], byte[]> record, Delivery delivery) {
            this.record = record;
            this.delivery = delivery;
        }
    }

    private final String lane;
    private final int index;
    private final ShareConsumer<byte[], byte[]> consumer;
    private final LazyProducer producers;
    private final ClientHealth health;
    private final KafkaTopics topics;
    private final LaneBuffer buffer;
    private final Mailbox mailbox;
    private final LeaseRegistry registry;
    private final Supplier<Runnable> listener;
    private final Clock clock;
    private final Duration pollInterval;
    private final int deliveryLimit;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean stopping;
    private volatile boolean crash;

    // ---- owned by the loop thread ----
    private final Map<Key, Held> held = new LinkedHashMap<>();
    private final List<Flush> flushes = new ArrayList<>();
    private boolean acksToCommit;
    private long lastPoll;
    /** Whether this loop holds records: it acquires nothing more until it holds none. Read by the queue. */
    private volatile boolean holding;

    ShareLaneLoop(String lane, int index, ShareConsumer<byte[], byte[]> consumer, LazyProducer producers, ClientHealth health,
            QueueConfig config, LaneBuffer buffer, Mailbox mailbox, LeaseRegistry registry, Supplier<Runnable> listener,
            int deliveryLimit) {
        this.lane = lane;
        this.index = index;
        this.consumer = consumer;
        this.producers = producers;
        this.health = health;
        this.topics = config.topics();
        this.buffer = buffer;
        this.mailbox = mailbox;
        this.registry = registry;
        this.listener = listener;
        this.clock = config.clock();
        this.pollInterval = config.pollInterval();
        this.deliveryLimit = deliveryLimit;
        this.thread = config.threadFactory().newThread(this);
        if (thread == null) {
            throw new IllegalStateException("the thread factory returned no thread");
        }
        mailbox.eager(true); // every ending may be the last of the batch: the next poll waits for it
    }

    void start() {
        thread.start();
    }

    /** @return whether this loop holds records, so that it acquires nothing now (any thread) */
    boolean holding() {
        return holding;
    }

    /** Asks for the acknowledgements made so far to be committed (any thread). */
    java.util.concurrent.CompletableFuture<Boolean> flush() {
        java.util.concurrent.CompletableFuture<Boolean> f = new java.util.concurrent.CompletableFuture<>();
        mailbox.post(new Flush(f), true);
        if (finished.getCount() == 0) {
            f.complete(false);
        }
        return f;
    }

    /**
     * Stops the loop (any thread) and waits for it.
     *
     * @param simulateCrash whether to stop without acknowledging anything more (tests)
     * @param timeout how long to wait
     * @return whether it stopped in time
     */
    boolean stop(boolean simulateCrash, Duration timeout) throws InterruptedException {
        crash = simulateCrash;
        stopping = true;
        mailbox.wake();
        if (Thread.currentThread() == thread) {
            return false;
        }
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(topics.laneTopic(lane)));
            while (!stopping) {
                try {
                    turn();
                } catch (InterruptException e) {
                    LOG.warn("share consumer thread of lane '{}' interrupted; stopping it", lane, e);
                    stopping = true;
                } catch (WakeupException e) {
                    // a wake-up that missed poll
                } catch (RuntimeException e) {
                    // classified, logged at most once per interval per kind, backed off (capped) by the queue's health
                    health.failed(ClientHealth.Client.CONSUMER, e);
                    long wait = Math.max(ERROR_BACKOFF_MILLIS, health.retryAt(ClientHealth.Client.CONSUMER) - clock.millis());
                    mailbox.await(TimeUnit.MILLISECONDS.toNanos(wait));
                }
            }
            finish();
        } catch (RuntimeException | Error e) {
            LOG.error("share consumer loop of lane '{}' failed while stopping", lane, e);
        } finally {
            finished.countDown();
            flushes.forEach(f -> f.done().complete(false));
            mailbox.drain(e -> {
                if (e instanceof Flush f) {
                    f.done().complete(false);
                }
            });
        }
    }

    private void turn() {
        mailbox.drain(this::apply);
        long now = clock.millis();
        for (Held h : new ArrayList<>(held.values())) {
            if (h.releaseAt >= 0 && now >= h.releaseAt) {
                h.releaseAt = -1;
                finalAck(h, AcknowledgeType.RELEASE); // the retry's time: the broker delivers it again
            } else if (h.resendAt >= 0 && now >= h.resendAt) {
                h.resendAt = -1;
                sendDeadLetter(h);
            } else if (h.renewedAt >= 0 && now - h.renewedAt > lockMillis()) {
                // renewed but never returned: the acquisition ended (lock expired, partition moved); the broker
                // delivers the record again
                LOG.debug("{}@{} renewed but not returned within the lock period; forgotten", h.delivery.tp(), h.delivery.offset());
                held.remove(key(h));
            }
        }
        commitAcks();
        if (!flushes.isEmpty()) {
            boolean ok = commitSync();
            flushes.forEach(f -> f.done().complete(ok));
            flushes.clear();
        }
        if (held.isEmpty()) {
            poll(pollInterval, false); // acquire a new batch
        } else if (held.values().stream().anyMatch(h -> h.renewedAt >= 0)) {
            poll(Duration.ofMillis(Math.min(100, pollInterval.toMillis())), false); // renewed records come back
        } else if (now - lastPoll >= lockMillis() / 2) {
            poll(Duration.ZERO, true); // renew the locks of everything held
        } else {
            mailbox.await(TimeUnit.MILLISECONDS.toNanos(Math.max(1, nextDue(now) - now)));
        }
        holding = !held.isEmpty();
    }

    private long lockMillis() {
        return consumer.acquisitionLockTimeoutMs().map(ms -> (long) ms).orElse(DEFAULT_LOCK_MILLIS);
    }

    private long nextDue(long now) {
        long next = lastPoll + Math.max(pollInterval.toMillis(), lockMillis() / 2);
        for (Held h : held.values()) {
            if (h.releaseAt >= 0) {
                next = Math.min(next, h.releaseAt);
            }
            if (h.resendAt >= 0) {
                next = Math.min(next, h.resendAt);
            }
        }
        return next;
    }

    private static Key key(Held h) {
        return new Key(h.delivery.tp(), h.delivery.offset());
    }

    private void apply(Object event) {
        if (event instanceof KafkaLease.Ending e) {
            ending(e);
        } else if (event instanceof Sent s) {
            sent(s);
        } else if (event instanceof Flush f) {
            flushes.add(f);
        }
    }

    private void ending(KafkaLease.Ending e) {
        registry.closed(e.lease());
        Delivery d = e.lease().delivery();
        Held h = held.get(new Key(d.tp(), d.offset()));
        if (h == null || h.delivery != d || h.finalAck != null) {
            return; // not acquired by this consumer any more (it closed and re-acquired, or the lock expired)
        }
        switch (e.kind()) {
            case COMPLETED -> finalAck(h, AcknowledgeType.ACCEPT);
            case RELEASED -> buffer.putBack(d);
            case RETRIED -> {
                int deliveries = h.record.deliveryCount().orElse((short) 1);
                if (deliveries >= deliveryLimit) {
                    deadLetter(h, "retry requested (" + e.reason() + ") on delivery " + deliveries + ", the share group's"
                            + " share.delivery.count.limit: dead-lettered instead of archived by the broker");
                } else if (!e.notBefore().isAfter(clock.instant())) {
                    finalAck(h, AcknowledgeType.RELEASE);
                } else {
                    h.releaseAt = e.notBefore().toEpochMilli();
                }
            }
            case DEAD_LETTERED -> deadLetter(h, e.reason());
            default -> throw new AssertionError(e.kind());
        }
        if (e.kind() == KafkaLease.State.RELEASED) {
            notifyListener();
        }
    }

    private void deadLetter(Held h, String reason) {
        Delivery d = h.delivery;
        h.deadLetter = new ProducerRecord<>(topics.deadLetterTopic(lane), null, null,
                d.task().id().getBytes(StandardCharsets.UTF_8), TaskRecordCodec.encode(d.task()),
                OutcomeProducer.deadLetterHeaders(reason, d.tp(), d.offset(), clock));
        sendDeadLetter(h);
    }

    private void deadLetterRaw(Held h, String reason) {
        LOG.warn("record {}@{} goes to the dead-letter topic: {}", h.delivery.tp(), h.delivery.offset(), reason);
        h.deadLetter = new ProducerRecord<>(topics.deadLetterTopic(lane), null, null, h.record.key(), h.record.value(),
                OutcomeProducer.deadLetterHeaders(reason, h.delivery.tp(), h.delivery.offset(), clock));
        sendDeadLetter(h);
    }

    private void sendDeadLetter(Held h) {
        Key key = new Key(h.delivery.tp(), h.delivery.offset());
        try {
            producers.get().send(h.deadLetter, (md, ex) -> mailbox.post(new Sent(key, ex), true));
        } catch (KafkaException | dev.relay.api.QueueException ex) {
            mailbox.post(new Sent(key, ex), true);
        }
    }

    private void sent(Sent s) {
        Held h = held.get(s.key());
        if (h == null) {
            return;
        }
        if (s.error() == null) {
            producers.succeeded();
            finalAck(h, AcknowledgeType.REJECT); // in the dead letters now; never delivered again
        } else {
            // reported (and logged, at most once per interval) through the queue's client health
            producers.failed(null, s.error());
            h.resendAt = producers.resendAt(clock.millis() + RESEND_BACKOFF_MILLIS);
        }
    }

    /** Ends a held record: acknowledges it now, or when it comes back if it is renewed. */
    private void finalAck(Held h, AcknowledgeType type) {
        if (h.renewedAt >= 0) {
            h.finalAck = type;
            return;
        }
        acknowledge(h.record, type);
        held.remove(key(h));
    }

    private void acknowledge(ConsumerRecord<byte[], byte[]> r, AcknowledgeType type) {
        try {
            consumer.acknowledge(r, type);
            acksToCommit = true;
        } catch (IllegalStateException | KafkaException e) {
            // the acquisition ended (lock expired, consumer re-joined): the broker delivers the record again
            LOG.debug("could not acknowledge {}-{}@{} as {}: {}", r.topic(), r.partition(), r.offset(), type, e.toString());
        }
    }

    private void commitAcks() {
        if (acksToCommit) {
            acksToCommit = false;
            try {
                consumer.commitAsync();
            } catch (WakeupException e) {
                consumer.commitAsync();
            }
        }
    }

    private boolean commitSync() {
        try {
            Map<?, java.util.Optional<KafkaException>> result;
            try {
                result = consumer.commitSync(Duration.ofSeconds(30));
            } catch (WakeupException e) {
                result = consumer.commitSync(Duration.ofSeconds(30));
            }
            return result.values().stream().allMatch(java.util.Optional::isEmpty);
        } catch (KafkaException e) {
            LOG.warn("committing the acknowledgements of lane '{}' failed", lane, e);
            return false;
        }
    }

    /**
     * Polls: renewed records come back (a final acknowledgement decided meanwhile is applied now), new ones (only
     * when nothing is held: the share consumer acquires nothing while it holds renewed records) are published.
     *
     * @param timeout how long to wait for records
     * @param renew whether to renew every held record first (they were all returned by the last poll)
     */
    private void poll(Duration timeout, boolean renew) {
        long now = clock.millis();
        if (renew) {
            for (Held h : held.values()) {
                if (h.renewedAt < 0) {
                    acknowledge(h.record, AcknowledgeType.RENEW);
                    h.renewedAt = now;
                }
            }
            acksToCommit = false; // the poll commits them
        }
        ConsumerRecords<byte[], byte[]> records;
        boolean woken = mailbox.beginPoll();
        try {
            records = consumer.poll(woken ? Duration.ZERO : timeout);
        } catch (WakeupException e) {
            records = ConsumerRecords.empty();
        } finally {
            mailbox.endPoll();
        }
        lastPoll = clock.millis();
        if (!records.isEmpty()) {
            health.succeeded(ClientHealth.Client.CONSUMER); // cheap unless it was failing
        }
        List<Delivery> ready = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            Key key = new Key(tp, r.offset());
            Held h = held.get(key);
            if (h != null) { // renewed, back
                h.record = r;
                h.renewedAt = -1;
                if (h.finalAck != null) {
                    AcknowledgeType type = h.finalAck;
                    h.finalAck = null;
                    finalAck(h, type);
                }
                continue;
            }
            int deliveries = r.deliveryCount().orElse((short) 1);
            Task task;
            try {
                task = TaskRecordCodec.decode(r.value()).withLane(lane);
            } catch (InvalidTaskException | IllegalArgumentException e) {
                Held bad = new Held(r, new Delivery(tp, r.offset(), index, null, Instant.ofEpochMilli(r.timestamp()), null));
                held.put(key, bad);
                deadLetterRaw(bad, e.getMessage());
                continue;
            }
            if (deliveries > 1) {
                task = task.withAttempt(task.attempt() + deliveries - 1); // the broker's count: retries and crashes
            }
            Delivery d = new Delivery(tp, r.offset(), index, task, Instant.ofEpochMilli(r.timestamp()), null);
            held.put(key, new Held(r, d));
            ready.add(d);
        }
        if (!ready.isEmpty()) {
            buffer.publish(List.of(), ready, 0, 0, 0, false);
            notifyListener();
        }
    }

    private void notifyListener() {
        Runnable r = listener.get();
        if (r != null) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("availability listener failed", e);
            }
        }
    }

    private void finish() {
        buffer.close();
        registry.lose(d -> d.epoch() == index && lane.equals(d.task().lane()));
        if (crash) {
            consumer.close(Duration.ZERO); // a crash: nothing more is acknowledged
            return;
        }
        mailbox.drain(this::apply); // endings that won the race against close
        commitSync();
        // what is still held goes back to the group (the broker counts a delivery when it comes back)
        consumer.close(Duration.ofSeconds(30));
    }
}
