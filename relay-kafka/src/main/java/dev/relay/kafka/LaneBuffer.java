package dev.relay.kafka;

import dev.relay.api.Lease;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The hand-off point between the thread that owns a lane's records and the engine: the lane's ready
 * deliveries, and the counts behind {@code backlog} and {@code buffered}, published together so that
 * {@code backlog} never counts a record twice (once as lag, once as ready).
 *
 * <p>It also carries two signals. A <em>gate</em>: while closed, only the one probation delivery is handed out
 * (see {@link Probation}). And <em>room</em>: when the owner held records back because the lane was full, the
 * engine's {@link #take} wakes the owner as soon as the lane's load — its ready deliveries plus the ones the owner
 * holds against the lane's prefetch and has not published yet ({@linkplain #publish pending}: waiting for their
 * arming commit, on probation) — drained to the low-water mark, so a drained lane is refilled at once rather than
 * at the owner's next poll timeout. The pending ones count because a lane is often full of deliveries whose arming
 * commit is in flight: they become ready a moment later, and the engine may take them all at once.
 *
 * <p>Threadsafe: the owner thread publishes, the engine's thread takes; everything is guarded by one lock, and
 * the room waker is called outside it.
 */
final class LaneBuffer {

    final String lane;
    private final ReentrantLock lock = new ReentrantLock();
    private final Runnable roomWaker;
    /** Guarded by lock. */
    private final ArrayDeque<Delivery> ready = new ArrayDeque<>();
    /** Guarded by lock. The delivery on probation, handed out even while the gate is closed. */
    private Delivery probation;
    /** Guarded by lock. */
    private boolean gated;
    /** Guarded by lock. */
    private boolean closed;
    /** Guarded by lock. Retry deliveries held by the owner until due. */
    private int delayed;
    /** Guarded by lock. Records in the owner's memory that are not ready yet (delayed, held back, arming). */
    private long waiting;
    /** Guarded by lock. Records of the lane's assigned partitions not yet fetched. */
    private long lag;
    /** Guarded by lock. */
    private boolean lagKnown;
    /** Guarded by lock. Deliveries the owner counts against the lane's prefetch that are not in ready (yet). */
    private int pending;
    /** Guarded by lock. The owner wants a wake-up when the lane's load drained to {@link #lowWater}. */
    private boolean wantRoom;
    /** Guarded by lock. */
    private int lowWater;

    /**
     * @param lane the lane
     * @param roomWaker wakes the owner thread (must not block)
     */
    LaneBuffer(String lane, Runnable roomWaker) {
        this.lane = lane;
        this.roomWaker = roomWaker;
    }

