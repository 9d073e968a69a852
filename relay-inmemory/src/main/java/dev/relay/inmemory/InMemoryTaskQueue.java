package dev.relay.inmemory;

import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.Names;
import dev.relay.api.QueueException;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An in-memory {@link TaskQueue}: one FIFO per lane with the full lease semantics.
 *
 * <ul>
 *   <li>A lease not ended within the {@linkplain Builder#leaseTimeout lease timeout} is lost: its task
 *       becomes ready again with its attempt incremented (a crash counts as an attempt, so a task that keeps
 *       crashing its holder still reaches the dead letters), and ending the old lease throws
 *       {@link LeaseLostException}.
 *   <li>{@link Lease#retry retry} holds the task back until its delay has passed on the injected clock.
 *   <li>A task offered while another delivery of the same id is pending in the lane (ready, delayed or
 *       leased) is dropped as a duplicate: enqueueing the same window twice is harmless.
 *   <li>A bounded queue rejects an offer beyond its capacity per lane with a {@link QueueException}.
 * </ul>
 *
 * <p>Expired leases and due retries are noticed on the next {@link #poll} or {@link #backlog}, against the
 * injected {@link Clock}; the queue starts no thread. The availability listener is called after an offer and
 * after a release or a retry without delay.
 *
 * <p>This class is threadsafe: one lock guards all state, and the listener is called outside it.
 */
public final class InMemoryTaskQueue implements TaskQueue {

    private final Clock clock;
    private final Duration leaseTimeout;
    private final int capacityPerLane;

    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. */
    private final Map<String, LaneQueue> lanes = new HashMap<>();
    /** Guarded by {@link #lock}. */
    private long nextLeaseId;
    /** Guarded by {@link #lock}. */
    private boolean closed;

    private volatile Runnable listener;

    private InMemoryTaskQueue(Builder b) {
        this.clock = b.clock;
        this.leaseTimeout = b.leaseTimeout;
        this.capacityPerLane = b.capacityPerLane;
    }

    /** @return a builder: system UTC clock, 30 minute lease timeout, unbounded */
    public static Builder builder() {
        return new Builder();
    }

    /** @return an unbounded queue on the system clock with the default lease timeout */
    public static InMemoryTaskQueue create() {
        return builder().build();
    }

    @Override
    public void offer(Task task) {
        Objects.requireNonNull(task, "task");
        lock.lock();
        try {
            if (closed) {
                throw new QueueException("queue is closed; task " + task.id() + " was not accepted", null, false);
            }
            LaneQueue q = lane(task.lane());
            if (!q.pendingIds.add(task.id())) {
                return; // a delivery of the same task is already pending
            }
            if (q.size() >= capacityPerLane) {
                q.pendingIds.remove(task.id());
                throw new QueueException("lane '" + task.lane() + "' is full (capacity " + capacityPerLane
                        + "); task " + task.id() + " was not accepted", null);
            }
            q.ready.addLast(new Entry(task, clock.instant()));
            q.offered++;
        } finally {
            lock.unlock();
        }
        notifyListener();
    }

    @Override
    public void subscribe(Set<String> laneNames) {
        lock.lock();
        try {
            for (String lane : laneNames) {
                lane(lane);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Lease> poll(String lane, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1 but was " + max);
        }
        lock.lock();
        try {
            if (closed) {
                return List.of();
            }
            LaneQueue q = lanes.get(lane);
            if (q == null) {
                return List.of();
            }
            Instant now = clock.instant();
            maintain(q, now);
            if (q.ready.isEmpty()) {
                return List.of();
            }
            int n = Math.min(max, q.ready.size());
            List<Lease> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Entry e = q.ready.pollFirst();
                MemoryLease lease = new MemoryLease(nextLeaseId++, q, e.task, e.readySince, now.plus(leaseTimeout));
                q.leased.put(lease.id, lease);
                q.leaseExpiry.add(lease);
                out.add(lease);
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long backlog(String lane) {
        lock.lock();
        try {
            LaneQueue q = lanes.get(lane);
            if (q == null) {
                return 0;
            }
            maintain(q, clock.instant());
            return q.ready.size() + q.delayed.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param lane a lane
     * @return how many of its tasks are leased out now
     */
    public int leased(String lane) {
        lock.lock();
        try {
            LaneQueue q = lanes.get(lane);
            if (q == null) {
                return 0;
            }
            maintain(q, clock.instant());
            return q.leased.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param lane a lane
     * @return how many of its tasks were completed
     */
    public long completed(String lane) {
        lock.lock();
        try {
            LaneQueue q = lanes.get(lane);
            return q == null ? 0 : q.completed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param lane a lane
     * @return the dead letters of the lane, oldest first
     */
    public List<DeadLetter> deadLetters(String lane) {
        lock.lock();
        try {
            LaneQueue q = lanes.get(lane);
            return q == null ? List.of() : List.copyOf(q.deadLetters);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The earliest time at which a delayed retry becomes ready or a lease expires, for schedulers that want to
     * poll exactly then.
     *
     * @param lane a lane
     * @return that time, or null if nothing is pending in time
     */
    public Instant nextDueAt(String lane) {
        lock.lock();
        try {
            LaneQueue q = lanes.get(lane);
            if (q == null) {
                return null;
            }
            Instant a = q.delayed.isEmpty() ? null : q.delayed.peek().readySince;
            MemoryLease l = q.leaseExpiry.peek();
            while (l != null && l.state != State.ACTIVE) {
                q.leaseExpiry.poll();
                l = q.leaseExpiry.peek();
            }
            Instant b = l == null ? null : l.deadline;
            if (a == null) {
                return b;
            }
            return b == null || a.isBefore(b) ? a : b;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void setAvailabilityListener(Runnable listener) {
        this.listener = listener;
    }

    /** Closes the queue: later offers fail, polls return nothing, and open leases are lost. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (LaneQueue q : lanes.values()) {
                for (MemoryLease l : q.leased.values()) {
                    l.state = State.LOST;
                }
                q.leased.clear();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            StringBuilder sb = new StringBuilder("InMemoryTaskQueue[");
            lanes.forEach((name, q) -> sb.append(name).append(": ready=").append(q.ready.size()).append(" delayed=")
                    .append(q.delayed.size()).append(" leased=").append(q.leased.size()).append(" dead=")
                    .append(q.deadLetters.size()).append("; "));
            return sb.append(']').toString();
        } finally {
            lock.unlock();
        }
    }

    // ---- internals, all under the lock ----

    private LaneQueue lane(String name) {
        Names.requireLane(name);
        return lanes.computeIfAbsent(name, n -> new LaneQueue());
    }

    /** Moves due retries to ready and takes expired leases back. */
    private void maintain(LaneQueue q, Instant now) {
        while (!q.delayed.isEmpty() && !q.delayed.peek().readySince.isAfter(now)) {
            q.ready.addLast(q.delayed.poll());
        }
        while (!q.leaseExpiry.isEmpty()) {
            MemoryLease l = q.leaseExpiry.peek();
            if (l.state != State.ACTIVE) {
                q.leaseExpiry.poll();
                continue;
            }
            if (l.deadline.isAfter(now)) {
                break;
            }
            q.leaseExpiry.poll();
            l.state = State.LOST;
            q.leased.remove(l.id);
            q.ready.addLast(new Entry(l.task.withAttempt(l.task.attempt() + 1), now));
            q.expired++;
        }
    }

    private void notifyListener() {
        Runnable r = listener;
        if (r != null) {
            r.run();
        }
    }

    private enum State { ACTIVE, COMPLETED, RETRIED, DEAD_LETTERED, RELEASED, LOST }

    private static final class Entry {
        final Task task;
        final Instant readySince;

        Entry(Task task, Instant readySince) {
            this.task = task;
            this.readySince = readySince;
        }
    }

    private static final class LaneQueue {
        final ArrayDeque<Entry> ready = new ArrayDeque<>();
        final PriorityQueue<Entry> delayed = new PriorityQueue<>((a, b) -> a.readySince.compareTo(b.readySince));
        final Map<Long, MemoryLease> leased = new HashMap<>();
        final PriorityQueue<MemoryLease> leaseExpiry = new PriorityQueue<>((a, b) -> a.deadline.compareTo(b.deadline));
        final Set<String> pendingIds = new HashSet<>();
        final List<DeadLetter> deadLetters = new ArrayList<>();
        long offered;
        long completed;
        long expired;

        int size() {
            return ready.size() + delayed.size() + leased.size();
        }
    }

    private final class MemoryLease implements Lease {
        final long id;
        final LaneQueue q;
        final Task task;
        final Instant readySince;
        final Instant deadline;
        /** Guarded by the queue's lock. */
        State state = State.ACTIVE;

        MemoryLease(long id, LaneQueue q, Task task, Instant readySince, Instant deadline) {
            this.id = id;
            this.q = q;
            this.task = task;
            this.readySince = readySince;
            this.deadline = deadline;
        }

        @Override
        public Task task() {
            return task;
        }

        @Override
        public Instant readySince() {
            return readySince;
        }

        @Override
        public void complete() {
            end(State.COMPLETED, null, null);
        }

        @Override
        public void retry(Duration delay, String reason) {
            Objects.requireNonNull(delay, "delay");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("retry delay must not be negative but was " + delay);
            }
            end(State.RETRIED, delay, reason);
        }

        @Override
        public void deadLetter(String reason) {
            end(State.DEAD_LETTERED, null, Objects.requireNonNull(reason, "reason"));
        }

        @Override
        public void release() {
            end(State.RELEASED, null, null);
        }

        private void end(State to, Duration delay, String reason) {
            boolean notify = false;
            lock.lock();
            try {
                if (state == State.ACTIVE && !deadline.isAfter(clock.instant())) {
                    maintain(q, clock.instant()); // the lease expired before it was ended
                }
                if (state == State.LOST) {
                    throw new LeaseLostException("lease of task " + task.id() + " (" + task.lane() + ", attempt "
                            + task.attempt() + ") was lost: it timed out or the queue closed; the task is handed out again");
                }
                if (state != State.ACTIVE) {
                    throw new IllegalStateException("lease of task " + task.id() + " already ended: " + state);
                }
                state = to;
                q.leased.remove(id);
                Instant now = clock.instant();
                switch (to) {
                    case COMPLETED -> {
                        q.pendingIds.remove(task.id());
                        q.completed++;
                    }
                    case RETRIED -> {
                        Entry e = new Entry(task.withAttempt(task.attempt() + 1), now.plus(delay));
                        if (delay.isZero()) {
                            q.ready.addLast(e);
                            notify = true;
                        } else {
                            q.delayed.add(e);
                        }
                    }
                    case DEAD_LETTERED -> {
                        q.pendingIds.remove(task.id());
                        q.deadLetters.add(new DeadLetter(task, reason, now));
                    }
                    case RELEASED -> {
                        q.ready.addFirst(new Entry(task, readySince));
                        notify = true;
                    }
                    default -> throw new AssertionError(to);
                }
            } finally {
                lock.unlock();
            }
            if (notify) {
                notifyListener();
            }
        }

        @Override
        public String toString() {
            return "Lease[" + task + " " + state + "]";
        }
    }

    /** Builds an {@link InMemoryTaskQueue}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private Clock clock = Clock.systemUTC();
        private Duration leaseTimeout = Duration.ofMinutes(30);
        private int capacityPerLane = Integer.MAX_VALUE;

        private Builder() {
        }

        /**
         * @param clock the clock for lease deadlines and retry delays (inject a virtual one in simulations)
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param leaseTimeout how long a lease may stay open before its task is handed out again; positive
         * @return this builder
         */
        public Builder leaseTimeout(Duration leaseTimeout) {
            Objects.requireNonNull(leaseTimeout, "leaseTimeout");
            if (leaseTimeout.isNegative() || leaseTimeout.isZero()) {
                throw new IllegalArgumentException("leaseTimeout must be positive but was " + leaseTimeout);
            }
            this.leaseTimeout = leaseTimeout;
            return this;
        }

        /**
         * @param capacity the most tasks a lane holds (ready, delayed and leased), at least 1
         * @return this builder
         */
        public Builder capacityPerLane(int capacity) {
            if (capacity < 1) {
                throw new IllegalArgumentException("capacityPerLane must be at least 1 but was " + capacity);
            }
            this.capacityPerLane = capacity;
            return this;
        }

        /** @return the queue */
        public InMemoryTaskQueue build() {
            return new InMemoryTaskQueue(this);
        }
    }
}
