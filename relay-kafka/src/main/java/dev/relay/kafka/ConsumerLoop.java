package dev.relay.kafka;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.Task;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that owns the {@link org.apache.kafka.clients.consumer.KafkaConsumer} and all offset state
 * of a {@link KafkaTaskQueue}.
 *
 * <h2>Design</h2>
 * <p>Only this thread touches the consumer, the per-partition {@link OffsetTracker}s, the retry delay
 * queues and the in-flight retry/dead-letter sends. Other threads talk to it through two lock-free
 * mailboxes: lease endings ({@link KafkaLease.Ending}) and commands (subscribe, flush). It hands ready
 * deliveries to the engine through one {@link LaneBuffer} per lane. Each turn of the loop:
 * <ol>
 *   <li>runs commands and lease endings: a completion marks its offset done; a release puts the delivery back
 *       at the head of its lane; a retry or dead letter is produced to the retry or dead-letter topic and its
 *       offset is marked done only when that send is acknowledged (a failed send is repeated, the offset
 *       stays uncommitted meanwhile, so a crash re-delivers the original);
 *   <li>moves due retries from the lane's delay queue to its ready buffer;
 *   <li>pauses the lane partitions of a lane whose ready buffer holds {@code prefetch} deliveries, and the
 *       retry partitions of a lane whose delay queue holds {@code prefetch}; resumes them at half of that;
 *   <li>polls the consumer for at most the poll interval; a record that would overflow its lane's bound is
 *       not taken: the partition is sought back to it and paused, so the bound is exact;
 *   <li>publishes the new deliveries together with the lane's lag and delayed count;
 *   <li>commits, every commit interval, each partition's {@linkplain OffsetTracker#committable() lowest
 *       outstanding offset}.
 * </ol>
 *
 * <p>Rebalance (in the consumer's callback, on this thread): revoked partitions' ready deliveries are dropped
 * at once so no new lease is handed out; endings keep being processed until no lease of those partitions is
 * active and no send is in flight, or the revocation timeout passed; then their offsets are committed
 * synchronously and the leases still open are marked lost (ending one throws LeaseLostException). A new
 * assignment gets a fresh tracker and epoch; deliveries and endings of an older epoch are ignored, so a
 * stale ending never touches a new owner's offsets. The pause state is re-applied right after assignment.
 *
 * <p>Not threadsafe, except {@link #submit}, {@link #command}, {@link #now} and {@link #stop}.
 */
final class ConsumerLoop implements Runnable, ConsumerRebalanceListener {

    private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoop.class);

    /** Wait before re-sending a retry or dead-letter record whose send failed. */
    private static final long RESEND_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** Longest commit metadata written; brokers accept 4096 by default ({@code offset.metadata.max.bytes}). */
    private static final int MAX_METADATA_CHARS = 3000;
    /** Wait after an unexpected error in the loop before the next turn. */
    private static final long ERROR_BACKOFF_MILLIS = 500;

    /** How the loop ends. */
    enum Stop { CLOSE, CRASH_LEAVE_GROUP, CRASH_STAY_IN_GROUP }

    private record Subscribe(Set<String> lanes) {
    }

    private record Flush(CompletableFuture<Boolean> done, Duration timeout) {
    }

    /** State of one assigned partition. */
    private static final class PartitionState {
        final TopicPartition tp;
        final String lane;
        final boolean retry;
        final long epoch;
        final OffsetTracker tracker = new OffsetTracker();
        long lastCommitted = -1;
        String lastMetadata = "";
        /** Offsets the previous owner completed above its last commit: not delivered again. */
        OffsetTracker.Completed restored = OffsetTracker.Completed.NONE;

        PartitionState(TopicPartition tp, String lane, boolean retry, long epoch) {
            this.tp = tp;
            this.lane = lane;
            this.retry = retry;
            this.epoch = epoch;
        }
    }

    /** A retry or dead-letter record in flight; its source offset completes when it is acknowledged. */
    private static final class PendingSend {
        final ProducerRecord<byte[], byte[]> record;
        final TopicPartition tp;
        final long offset;
        final long epoch;
        Future<RecordMetadata> future;
        long resendAtNanos;

        PendingSend(ProducerRecord<byte[], byte[]> record, TopicPartition tp, long offset, long epoch) {
            this.record = record;
            this.tp = tp;
            this.offset = offset;
            this.epoch = epoch;
        }
    }

    private final QueueConfig config;
    private final KafkaTopics topics;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final Map<String, LaneBuffer> lanes;
    private final Supplier<Runnable> listener;
    private final ConcurrentLinkedQueue<KafkaLease.Ending> endings = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Object> commands = new ConcurrentLinkedQueue<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread thread;
    private volatile Stop stop;

    // ---- owned by the loop thread ----
    private final Map<TopicPartition, PartitionState> assigned = new HashMap<>();
    private final Map<String, PriorityQueue<Delivery>> delayed = new HashMap<>();
    private final Map<String, List<Delivery>> released = new HashMap<>();
    private final Map<String, List<Delivery>> fetched = new HashMap<>();
    private final List<PendingSend> pending = new ArrayList<>();
    private final Map<TopicPartition, Long> endOffsets = new HashMap<>();
    private Set<String> subscribed = Set.of();
    private long epochs;
    private boolean everAssigned;
    private boolean finishing;
    private long lastCommitNanos = System.nanoTime();
    private long lastLagRefreshNanos;

    ConsumerLoop(QueueConfig config, Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer,
            Map<String, LaneBuffer> lanes, Supplier<Runnable> listener) {
        this.config = config;
        this.topics = config.topics();
        this.consumer = consumer;
        this.producer = producer;
        this.lanes = lanes;
        this.listener = listener;
        this.thread = config.threadFactory().newThread(this);
        if (thread == null) {
            throw new IllegalStateException("the thread factory returned no thread");
        }
    }

    void start() {
        thread.start();
    }

    Instant now() {
        return config.clock().instant();
    }

    /** Posts a lease ending (any thread). */
    void submit(KafkaLease.Ending ending) {
        endings.add(ending);
    }

    /** Posts a new subscription (any thread). */
    void subscribe(Set<String> laneNames) {
        commands.add(new Subscribe(Set.copyOf(laneNames)));
    }

    /** Asks for a synchronous commit of what completed (any thread). */
    CompletableFuture<Boolean> flush(Duration timeout) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        commands.add(new Flush(f, timeout));
        if (finished.getCount() == 0) {
            f.complete(false);
        }
        return f;
    }

    /**
     * Ends the loop (any thread) and waits for it up to the timeout.
     *
     * @return whether it ended in time
     */
    boolean stop(Stop how, Duration timeout) throws InterruptedException {
        if (stop == null) {
            stop = how;
        }
        if (Thread.currentThread() == thread) {
            return false;
        }
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean isRunning() {
        return finished.getCount() > 0;
    }

    // ------------------------------------------------------------------ the loop

    @Override
    public void run() {
        try {
            while (stop == null) {
                try {
                    turn();
                } catch (InterruptException e) {
                    LOG.warn("consumer thread interrupted; closing the queue's consumer", e);
                    if (stop == null) {
                        stop = Stop.CLOSE;
                    }
                } catch (RuntimeException e) {
                    LOG.warn("error in the consumer loop of group " + config.groupId() + "; carrying on", e);
                    sleepQuietly(ERROR_BACKOFF_MILLIS);
                }
            }
            finish(stop);
        } catch (RuntimeException | Error e) {
            LOG.error("consumer loop of group " + config.groupId() + " failed while stopping", e);
        } finally {
            finished.countDown();
            Object c;
            while ((c = commands.poll()) != null) {
                if (c instanceof Flush f) {
                    f.done().complete(false);
                }
            }
        }
    }

    private void turn() {
        runCommands();
        processEndings();
        processPendingSends();
        moveDueRetries();
        applyPauses();
        if (subscribed.isEmpty()) {
            publish();
            sleepQuietly(config.pollInterval().toMillis());
            return;
        }
        ConsumerRecords<byte[], byte[]> records = consumer.poll(config.pollInterval());
        take(records);
        refreshEndOffsets(false);
        publish();
        maybeCommit();
    }

    private void runCommands() {
        Object c;
        while ((c = commands.poll()) != null) {
            if (c instanceof Subscribe s) {
                subscribed = s.lanes();
                if (subscribed.isEmpty()) {
                    consumer.unsubscribe();
                } else {
                    List<String> wanted = new ArrayList<>();
                    for (String lane : subscribed) {
                        wanted.add(topics.laneTopic(lane));
                        wanted.add(topics.retryTopic(lane));
                    }
                    consumer.subscribe(wanted, this);
                }
            } else if (c instanceof Flush f) {
                processEndings();
                awaitPendingSends(f.timeout());
                f.done().complete(commitSync(assigned.keySet(), f.timeout()));
            }
        }
    }

    // ------------------------------------------------------------------ endings and sends

    private void processEndings() {
        KafkaLease.Ending e;
        while ((e = endings.poll()) != null) {
            Delivery d = e.lease().delivery();
            LaneBuffer lb = lanes.get(d.task().lane());
            if (lb != null) {
                lb.ended(e.lease());
            }
            PartitionState ps = current(d.tp(), d.epoch());
            if (ps == null) {
                continue; // the partition was revoked since; the record will be delivered again
            }
            switch (e.kind()) {
                case COMPLETED -> ps.tracker.complete(d.offset());
                case RELEASED -> released.computeIfAbsent(ps.lane, k -> new ArrayList<>()).add(d);
                case RETRIED -> send(retryRecord(d, e.notBefore(), e.reason()), d.tp(), d.offset(), d.epoch());
                case DEAD_LETTERED -> send(deadLetterRecord(d, e.reason()), d.tp(), d.offset(), d.epoch());
                default -> throw new AssertionError(e.kind());
            }
        }
    }

    private PartitionState current(TopicPartition tp, long epoch) {
        PartitionState ps = assigned.get(tp);
        return ps != null && ps.epoch == epoch ? ps : null;
    }

    private void send(ProducerRecord<byte[], byte[]> record, TopicPartition tp, long offset, long epoch) {
        PendingSend p = new PendingSend(record, tp, offset, epoch);
        p.future = trySend(record);
        pending.add(p);
    }

    private Future<RecordMetadata> trySend(ProducerRecord<byte[], byte[]> record) {
        try {
            return producer.send(record);
        } catch (KafkaException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void processPendingSends() {
        long now = System.nanoTime();
        Iterator<PendingSend> it = pending.iterator();
        while (it.hasNext()) {
            PendingSend p = it.next();
            if (!p.future.isDone()) {
                continue;
            }
            PartitionState ps = current(p.tp, p.epoch);
            try {
                p.future.get();
                if (ps != null) {
                    ps.tracker.complete(p.offset);
                }
                it.remove();
            } catch (ExecutionException | InterruptedException | RuntimeException e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (ps == null) {
                    it.remove(); // revoked: the original is delivered again by the new owner
                } else if (p.resendAtNanos == 0) {
                    LOG.warn("sending to " + p.record.topic() + " for " + p.tp + "@" + p.offset
                            + " failed; sending again", e);
                    p.resendAtNanos = now + RESEND_BACKOFF_NANOS;
                } else if (now - p.resendAtNanos >= 0) {
                    p.resendAtNanos = 0;
                    p.future = trySend(p.record);
                }
            }
        }
    }

    private boolean hasPending(Collection<TopicPartition> parts) {
        for (PendingSend p : pending) {
            if (parts.contains(p.tp)) {
                return true;
            }
        }
        return false;
    }

    private void awaitPendingSends(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pending.isEmpty() && System.nanoTime() - deadline < 0) {
            processPendingSends();
            if (!pending.isEmpty()) {
                sleepQuietly(5);
            }
        }
    }

    private ProducerRecord<byte[], byte[]> retryRecord(Delivery d, Instant notBefore, String reason) {
        Task next = d.task().withAttempt(d.task().attempt() + 1);
        RecordHeaders h = new RecordHeaders();
        h.add(KafkaTaskQueue.HEADER_NOT_BEFORE, utf8(Long.toString(notBefore.toEpochMilli())));
        h.add(KafkaTaskQueue.HEADER_RETRY_REASON, utf8(reason));
        return new ProducerRecord<>(topics.retryTopic(d.task().lane()), null, null, utf8(next.id()),
                TaskRecordCodec.encode(next), h);
    }

    private ProducerRecord<byte[], byte[]> deadLetterRecord(Delivery d, String reason) {
        return new ProducerRecord<>(topics.deadLetterTopic(d.task().lane()), null, null, utf8(d.task().id()),
                TaskRecordCodec.encode(d.task()), deadLetterHeaders(reason, d.tp(), d.offset()));
    }

    private RecordHeaders deadLetterHeaders(String reason, TopicPartition tp, long offset) {
        RecordHeaders h = new RecordHeaders();
        h.add(KafkaTaskQueue.HEADER_DLT_REASON, utf8(reason));
        h.add(KafkaTaskQueue.HEADER_DLT_ORIGIN, utf8(tp.topic() + "-" + tp.partition() + "@" + offset));
        h.add(KafkaTaskQueue.HEADER_DLT_TIME, utf8(now().toString()));
        return h;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ fetching

    private PriorityQueue<Delivery> delayedOf(String lane) {
        return delayed.computeIfAbsent(lane, k -> new PriorityQueue<>(Comparator.comparing(Delivery::notBefore)));
    }

    private List<Delivery> fetchedOf(String lane) {
        return fetched.computeIfAbsent(lane, k -> new ArrayList<>());
    }

    private void take(ConsumerRecords<byte[], byte[]> records) {
        int prefetch = config.prefetchPerLane();
        for (TopicPartition tp : records.partitions()) {
            PartitionState ps = assigned.get(tp);
            LaneBuffer lb = ps == null ? null : lanes.get(ps.lane);
            if (lb == null) {
                continue;
            }
            List<Delivery> batch = fetchedOf(ps.lane);
            PriorityQueue<Delivery> waiting = delayedOf(ps.lane);
            int readyNow = lb.readySize();
            for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
                boolean full = ps.retry ? waiting.size() >= prefetch : readyNow + batch.size() >= prefetch;
                if (full) {
                    // exact bound: leave this record and the rest of the batch in Kafka
                    consumer.seek(tp, rec.offset());
                    consumer.pause(List.of(tp));
                    break;
                }
                ps.tracker.track(rec.offset());
                if (ps.restored.isDone(rec.offset())) {
                    ps.tracker.complete(rec.offset()); // completed before the last owner's commit
                    continue;
                }
                Task task;
                try {
                    task = TaskRecordCodec.decode(rec.value()).withLane(ps.lane);
                } catch (InvalidTaskException | IllegalArgumentException e) {
                    deadLetterRaw(ps, rec, e.getMessage());
                    continue;
                }
                if (!ps.retry) {
                    batch.add(new Delivery(tp, rec.offset(), ps.epoch, task, Instant.ofEpochMilli(rec.timestamp()), null));
                    continue;
                }
                Instant notBefore;
                try {
                    Header h = rec.headers().lastHeader(KafkaTaskQueue.HEADER_NOT_BEFORE);
                    if (h == null) {
                        throw new IllegalArgumentException("retry record without header " + KafkaTaskQueue.HEADER_NOT_BEFORE);
                    }
                    notBefore = Instant.ofEpochMilli(Long.parseLong(new String(h.value(), StandardCharsets.UTF_8)));
                } catch (RuntimeException e) {
                    deadLetterRaw(ps, rec, "malformed retry record: " + e.getMessage());
                    continue;
                }
                waiting.add(new Delivery(tp, rec.offset(), ps.epoch, task, notBefore, notBefore));
            }
        }
    }

    private void deadLetterRaw(PartitionState ps, ConsumerRecord<byte[], byte[]> rec, String reason) {
        LOG.warn("record " + ps.tp + "@" + rec.offset() + " goes to the dead-letter topic: " + reason);
        ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(topics.deadLetterTopic(ps.lane), null, null, rec.key(),
                rec.value(), deadLetterHeaders(reason, ps.tp, rec.offset()));
        send(out, ps.tp, rec.offset(), ps.epoch);
    }

    private void moveDueRetries() {
        Instant now = now();
        int prefetch = config.prefetchPerLane();
        for (Map.Entry<String, PriorityQueue<Delivery>> e : delayed.entrySet()) {
            PriorityQueue<Delivery> q = e.getValue();
            if (q.isEmpty() || q.peek().notBefore().isAfter(now)) {
                continue;
            }
            LaneBuffer lb = lanes.get(e.getKey());
            List<Delivery> batch = fetchedOf(e.getKey());
            int room = prefetch - lb.readySize() - batch.size();
            while (room > 0 && !q.isEmpty() && !q.peek().notBefore().isAfter(now)) {
                batch.add(q.poll());
                room--;
            }
        }
    }

    private void applyPauses() {
        if (assigned.isEmpty()) {
            return;
        }
        int prefetch = config.prefetchPerLane();
        int resumeAt = prefetch / 2;
        Set<TopicPartition> paused = consumer.paused();
        List<TopicPartition> pause = new ArrayList<>();
        List<TopicPartition> resume = new ArrayList<>();
        Map<String, Integer> readySizes = new HashMap<>();
        for (PartitionState ps : assigned.values()) {
            LaneBuffer lb = lanes.get(ps.lane);
            int size = ps.retry ? delayedOf(ps.lane).size()
                    : readySizes.computeIfAbsent(ps.lane, l -> lb == null ? 0 : lb.readySize());
            boolean isPaused = paused.contains(ps.tp);
            if (!isPaused && size >= prefetch) {
                pause.add(ps.tp);
            } else if (isPaused && size <= resumeAt) {
                resume.add(ps.tp);
            }
        }
        if (!pause.isEmpty()) {
            consumer.pause(pause);
        }
        if (!resume.isEmpty()) {
            consumer.resume(resume);
        }
    }

    // ------------------------------------------------------------------ publishing and lag

    private void publish() {
        boolean added = false;
        Set<String> names = new HashSet<>(subscribed);
        names.addAll(fetched.keySet());
        names.addAll(released.keySet());
        Map<String, long[]> lag = laneLags();
        for (String lane : names) {
            LaneBuffer lb = lanes.get(lane);
            if (lb == null) {
                continue;
            }
            List<Delivery> front = currentOnly(released.get(lane));
            List<Delivery> back = currentOnly(fetched.get(lane));
            PriorityQueue<Delivery> q = delayed.get(lane);
            long[] l = lag.get(lane);
            boolean known = everAssigned && (l == null || l[1] == 0);
            added |= lb.publish(front, back, q == null ? 0 : q.size(), l == null ? 0 : l[0], known);
        }
        released.clear();
        fetched.clear();
        if (added) {
            notifyListener();
        }
    }

    private List<Delivery> currentOnly(List<Delivery> ds) {
        if (ds == null || ds.isEmpty()) {
            return List.of();
        }
        List<Delivery> out = new ArrayList<>(ds.size());
        for (Delivery d : ds) {
            if (current(d.tp(), d.epoch()) != null) {
                out.add(d);
            }
        }
        return out;
    }

    /** @return lane → {lag, partitions of unknown lag} */
    private Map<String, long[]> laneLags() {
        Map<String, long[]> out = new HashMap<>();
        for (PartitionState ps : assigned.values()) {
            long[] l = out.computeIfAbsent(ps.lane, k -> new long[2]);
            long lag = lagOf(ps.tp);
            if (lag < 0) {
                l[1]++;
            } else {
                l[0] += lag;
            }
        }
        return out;
    }

    /** @return records of the partition not yet fetched, or -1 if unknown */
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
                // position not known yet
            }
        }
        return best;
    }

    private void refreshEndOffsets(boolean now) {
        long t = System.nanoTime();
        if (assigned.isEmpty() || (!now && t - lastLagRefreshNanos < config.lagRefreshInterval().toNanos())) {
            return;
        }
        lastLagRefreshNanos = t;
        try {
            endOffsets.putAll(consumer.endOffsets(assigned.keySet(), Duration.ofSeconds(2)));
        } catch (KafkaException e) {
            LOG.debug("could not refresh end offsets: " + e);
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

    // ------------------------------------------------------------------ commits

    private Map<TopicPartition, OffsetAndMetadata> toCommit(Collection<TopicPartition> parts) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : parts) {
            PartitionState ps = assigned.get(tp);
            if (ps == null) {
                continue;
            }
            long c = ps.tracker.committable();
            if (c < 0) {
                continue;
            }
            String metadata = ps.tracker.commitMetadata(MAX_METADATA_CHARS);
            if (c > ps.lastCommitted || (c == ps.lastCommitted && !metadata.equals(ps.lastMetadata))) {
                offsets.put(tp, new OffsetAndMetadata(c, metadata));
            }
        }
        return offsets;
    }

    private void maybeCommit() {
        long t = System.nanoTime();
        if (t - lastCommitNanos < config.commitInterval().toNanos()) {
            return;
        }
        lastCommitNanos = t;
        Map<TopicPartition, OffsetAndMetadata> offsets = toCommit(assigned.keySet());
        if (offsets.isEmpty()) {
            return;
        }
        Map<TopicPartition, PartitionState> states = new HashMap<>();
        offsets.keySet().forEach(tp -> states.put(tp, assigned.get(tp)));
        consumer.commitAsync(offsets, (done, error) -> {
            if (error != null) {
                LOG.debug("asynchronous commit failed (repeated at the next interval): " + error);
                return;
            }
            done.forEach((tp, om) -> {
                PartitionState ps = states.get(tp);
                if (ps != null && assigned.get(tp) == ps) {
                    noteCommitted(ps, om);
                }
            });
        });
    }

    private static void noteCommitted(PartitionState ps, OffsetAndMetadata om) {
        if (om.offset() >= ps.lastCommitted) {
            ps.lastCommitted = om.offset();
            ps.lastMetadata = om.metadata();
        }
    }

    private boolean commitSync(Collection<TopicPartition> parts, Duration timeout) {
        Map<TopicPartition, OffsetAndMetadata> offsets = toCommit(parts);
        if (offsets.isEmpty()) {
            return true;
        }
        try {
            consumer.commitSync(offsets, timeout);
            offsets.forEach((tp, om) -> {
                PartitionState ps = assigned.get(tp);
                if (ps != null) {
                    noteCommitted(ps, om);
                }
            });
            return true;
        } catch (KafkaException e) {
            LOG.warn("commit of " + offsets + " failed; those records will be delivered again", e);
            return false;
        }
    }

    // ------------------------------------------------------------------ rebalance

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> parts) {
        everAssigned = true;
        for (TopicPartition tp : parts) {
            String lane = topics.laneOf(tp.topic()).orElse(null);
            if (lane == null || !lanes.containsKey(lane)) {
                continue;
            }
            assigned.put(tp, new PartitionState(tp, lane, topics.isRetryTopic(tp.topic()), ++epochs));
        }
        restoreCompleted(parts);
        applyPauses(); // re-apply the pause state of full lanes before the first fetch
        refreshEndOffsets(true);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> parts) {
        if (!finishing && !parts.isEmpty()) {
            revoke(parts, true);
        }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> parts) {
        if (!finishing && !parts.isEmpty()) {
            revoke(parts, false);
        }
    }

    /** Reads the committed offsets' metadata: what the previous owner completed out of order. */
    private void restoreCompleted(Collection<TopicPartition> parts) {
        Set<TopicPartition> ours = new HashSet<>(parts);
        ours.retainAll(assigned.keySet());
        if (ours.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> committed;
        try {
            committed = consumer.committed(ours, Duration.ofSeconds(10));
        } catch (KafkaException e) {
            LOG.warn("could not read committed offsets; records completed out of order before the"
                    + " last commit may be delivered again", e);
            return;
        }
        committed.forEach((tp, om) -> {
            PartitionState ps = assigned.get(tp);
            if (ps != null && om != null) {
                ps.restored = OffsetTracker.restore(om.offset(), om.metadata());
                ps.lastCommitted = om.offset();
                ps.lastMetadata = om.metadata() == null ? "" : om.metadata();
            }
        });
    }

    private void revoke(Collection<TopicPartition> parts, boolean graceful) {
        Set<TopicPartition> revoked = new HashSet<>(parts);
        lanes.values().forEach(lb -> lb.dropReady(revoked));
        delayed.values().forEach(q -> q.removeIf(d -> revoked.contains(d.tp())));
        if (graceful) {
            long deadline = System.nanoTime() + config.revocationTimeout().toNanos();
            while (true) {
                processEndings();
                processPendingSends();
                boolean active = false;
                for (LaneBuffer lb : lanes.values()) {
                    active |= lb.hasActive(revoked);
                }
                if (!active && !hasPending(revoked)) {
                    break;
                }
                if (System.nanoTime() - deadline > 0) {
                    LOG.warn("revocation timeout " + config.revocationTimeout() + " passed with leases of "
                            + revoked + " still open; they are lost and their tasks will be delivered again");
                    break;
                }
                sleepQuietly(5);
            }
            commitSync(revoked, config.revocationTimeout());
        }
        lanes.values().forEach(lb -> lb.loseLeases(revoked, l -> { }));
        for (TopicPartition tp : revoked) {
            assigned.remove(tp);
            endOffsets.remove(tp);
        }
        pending.removeIf(p -> revoked.contains(p.tp));
    }

    // ------------------------------------------------------------------ stopping

    private void finish(Stop how) {
        finishing = true;
        if (how == Stop.CLOSE) {
            runCommands();
            processEndings();
            awaitPendingSends(config.revocationTimeout());
            lanes.values().forEach(lb -> {
                lb.close();
                lb.loseLeases(null, l -> { });
            });
            processEndings(); // endings that won the race against close
            awaitPendingSends(config.revocationTimeout());
            commitSync(assigned.keySet(), config.revocationTimeout());
            consumer.close(CloseOptions.timeout(config.revocationTimeout()));
        } else {
            // a crash: nothing more is committed or produced
            lanes.values().forEach(lb -> {
                lb.close();
                lb.loseLeases(null, l -> { });
            });
            consumer.close(CloseOptions.groupMembershipOperation(how == Stop.CRASH_LEAVE_GROUP
                    ? CloseOptions.GroupMembershipOperation.LEAVE_GROUP
                    : CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP).withTimeout(Duration.ofSeconds(5)));
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptException(e);
        }
    }
}
