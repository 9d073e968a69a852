package dev.relay.kafka;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.Task;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * Record intake: turns fetched records into deliveries and keeps each lane within its prefetch bound.
 *
 * <h2>The path of a record</h2>
 * <ol>
 *   <li>fetched by {@code poll}; if its lane has no room it is <em>held</em> (raw, undecoded) and its partition
 *       paused — no seek, no second fetch — until the engine drained the lane ({@link LaneBuffer#wantRoom});
 *   <li>tracked ({@link OffsetTracker#track}: a record that completed before the last commit is skipped) and
 *       decoded; a record that does not decode goes to the dead letters with the reason;
 *   <li>a retry record waits in its lane's delay queue until its not-before time;
 *   <li>a record that has been through a crash goes to {@link Probation}; any other is <em>armed</em>: it waits
 *       for the commit that names it armed ({@link OffsetCommitter}), and only then is it published to the
 *       lane's {@link LaneBuffer} ({@link #armed}).
 * </ol>
 * Bound: per lane, ready + arming + on probation ≤ prefetch, and delayed ≤ prefetch; plus at most one poll's
 * worth of held records. A partition is paused while it holds records or its lane is full, and resumed once the
 * lane is down to half.
 *
 * <p>Not threadsafe: owned by the consumer thread.
 */
final class Intake {

    private final int prefetch;
    private final Consumer<byte[], byte[]> consumer;
    private final Partitions partitions;
    private final Map<String, LaneBuffer> lanes;
    private final OutcomeProducer outcomes;
    private final Probation probation;
    private final Clock clock;
    private final Map<String, PriorityQueue<Delivery>> delayed = new HashMap<>();
    private final Map<String, List<Delivery>> released = new HashMap<>();
    private final Map<String, List<Delivery>> armed = new HashMap<>();

    Intake(QueueConfig config, Consumer<byte[], byte[]> consumer, Partitions partitions, Map<String, LaneBuffer> lanes,
            OutcomeProducer outcomes, Probation probation) {
        this.prefetch = config.prefetchPerLane();
        this.consumer = consumer;
        this.partitions = partitions;
        this.lanes = lanes;
        this.outcomes = outcomes;
        this.probation = probation;
        this.clock = config.clock();
    }

    /** Takes the records of a poll in, as far as their lanes have room; holds the rest. */
    void take(ConsumerRecords<byte[], byte[]> records) {
        if (records.isEmpty()) {
            return;
        }
        Map<String, Integer> load = loads();
        for (TopicPartition tp : records.partitions()) {
            PartitionState ps = partitions.get(tp);
            if (ps == null) {
                continue;
            }
            ps.held.addAll(records.records(tp));
            admit(ps, load);
        }
    }

    /** Takes held records in where their lanes have room again. */
    void drainHeld() {
        Map<String, Integer> load = null;
        for (PartitionState ps : partitions.all()) {
            if (!ps.held.isEmpty()) {
                if (load == null) {
                    load = loads();
                }
                admit(ps, load);
            }
        }
    }

    private void admit(PartitionState ps, Map<String, Integer> load) {
        PriorityQueue<Delivery> waiting = delayedOf(ps.lane);
        while (!ps.held.isEmpty()) {
            if (ps.retry ? waiting.size() >= prefetch : load.getOrDefault(ps.lane, 0) >= prefetch) {
                return; // the rest stays held; applyPauses pauses the partition
            }
            ConsumerRecord<byte[], byte[]> rec = ps.held.poll();
            int crashes = ps.tracker.track(rec.offset());
            if (crashes == OffsetTracker.DONE) {
                continue; // completed before the last commit (out of order), or fetched twice
            }
            Task task;
            try {
                task = TaskRecordCodec.decode(rec.value()).withLane(ps.lane);
            } catch (InvalidTaskException | IllegalArgumentException e) {
                outcomes.deadLetterRaw(ps, rec, e.getMessage());
                continue;
            }
            if (crashes > 0) {
                task = task.withAttempt(task.attempt() + crashes);
            }
            if (ps.retry) {
                Instant notBefore;
                try {
                    notBefore = notBefore(rec);
                } catch (RuntimeException e) {
                    outcomes.deadLetterRaw(ps, rec, "malformed retry record: " + e.getMessage());
                    continue;
                }
                waiting.add(new Delivery(ps.tp, rec.offset(), ps.epoch, task, notBefore, notBefore));
            } else {
                arm(ps, new Delivery(ps.tp, rec.offset(), ps.epoch, task, Instant.ofEpochMilli(rec.timestamp()), null), crashes);
                load.merge(ps.lane, 1, Integer::sum);
            }
        }
    }

    private static Instant notBefore(ConsumerRecord<byte[], byte[]> rec) {
        Header h = rec.headers().lastHeader(TaskRecordCodec.HEADER_NOT_BEFORE);
        if (h == null) {
            throw new IllegalArgumentException("retry record without header " + TaskRecordCodec.HEADER_NOT_BEFORE);
        }
        return Instant.ofEpochMilli(Long.parseLong(new String(h.value(), StandardCharsets.UTF_8)));
    }

    /** A delivery that may be handed out: to probation if it has been through a crash, else armed. */
    private void arm(PartitionState ps, Delivery d, int crashes) {
        if (crashes > 0) {
            probation.suspect(d, crashes);
        } else {
            ps.tracker.arm(d.offset());
            ps.arming.add(d);
        }
    }

    /** Moves due retries from the delay queues towards the ready buffers, as far as their lanes have room. */
    void moveDueRetries() {
        Instant now = clock.instant();
        Map<String, Integer> load = null;
        for (Map.Entry<String, PriorityQueue<Delivery>> e : delayed.entrySet()) {
            PriorityQueue<Delivery> q = e.getValue();
            if (q.isEmpty() || q.peek().notBefore().isAfter(now)) {
                continue;
            }
            if (load == null) {
                load = loads();
            }
            while (!q.isEmpty() && !q.peek().notBefore().isAfter(now) && load.getOrDefault(e.getKey(), 0) < prefetch) {
                Delivery d = q.poll();
                PartitionState ps = partitions.current(d.tp(), d.epoch());
                if (ps != null && ps.tracker.isOutstanding(d.offset())) {
                    arm(ps, d, ps.tracker.crashes(d.offset()));
                    load.merge(e.getKey(), 1, Integer::sum);
                }
            }
        }
    }

    /**
     * @return the earliest not-before time of a delayed retry still in the future, epoch millis, or
     *         Long.MAX_VALUE (a due retry waiting for room is taken in when the engine drains its lane)
     */
    long nextDue() {
        long now = clock.millis();
        long next = Long.MAX_VALUE;
        for (PriorityQueue<Delivery> q : delayed.values()) {
            for (Delivery d : q) {
                long t = d.notBefore().toEpochMilli();
                if (t > now && t < next) {
                    next = t;
                }
            }
        }
        return next;
    }

    /** A released lease's delivery goes back to the head of its lane, same attempt (it stays armed). */
    void released(Delivery d) {
        released.computeIfAbsent(d.task().lane(), k -> new ArrayList<>()).add(d);
    }

    /** Deliveries whose arming commit the broker acknowledged: ready to be handed out. */
    void armed(List<Delivery> ds) {
        for (Delivery d : ds) {
            armed.computeIfAbsent(d.task().lane(), k -> new ArrayList<>()).add(d);
        }
    }

    /**
     * Pauses the partitions that hold records or whose lane is full, resumes those whose lane is down to half,
     * and asks each full lane's buffer for a wake-up when the engine drained it.
     */
    void applyPauses() {
        if (partitions.isEmpty()) {
            return;
        }
        Map<String, Integer> load = loads();
        Set<TopicPartition> paused = consumer.paused();
        List<TopicPartition> pause = new ArrayList<>();
        List<TopicPartition> resume = new ArrayList<>();
        Set<String> full = new HashSet<>();
        int resumeAt = prefetch / 2;
        for (PartitionState ps : partitions.all()) {
            int size = ps.retry ? delayedOf(ps.lane).size() : load.getOrDefault(ps.lane, 0);
            boolean isPaused = paused.contains(ps.tp);
            if (!ps.held.isEmpty() || size >= prefetch) {
                if (!isPaused) {
                    pause.add(ps.tp);
                }
                if (!ps.retry) {
                    full.add(ps.lane);
                }
            } else if (isPaused && size <= resumeAt) {
                resume.add(ps.tp);
            } else if (isPaused && !ps.retry) {
                full.add(ps.lane);
            }
        }
        if (!pause.isEmpty()) {
            consumer.pause(pause);
        }
        if (!resume.isEmpty()) {
            consumer.resume(resume);
        }
        for (String lane : full) {
            LaneBuffer lb = lanes.get(lane);
            if (lb != null) {
                // the buffer compares ready + pending (published with the counts): a lane full of deliveries whose
                // arming commit is in flight still wakes the loop when the engine drains them
                lb.wantRoom(resumeAt);
            }
        }
    }

    /** @return per lane: ready in its buffer + arming + on probation (what counts against its prefetch) */
    private Map<String, Integer> loads() {
        Map<String, Integer> load = new HashMap<>();
        for (Map.Entry<String, LaneBuffer> e : lanes.entrySet()) {
            load.put(e.getKey(), e.getValue().readySize() + probation.count(e.getKey()) + listSize(armed.get(e.getKey())));
        }
        for (PartitionState ps : partitions.all()) {
            if (ps.armingCount() > 0) {
                load.merge(ps.lane, ps.armingCount(), Integer::sum);
            }
        }
        return load;
    }

    private static int listSize(List<Delivery> l) {
        return l == null ? 0 : l.size();
    }

    /**
     * Publishes the released and armed deliveries and each lane's counts to the lane buffers.
     *
     * @param lags the lag meter
     * @return whether deliveries became ready
     */
    boolean publish(LagMeter lags) {
        boolean added = false;
        Map<String, long[]> waiting = new HashMap<>();
        Map<String, int[]> arming = new HashMap<>();
        for (PartitionState ps : partitions.all()) {
            long[] w = waiting.computeIfAbsent(ps.lane, k -> new long[1]);
            w[0] += ps.held.size() + ps.armingCount();
            arming.computeIfAbsent(ps.lane, k -> new int[1])[0] += ps.armingCount();
        }
        for (Map.Entry<String, LaneBuffer> e : lanes.entrySet()) {
            String lane = e.getKey();
            List<Delivery> front = currentOnly(released.remove(lane));
            List<Delivery> back = currentOnly(armed.remove(lane));
            PriorityQueue<Delivery> q = delayed.get(lane);
            int delayedCount = q == null ? 0 : q.size();
            long[] w = waiting.get(lane);
            long waitingCount = delayedCount + (w == null ? 0 : w[0]) + probation.count(lane);
            int[] a = arming.get(lane);
            int pending = (a == null ? 0 : a[0]) + probation.count(lane);
            added |= e.getValue().publish(front, back, delayedCount, waitingCount, pending, lags.lag(lane), lags.known(lane));
        }
        return added;
    }

    private List<Delivery> currentOnly(List<Delivery> ds) {
        if (ds == null || ds.isEmpty()) {
            return List.of();
        }
        List<Delivery> out = new ArrayList<>(ds.size());
        for (Delivery d : ds) {
            if (partitions.current(d.tp(), d.epoch()) != null) {
                out.add(d);
            }
        }
        return out;
    }

    /** Forgets everything of revoked partitions that is not handed out yet. */
    void drop(Collection<TopicPartition> parts) {
        delayed.values().forEach(q -> q.removeIf(d -> parts.contains(d.tp())));
        released.values().forEach(l -> l.removeIf(d -> parts.contains(d.tp())));
        armed.values().forEach(l -> l.removeIf(d -> parts.contains(d.tp())));
    }

    private PriorityQueue<Delivery> delayedOf(String lane) {
        return delayed.computeIfAbsent(lane, k -> new PriorityQueue<>(Comparator.comparing(Delivery::notBefore)));
    }

    /** @return how many retries of the lane wait for their time */
    int delayedCount(String lane) {
        PriorityQueue<Delivery> q = delayed.get(lane);
        return q == null ? 0 : q.size();
    }
}
