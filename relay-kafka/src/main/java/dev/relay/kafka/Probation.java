package dev.relay.kafka;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the deliveries that have been through a crash one at a time, alone, so that a crash while one runs is
 * charged to it alone.
 *
 * <h2>Why</h2>
 * A task that kills the process (a JVM crash in a driver, {@code kill -9} by an OOM killer, {@code halt}) ends no
 * lease. After the restart its record comes back; the last commit armed it (it may have been running), so the
 * crash is counted for it ({@link OffsetTracker#restore}) — but also for every other record that commit armed:
 * the ready ones and those buffered in the engine. Counted alone, the innocent would reach the lane's maximum
 * attempts together with the poison. So a record with a crash count is a <em>suspect</em>, and suspects run on
 * probation.
 *
 * <h2>Protocol</h2>
 * <ol>
 *   <li>While suspects wait, the gate of every lane buffer closes: nothing new is handed out. Leases already
 *       out run to their end.
 *   <li>Once no lease is open (or the quiet wait, the revocation timeout, passed), the next suspect's offset is
 *       committed as the partition's probation record, synchronously, with every other partition's commit
 *       naming as armed only its open leases; then the suspect is handed out, alone.
 *   <li>When its ending arrives, the next suspect follows; after the last, a normal commit (naming the ready
 *       deliveries armed again) and the gates open. A suspect still running after the
 *       {@linkplain KafkaTaskQueue.Builder#probationTimeout probation timeout} is a long task, not a crash: the
 *       next suspect joins it (a crash then is charged to both, which is what the commits say).
 * </ol>
 * A crash during step 2 is therefore charged to the suspect alone: a poison task reaches its lane's maximum
 * attempts after that many crashes, and its innocent neighbours, which completed on probation, are never
 * charged again. A suspect the engine does not take within the quiet wait (its lane paused in the engine) goes to
 * the back of the queue, and the gates open for one quiet wait so that the other lanes keep moving.
 *
 * <p>Not threadsafe: owned by the consumer thread.
 */
final class Probation {

    private static final Logger LOG = LoggerFactory.getLogger(Probation.class);

    /** Wait before trying a failed probation commit again. */
    private static final long RETRY_MILLIS = 500;

    private final Map<String, LaneBuffer> lanes;
    private final LeaseRegistry registry;
    private final Partitions partitions;
    private final Clock clock;
    private final Duration quiet;
    private final Duration alone;
    private final ArrayDeque<Delivery> suspects = new ArrayDeque<>();
    private final Map<String, Integer> perLane = new HashMap<>();
    private Delivery current;
    private boolean currentEnded;
    private boolean gated;
    private long gatedSince;
    private long handedAt;
    private long openUntil = Long.MIN_VALUE;
    /** The last probation delivery was not taken: the gates open until {@link #openUntil}. */
    private boolean withdrawn;

    Probation(QueueConfig config, Map<String, LaneBuffer> lanes, LeaseRegistry registry, Partitions partitions) {
        this.lanes = lanes;
        this.registry = registry;
        this.partitions = partitions;
        this.clock = config.clock();
        this.quiet = config.revocationTimeout();
        this.alone = config.probationTimeout();
    }

    /** A delivery that has been through crashes waits for its turn on probation. */
    void suspect(Delivery d, int crashes) {
        LOG.warn("task {} ({}) was being handed out when a relay process stopped without ending it ({} crash{} so far,"
                + " attempt {} next); it runs alone on probation", d.task().id(), d.where(), crashes, crashes == 1 ? "" : "es",
                d.task().attempt());
        suspects.add(d);
        perLane.merge(d.task().lane(), 1, Integer::sum);
    }

    /** @return how many suspects of the lane wait */
    int count(String lane) {
        return perLane.getOrDefault(lane, 0);
    }

    /** @return whether the gates are closed: commits name only open leases armed */
    boolean gated() {
        return gated;
    }

    /** @return whether probation needs the owner's prompt attention (every ending matters) */
    boolean active() {
        return gated || current != null || !suspects.isEmpty();
    }

    /**
     * An ending was processed; if it is the probation delivery's, the next step may follow.
     *
     * @param d the delivery whose lease ended
     * @param released whether it was released (it then waits again, first in line)
     */
    void ended(Delivery d, boolean released) {
        if (current == null || current.offset() != d.offset() || !current.tp().equals(d.tp()) || current.epoch() != d.epoch()) {
            return;
        }
        PartitionState ps = partitions.current(d.tp(), d.epoch());
        if (ps != null) {
            ps.tracker.probation(-1);
        }
        if (released) {
            suspects.addFirst(d);
            perLane.merge(d.task().lane(), 1, Integer::sum);
        }
        currentEnded = true;
    }

    /**
     * One step of the protocol, at its point in the consumer's turn.
     *
     * @param committer commits the probation markers
     */
    void step(OffsetCommitter committer) {
        long now = clock.millis();
        if (current != null) {
            if (currentEnded) {
                current = null;
                currentEnded = false;
            } else if (registry.isOpen(current)) {
                if (now - handedAt < alone.toMillis()) {
                    return;
                }
                // a long task: the next suspect may join it (the open lease stays named armed in every commit)
                LOG.info("task {} on probation still runs after {}; the next suspect joins it", current.task().id(), alone);
                PartitionState ps = partitions.current(current.tp(), current.epoch());
                if (ps != null && ps.tracker.probation() == current.offset()) {
                    ps.tracker.probation(-1);
                }
                current = null;
            } else if (now - handedAt >= quiet.toMillis()) {
                LaneBuffer lb = lanes.get(current.task().lane());
                if (lb != null && lb.withdrawProbation(current)) {
                    LOG.info("task {} on probation was not taken within {} (its lane paused?); the other lanes run for"
                            + " a while", current.task().id(), quiet);
                    PartitionState ps = partitions.current(current.tp(), current.epoch());
                    if (ps != null) {
                        ps.tracker.probation(-1);
                    }
                    suspects.addLast(current);
                    perLane.merge(current.task().lane(), 1, Integer::sum);
                    current = null;
                    openUntil = now + quiet.toMillis();
                    withdrawn = true;
                }
                return;
            } else {
                return;
            }
        }
        if (suspects.isEmpty() || now < openUntil) {
            if (gated && (suspects.isEmpty() || withdrawn)) {
                if (committer.commitSync(partitions.keys(), OffsetCommitter.Mode.NORMAL, quiet)) {
                    gated = false;
                    withdrawn = false;
                    lanes.values().forEach(LaneBuffer::openGate);
                } else {
                    openUntil = Math.max(openUntil, now + RETRY_MILLIS);
                }
            }
            return;
        }
        if (!gated) {
            gated = true;
            gatedSince = now;
            lanes.values().forEach(LaneBuffer::closeGate);
        }
        if (registry.openCount() > 0 && now - gatedSince < quiet.toMillis()) {
            return; // wait for quiet
        }
        while (!suspects.isEmpty()) {
            Delivery d = suspects.poll();
            perLane.merge(d.task().lane(), -1, Integer::sum);
            PartitionState ps = partitions.current(d.tp(), d.epoch());
            LaneBuffer lb = lanes.get(d.task().lane());
            if (ps == null || lb == null || !ps.tracker.isOutstanding(d.offset())) {
                continue;
            }
            ps.tracker.probation(d.offset());
            if (!committer.commitSync(partitions.keys(), OffsetCommitter.Mode.GATED, quiet)) {
                ps.tracker.probation(-1);
                suspects.addFirst(d);
                perLane.merge(d.task().lane(), 1, Integer::sum);
                openUntil = now + RETRY_MILLIS; // try again shortly (the gates stay closed)
                return;
            }
            current = d;
            handedAt = now;
            lb.probation(d);
            LOG.info("task {} ({}, attempt {}) runs alone on probation; {} more suspect(s) wait", d.task().id(), d.where(),
                    d.task().attempt(), suspects.size());
            return;
        }
    }

    /** @return when the next step is due (a quiet wait or probation take expires), epoch millis, or Long.MAX_VALUE */
    long nextDue() {
        if (current != null) {
            return currentEnded ? 0 : handedAt + (registry.isOpen(current) ? alone : quiet).toMillis();
        }
        if (!suspects.isEmpty()) {
            return gated ? Math.max(openUntil, gatedSince + quiet.toMillis()) : openUntil;
        }
        return gated ? 0 : Long.MAX_VALUE;
    }

    /** Forgets the suspects of revoked partitions. */
    void drop(Collection<org.apache.kafka.common.TopicPartition> parts) {
        Iterator<Delivery> it = suspects.iterator();
        while (it.hasNext()) {
            Delivery d = it.next();
            if (parts.contains(d.tp())) {
                it.remove();
                perLane.merge(d.task().lane(), -1, Integer::sum);
            }
        }
        if (current != null && parts.contains(current.tp())) {
            current = null;
            currentEnded = false;
        }
    }
}
