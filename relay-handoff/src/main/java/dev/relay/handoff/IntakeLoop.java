package dev.relay.handoff;

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
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The uploader host's intake: the one thread that owns the consumer of the lanes' tasks topics and every offset.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li><b>Committed hand-offs only.</b> The consumer reads {@code read_committed}: a manifest it sees belongs to a
 *       committed transaction, so every chunk it lists is committed (HandoffSink invariant 1).
 *   <li><b>Offsets after the load.</b> A tasks-topic record is <em>outstanding</em> from the moment it is fetched
 *       until its lease completes (the engine completes a lease only after the sink committed), its dead letter is
 *       acknowledged, or its partition is revoked. A partition's committed offset is its lowest outstanding offset (or
 *       the next offset to fetch when none is outstanding), so it never passes a task whose load has not committed,
 *       however the tasks of several puller processes interleave and in whatever order loads finish. A crash
 *       re-delivers the outstanding tasks and perhaps some above them that completed; loads are idempotent on the
 *       task id.
 *   <li><b>Bounded intake.</b> A lane holds at most {@code prefetch} leases ready or waiting for a retry; its
 *       partitions are paused at that bound (a record over it is sought back, so the bound is exact) and resumed at
 *       half of it. Chunk data is never fetched here: only manifests, a few hundred bytes each.
 *   <li><b>One owner.</b> Only this thread touches the consumer, the per-partition state and the retry queues.
 *       Other threads talk to it through two mailboxes (lease endings, commands); leases go out through each
 *       lane's ready deque, which {@code poll} drains from the engine's thread.
 *   <li><b>Epochs.</b> Each assignment of a partition gets a new epoch; on revocation its leases are marked lost
 *       (ending one throws {@code LeaseLostException}) and endings of an older epoch are ignored, so a stale ending
 *       never touches a new owner's offsets.
 * </ol>
 *
 * <p>Not threadsafe, except {@link #submit}, {@link #subscribe} and {@link #stop}.
 */
final class IntakeLoop implements Runnable, ConsumerRebalanceListener {

    private static final Logger LOG = LoggerFactory.getLogger(IntakeLoop.class);
    /** Wait before re-sending a dead letter whose send failed. */
    private static final long RESEND_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** Wait after an unexpected error in the loop before the next turn. */
    private static final long ERROR_BACKOFF_MILLIS = 500;

    static final String HEADER_REASON = "relay.dead.reason";
    static final String HEADER_ORIGIN = "relay.dead.origin";
    static final String HEADER_TIME = "relay.dead.time";

    private record Subscribe(Set<String> lanes) {
    }

    private static final class PartitionState {
        final TopicPartition tp;
        final String lane;
        final long epoch;
        /** Outstanding offsets → their current lease (null for a record being dead-lettered raw). */
        final TreeMap<Long, HandoffLease> outstanding = new TreeMap<>();
        long next = -1;

        PartitionState(TopicPartition tp, String lane, long epoch) {
            this.tp = tp;
            this.lane = lane;
            this.epoch = epoch;
        }

        long committable() {
            return outstanding.isEmpty() ? next : outstanding.firstKey();
        }
    }

    private static final class PendingSend {
        final ProducerRecord<byte[], byte[]> record;
        final TopicPartition tp;
        final long offset;
        final long epoch;
        final Runnable onAck;
        Future<RecordMetadata> future;
        long resendAtNanos;

        PendingSend(ProducerRecord<byte[], byte[]> record, TopicPartition tp, long offset, long epoch, Runnable onAck) {
            this.record = record;
            this.tp = tp;
            this.offset = offset;
            this.epoch = epoch;
            this.onAck = onAck;
        }
    }

    private record Delayed(Instant due, HandoffLease lease) {
    }

    private final HandoffSource.Config config;
    private final Consumer<byte[], byte[]> consumer;
    private final Producer<byte[], byte[]> producer;
    private final Map<String, HandoffSource.LaneState> lanes;
    private final HandoffSource.Leases leases;
    private final ConcurrentLinkedQueue<HandoffLease.Ending> endings = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Object> commands = new ConcurrentLinkedQueue<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean stopping;

    // ---- owned by the loop thread ----
    private final Map<TopicPartition, PartitionState> assigned = new HashMap<>();
    private final Map<String, PriorityQueue<Delayed>> delayed = new HashMap<>();
    private final List<PendingSend> pending = new ArrayList<>();
    private final Map<TopicPartition, Long> endOffsets = new HashMap<>();
    private Set<String> subscribed = Set.of();
    private long epochs;
    private long lastCommitNanos = System.nanoTime();
    private long lastEndRefreshNanos;

    IntakeLoop(HandoffSource.Config config, Consumer<byte[], byte[]> consumer, Producer<byte[], byte[]> producer,
            Map<String, HandoffSource.LaneState> lanes, HandoffSource.Leases leases) {
        this.config = config;
        this.consumer = consumer;
        this.producer = producer;
        this.lanes = lanes;
        this.leases = leases;
        this.thread = config.threadFactory().newThread(this);
    }

    void start() {
        thread.start();
    }

    void submit(HandoffLease.Ending ending) {
        endings.add(ending);
    }

    void subscribe(Set<String> laneNames) {
        commands.add(new Subscribe(Set.copyOf(laneNames)));
    }

    boolean stop(Duration timeout) throws InterruptedException {
        stopping = true;
        if (Thread.currentThread() == thread) {
            return false;
        }
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ------------------------------------------------------------------ the loop

    @Override
    public void run() {
        try {
            while (!stopping) {
                try {
                    turn();
                } catch (InterruptException e) {
                    LOG.warn("hand-off intake thread interrupted; closing", e);
                    stopping = true;
                } catch (RuntimeException e) {
                    LOG.warn("error in the hand-off intake of group {}; carrying on", config.groupId(), e);
                    sleepQuietly(ERROR_BACKOFF_MILLIS);
                }
            }
            finish();
        } catch (RuntimeException | Error e) {
            LOG.error("hand-off intake of group {} failed while stopping", config.groupId(), e);
        } finally {
            finished.countDown();
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
                    List<String> topics = new ArrayList<>();
                    for (String lane : subscribed) {
                        topics.add(config.topics().tasksTopic(lane));
                    }
                    consumer.subscribe(topics, this);
                }
            }
        }
    }

    // ------------------------------------------------------------------ endings

    private void processEndings() {
        HandoffLease.Ending e;
        while ((e = endings.poll()) != null) {
            HandoffLease lease = e.lease();
            leases.remove(lease);
            PartitionState ps = current(lease.tp, lease.epoch);
            if (ps == null) {
                continue; // revoked since: the new owner delivers the record again
            }
            HandoffSource.LaneState lane = lanes.get(ps.lane);
            switch (e.kind()) {
                case COMPLETED -> {
                    ps.outstanding.remove(lease.offset);
                    if (lane != null) {
                        lane.completed(lease);
                    }
                    if (lease.read) {
                        notify(l -> l.loaded(lease.manifest));
                    } else {
                        notify(l -> l.skipped(lease.manifest));
                    }
                }
                case RELEASED -> {
                    HandoffLease again = lease.next(lease.task.attempt());
                    ps.outstanding.put(lease.offset, again);
                    if (lane != null) {
                        lane.ready.addFirst(again);
                        lane.notifyAvailable();
                    }
                }
                case RETRIED -> {
                    HandoffLease again = lease.next(lease.task.attempt() + 1);
                    ps.outstanding.put(lease.offset, again);
                    delayedOf(ps.lane).add(new Delayed(config.clock().instant().plus(e.delay()), again));
                }
                case DEAD_LETTERED -> {
                    ps.outstanding.put(lease.offset, null);
                    String reason = e.reason();
                    send(deadLetter(ps, lease.offset, lease.task.id().getBytes(StandardCharsets.UTF_8), lease.value, reason),
                            ps, lease.offset, () -> {
                                if (lane != null) {
                                    lane.deadLettered.incrementAndGet();
                                }
                                notify(l -> l.deadLettered(ps.lane, lease.manifest, reason));
                            });
                }
                default -> throw new AssertionError(e.kind());
            }
        }
    }

    private void notify(java.util.function.Consumer<UploadListener> call) {
        try {
            call.accept(config.listener());
        } catch (RuntimeException ex) {
            LOG.warn("upload listener failed", ex);
        }
    }

    private PartitionState current(TopicPartition tp, long epoch) {
        PartitionState ps = assigned.get(tp);
        return ps != null && ps.epoch == epoch ? ps : null;
    }

    private ProducerRecord<byte[], byte[]> deadLetter(PartitionState ps, long offset, byte[] key, byte[] value, String reason) {
        RecordHeaders h = new RecordHeaders();
        h.add(HEADER_REASON, reason.getBytes(StandardCharsets.UTF_8));
        h.add(HEADER_ORIGIN, (ps.tp.topic() + "-" + ps.tp.partition() + "@" + offset).getBytes(StandardCharsets.UTF_8));
        h.add(HEADER_TIME, config.clock().instant().toString().getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(config.topics().deadLetterTopic(ps.lane), null, null, key, value, h);
    }

    private void send(ProducerRecord<byte[], byte[]> record, PartitionState ps, long offset, Runnable onAck) {
        PendingSend p = new PendingSend(record, ps.tp, offset, ps.epoch, onAck);
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
                it.remove();
                if (ps != null) {
                    ps.outstanding.remove(p.offset);
                    p.onAck.run();
                }
            } catch (ExecutionException | InterruptedException | RuntimeException e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (ps == null) {
                    it.remove();
                } else if (p.resendAtNanos == 0) {
                    LOG.warn("sending a dead letter to {} for {}@{} failed; sending again", p.record.topic(), p.tp, p.offset, e);
                    p.resendAtNanos = now + RESEND_BACKOFF_NANOS;
                } else if (now - p.resendAtNanos >= 0) {
                    p.resendAtNanos = 0;
                    p.future = trySend(p.record);
                }
            }
        }
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

    // ------------------------------------------------------------------ intake

    private PriorityQueue<Delayed> delayedOf(String lane) {
        return delayed.computeIfAbsent(lane, k -> new PriorityQueue<>(Comparator.comparing(Delayed::due)));
    }

    private int held(String lane) {
        HandoffSource.LaneState ls = lanes.get(lane);
        PriorityQueue<Delayed> q = delayed.get(lane);
        return (ls == null ? 0 : ls.ready.size()) + (q == null ? 0 : q.size());
    }

    private void take(ConsumerRecords<byte[], byte[]> records) {
        int prefetch = config.prefetchPerLane();
        for (TopicPartition tp : records.partitions()) {
            PartitionState ps = assigned.get(tp);
            HandoffSource.LaneState lane = ps == null ? null : lanes.get(ps.lane);
            if (lane == null) {
                continue;
            }
            int held = held(ps.lane);
            boolean added = false;
            for (ConsumerRecord<byte[], byte[]> rec : records.records(tp)) {
                if (held >= prefetch) {
                    consumer.seek(tp, rec.offset()); // exact bound: leave the rest in Kafka
                    consumer.pause(List.of(tp));
                    break;
                }
                ps.next = rec.offset() + 1;
                Manifest m;
                try {
                    m = HandoffFormat.STANDARD.decodeManifest(rec.value());
                } catch (MalformedRecordException e) {
                    String reason = "malformed tasks-topic record: " + e.getMessage();
                    LOG.warn("{}@{} goes to the dead-letter topic: {}", tp, rec.offset(), reason);
                    ps.outstanding.put(rec.offset(), null);
                    send(deadLetter(ps, rec.offset(), rec.key(), rec.value(), reason), ps, rec.offset(), () -> {
                        lane.deadLettered.incrementAndGet();
                        notify(l -> l.deadLettered(ps.lane, null, reason));
                    });
                    continue;
                }
                HandoffLease lease = new HandoffLease(m, m.task().withAttempt(1), tp, rec.offset(), ps.epoch, rec.value(), this);
                ps.outstanding.put(rec.offset(), lease);
                lane.ready.addLast(lease);
                held++;
                added = true;
            }
            if (added) {
                lane.notifyAvailable();
            }
        }
    }

    private void moveDueRetries() {
        Instant now = config.clock().instant();
        for (Map.Entry<String, PriorityQueue<Delayed>> e : delayed.entrySet()) {
            PriorityQueue<Delayed> q = e.getValue();
            HandoffSource.LaneState lane = lanes.get(e.getKey());
            boolean moved = false;
            while (!q.isEmpty() && !q.peek().due().isAfter(now)) {
                HandoffLease l = q.poll().lease();
                if (lane != null && current(l.tp, l.epoch) != null) {
                    lane.ready.addLast(l);
                    moved = true;
                }
            }
            if (moved) {
                lane.notifyAvailable();
            }
        }
    }

    private void applyPauses() {
        if (assigned.isEmpty()) {
            return;
        }
        int prefetch = config.prefetchPerLane();
        Set<TopicPartition> paused = consumer.paused();
        List<TopicPartition> pause = new ArrayList<>();
        List<TopicPartition> resume = new ArrayList<>();
        for (PartitionState ps : assigned.values()) {
            int held = held(ps.lane);
            boolean isPaused = paused.contains(ps.tp);
            if (!isPaused && held >= prefetch) {
                pause.add(ps.tp);
            } else if (isPaused && held <= prefetch / 2) {
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

    // ------------------------------------------------------------------ lag

    private void publish() {
        Map<String, long[]> perLane = new HashMap<>(); // outstanding, unfetched offsets, oldest hand-off millis
        for (PartitionState ps : assigned.values()) {
            long[] l = perLane.computeIfAbsent(ps.lane, k -> new long[] {0, 0, Long.MAX_VALUE});
            for (HandoffLease lease : ps.outstanding.values()) {
                l[0]++;
                if (lease != null) {
                    l[2] = Math.min(l[2], lease.manifest.handedOffAt().toEpochMilli());
                }
            }
            // each committed hand-off is a manifest and a transaction marker in the tasks partition
            java.util.OptionalLong lag = consumer.currentLag(ps.tp);
            Long end = endOffsets.get(ps.tp);
            if (lag.isPresent()) {
                l[1] += lag.getAsLong() / 2;
            } else if (end != null) {
                l[1] += Math.max(0, end - Math.max(0, ps.next)) / 2; // nothing fetched yet: an upper bound
            }
        }
        for (Map.Entry<String, HandoffSource.LaneState> e : lanes.entrySet()) {
            long[] l = perLane.get(e.getKey());
            e.getValue().publishLag(l == null ? 0 : l[0] + l[1],
                    l == null || l[2] == Long.MAX_VALUE ? null : Instant.ofEpochMilli(l[2]), l != null);
        }
    }

    private void refreshEndOffsets(boolean now) {
        long t = System.nanoTime();
        if (assigned.isEmpty() || (!now && t - lastEndRefreshNanos < config.lagRefreshInterval().toNanos())) {
            return;
        }
        lastEndRefreshNanos = t;
        try {
            endOffsets.putAll(consumer.endOffsets(assigned.keySet(), Duration.ofSeconds(2)));
        } catch (KafkaException e) {
            LOG.debug("could not refresh end offsets: {}", e.toString());
        }
    }

    // ------------------------------------------------------------------ commits

    private Map<TopicPartition, OffsetAndMetadata> toCommit(Collection<TopicPartition> parts) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : parts) {
            PartitionState ps = assigned.get(tp);
            if (ps != null && ps.committable() >= 0) {
                offsets.put(tp, new OffsetAndMetadata(ps.committable()));
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
        if (!offsets.isEmpty()) {
            consumer.commitAsync(offsets, (done, error) -> {
                if (error != null) {
                    LOG.debug("asynchronous commit failed (repeated at the next interval): {}", error.toString());
                }
            });
        }
    }

    private void commitSync(Collection<TopicPartition> parts) {
        Map<TopicPartition, OffsetAndMetadata> offsets = toCommit(parts);
        if (offsets.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offsets, config.closeTimeout());
        } catch (KafkaException e) {
            LOG.warn("commit of {} failed; those tasks will be loaded again (idempotently)", offsets, e);
        }
    }

    // ------------------------------------------------------------------ rebalance

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> parts) {
        for (TopicPartition tp : parts) {
            String lane = config.topics().laneOfTasksTopic(tp.topic()).orElse(null);
            if (lane != null && lanes.containsKey(lane)) {
                assigned.put(tp, new PartitionState(tp, lane, ++epochs));
            }
        }
        applyPauses();
        refreshEndOffsets(true);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> parts) {
        revoke(parts, true);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> parts) {
        revoke(parts, false);
    }

    private void revoke(Collection<TopicPartition> parts, boolean commit) {
        if (parts.isEmpty()) {
            return;
        }
        Set<TopicPartition> revoked = new HashSet<>(parts);
        processEndings();
        processPendingSends();
        if (commit) {
            commitSync(revoked);
        }
        for (TopicPartition tp : revoked) {
            PartitionState ps = assigned.remove(tp);
            endOffsets.remove(tp);
            if (ps == null) {
                continue;
            }
            HandoffSource.LaneState lane = lanes.get(ps.lane);
            if (lane != null) {
                lane.ready.removeIf(l -> l.tp.equals(tp));
            }
            PriorityQueue<Delayed> q = delayed.get(ps.lane);
            if (q != null) {
                q.removeIf(d -> d.lease().tp.equals(tp));
            }
            for (HandoffLease l : ps.outstanding.values()) {
                if (l != null && l.lose()) {
                    leases.remove(l);
                }
            }
        }
        pending.removeIf(p -> revoked.contains(p.tp));
    }

    // ------------------------------------------------------------------ stopping

    private void finish() {
        runCommands();
        processEndings();
        awaitPendingSends(config.closeTimeout());
        processEndings();
        commitSync(assigned.keySet());
        for (PartitionState ps : assigned.values()) {
            for (HandoffLease l : ps.outstanding.values()) {
                if (l != null && l.lose()) {
                    leases.remove(l);
                }
            }
        }
        for (HandoffSource.LaneState lane : lanes.values()) {
            lane.ready.clear();
        }
        try {
            consumer.close(CloseOptions.timeout(config.closeTimeout()));
        } catch (RuntimeException e) {
            LOG.warn("closing the hand-off intake consumer failed", e);
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
