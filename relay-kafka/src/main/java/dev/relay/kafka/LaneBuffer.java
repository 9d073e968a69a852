package dev.relay.kafka;

import dev.relay.api.Lease;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The hand-off point between the consumer thread and the engine for one lane: the ready deliveries (bounded
 * by the prefetch), the open leases per partition, and the lane's counts for {@code backlog}.
 *
 * <p>The consumer thread fills it and takes partitions away; the engine thread takes deliveries out as
 * leases. Everything is guarded by {@link #lock}; the counts are published together with the deliveries
 * they describe, so {@link #backlog()} never counts a record twice (once as lag, once as ready).
 *
 * <p>Threadsafe.
 */
final class LaneBuffer {

    final String lane;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by lock. */
    private final ArrayDeque<Delivery> ready = new ArrayDeque<>();
    /** Guarded by lock. */
    private final Map<TopicPartition, Set<KafkaLease>> leased = new HashMap<>();
    /** Guarded by lock. Retry deliveries held by the consumer thread until due. */
    private int delayed;
    /** Guarded by lock. Records of the lane's assigned partitions not yet fetched. */
    private long lag;
    /** Guarded by lock. */
    private boolean lagKnown;
    /** Guarded by lock. */
    private boolean closed;

    LaneBuffer(String lane) {
        this.lane = lane;
    }

    /**
     * Takes up to max ready deliveries as leases (engine thread).
     */
    List<Lease> take(int max, java.util.function.Function<Delivery, KafkaLease> leaseOf) {
        lock.lock();
        try {
            if (closed || ready.isEmpty()) {
                return List.of();
            }
            int n = Math.min(max, ready.size());
            List<Lease> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Delivery d = ready.pollFirst();
                KafkaLease l = leaseOf.apply(d);
                leased.computeIfAbsent(d.tp(), k -> new HashSet<>()).add(l);
                out.add(l);
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Publishes what the consumer thread changed in one step (consumer thread).
     *
     * @param front deliveries to put at the head (released ones), in order
     * @param back deliveries to append (fetched or due)
     * @param delayedCount retry deliveries held back now
     * @param lagNow the lane's lag now
     * @param lagKnownNow whether every assigned partition's lag is known
     * @return whether deliveries were added
     */
    boolean publish(List<Delivery> front, List<Delivery> back, int delayedCount, long lagNow, boolean lagKnownNow) {
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
            lag = lagNow;
            lagKnown = lagKnownNow;
            return !front.isEmpty() || !back.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** @return ready deliveries waiting for a poll */
    int readySize() {
        lock.lock();
        try {
            return ready.size();
        } finally {
            lock.unlock();
        }
    }

    /** @return ready plus delayed: what this lane holds in memory */
    int buffered() {
        lock.lock();
        try {
            return ready.size() + delayed;
        } finally {
            lock.unlock();
        }
    }

    long backlog() {
        lock.lock();
        try {
            return lagKnown ? ready.size() + delayed + lag : -1;
        } finally {
            lock.unlock();
        }
    }

    /** Forgets a lease that ended and was processed (consumer thread). */
    void ended(KafkaLease l) {
        lock.lock();
        try {
            Set<KafkaLease> s = leased.get(l.delivery().tp());
            if (s != null) {
                s.remove(l);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops handing out the partitions' deliveries: drops the ready ones (they stay uncommitted).
     */
    void dropReady(Collection<TopicPartition> parts) {
        lock.lock();
        try {
            Iterator<Delivery> it = ready.iterator();
            while (it.hasNext()) {
                if (parts.contains(it.next().tp())) {
                    it.remove();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** @return whether a lease of one of the partitions is still active */
    boolean hasActive(Collection<TopicPartition> parts) {
        lock.lock();
        try {
            for (TopicPartition tp : parts) {
                Set<KafkaLease> s = leased.get(tp);
                if (s != null) {
                    for (KafkaLease l : s) {
                        if (l.isActive()) {
                            return true;
                        }
                    }
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the partitions' open leases away: ending them then throws LeaseLostException.
     *
     * @param parts the partitions, or null for all (close)
     * @param lost called with each lease that was still active
     */
    void loseLeases(Collection<TopicPartition> parts, Consumer<KafkaLease> lost) {
        lock.lock();
        try {
            Iterator<Map.Entry<TopicPartition, Set<KafkaLease>>> it = leased.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<TopicPartition, Set<KafkaLease>> e = it.next();
                if (parts == null || parts.contains(e.getKey())) {
                    for (KafkaLease l : e.getValue()) {
                        if (l.markLost()) {
                            lost.accept(l);
                        }
                    }
                    it.remove();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Closes the buffer: no more leases, ready deliveries dropped. */
    void close() {
        lock.lock();
        try {
            closed = true;
            ready.clear();
        } finally {
            lock.unlock();
        }
    }
}