    /**
     * Takes up to max ready deliveries as leases (engine thread).
     *
     * @param max at least 1
     * @param leaseOf makes (and registers) the lease of a delivery
     * @return the leases
     */
    List<Lease> take(int max, Function<Delivery, KafkaLease> leaseOf) {
        List<Lease> out;
        boolean wake = false;
        lock.lock();
        try {
            if (closed) {
                return List.of();
            }
            if (gated) {
                if (probation == null) {
                    return List.of();
                }
                Delivery d = probation;
                probation = null;
                return List.of(leaseOf.apply(d));
            }
            if (ready.isEmpty()) {
                return List.of();
            }
            int n = Math.min(max, ready.size());
            out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(leaseOf.apply(ready.pollFirst()));
            }
            if (wantRoom && ready.size() + pending <= lowWater) {
                wantRoom = false;
                wake = true;
            }
        } finally {
            lock.unlock();
        }
        if (wake) {
            roomWaker.run();
        }
        return out;
    }

    /**
     * Publishes what the owner changed in one step, for an owner that does not ask for room (owner thread).
     *
     * @param front deliveries to put at the head (released ones), in order
     * @param back deliveries to append (armed)
     * @param delayedCount retry deliveries held back now
     * @param waitingCount every record in the owner's memory that is not ready (delayed included)
     * @param lagNow the lane's lag now
     * @param lagKnownNow whether every assigned partition's lag is known
     * @return whether deliveries were added
     */
    boolean publish(List<Delivery> front, List<Delivery> back, int delayedCount, long waitingCount, long lagNow,
            boolean lagKnownNow) {
        return publish(front, back, delayedCount, waitingCount, 0, lagNow, lagKnownNow);
    }

    /**
     * Publishes what the owner changed in one step (owner thread).
     *
     * @param front deliveries to put at the head (released ones), in order
     * @param back deliveries to append (armed)
     * @param delayedCount retry deliveries held back now
     * @param waitingCount every record in the owner's memory that is not ready (delayed included)
     * @param pendingCount the deliveries the owner counts against the lane's prefetch that are not ready (waiting
     *        for their arming commit, on probation): part of the load {@link #wantRoom} compares
     * @param lagNow the lane's lag now
     * @param lagKnownNow whether every assigned partition's lag is known
     * @return whether deliveries were added
     */
    boolean publish(List<Delivery> front, List<Delivery> back, int delayedCount, long waitingCount, int pendingCount,
            long lagNow, boolean lagKnownNow) {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            for (int i = front.size() - 1; i >= 0; i--) {
                ready.addFirst(front.get(i));
            }
            ready.addAll(back);
            delayed = delayedCount;
            waiting = waitingCount;
            pending = pendingCount;
            lag = lagNow;
            lagKnown = lagKnownNow;
            return !front.isEmpty() || !back.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Puts a released delivery back at the head, leaving the counts as they are (owner thread).
     *
     * @param d the delivery
     */
    void putBack(Delivery d) {
        lock.lock();
        try {
            if (!closed) {
                ready.addFirst(d);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Asks for a wake-up once the engine drained the lane's load (ready plus {@linkplain #publish pending}) to the
     * low-water mark (owner thread).
     *
     * @param lowWaterMark load at or below which the owner wants to refill
     * @return whether the lane is already at or below it (no wake-up will come: refill now)
     */
    boolean wantRoom(int lowWaterMark) {
        lock.lock();
        try {
            if (ready.size() + pending <= lowWaterMark) {
                wantRoom = false;
                return true;
            }
            wantRoom = true;
            lowWater = lowWaterMark;
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the gate: from now on only the probation delivery is handed out (owner thread). */
    void closeGate() {
        lock.lock();
        try {
            gated = true;
        } finally {
            lock.unlock();
        }
    }

    /** Opens the gate again (owner thread). */
    void openGate() {
        lock.lock();
        try {
            gated = false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Offers the one probation delivery (owner thread; the gate is closed).
     *
     * @param d the delivery
     */
    void probation(Delivery d) {
        lock.lock();
        try {
            if (!closed) {
                probation = d;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the probation delivery back if the engine has not taken it (owner thread).
     *
     * @param d the delivery offered on probation
     * @return whether it was still there
     */
    boolean withdrawProbation(Delivery d) {
        lock.lock();
        try {
            if (probation == d) {
                probation = null;
                return true;
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** @return ready deliveries waiting for a take */
    int readySize() {
        lock.lock();
        try {
            return ready.size();
        } finally {
            lock.unlock();
        }
    }

    /** @return ready plus delayed: the decoded deliveries this lane holds in memory */
    int buffered() {
        lock.lock();
        try {
            return ready.size() + delayed + (probation == null ? 0 : 1);
        } finally {
            lock.unlock();
        }
    }

    /** @return ready, waiting and lag, or -1 if the lag is not known yet */
    long backlog() {
        lock.lock();
        try {
            return lagKnown ? ready.size() + (probation == null ? 0 : 1) + waiting + lag : -1;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops handing out the partitions' deliveries: drops the ready ones (they stay uncommitted) (owner thread).
     *
     * @param parts the partitions
     * @return the deliveries dropped
     */
    List<Delivery> drop(Collection<org.apache.kafka.common.TopicPartition> parts) {
        List<Delivery> dropped = new ArrayList<>();
        lock.lock();
        try {
            Iterator<Delivery> it = ready.iterator();
            while (it.hasNext()) {
                Delivery d = it.next();
                if (parts.contains(d.tp())) {
                    it.remove();
                    dropped.add(d);
                }
            }
            if (probation != null && parts.contains(probation.tp())) {
                dropped.add(probation);
                probation = null;
            }
        } finally {
            lock.unlock();
        }
        return dropped;
    }

    /** Closes the buffer: no more leases, ready deliveries dropped. */
    void close() {
        lock.lock();
        try {
            closed = true;
            ready.clear();
            probation = null;
        } finally {
            lock.unlock();
        }
    }
}
