package dev.relay.inmemory;

import dev.relay.api.DeadLetter;
import dev.relay.api.DeadLetters;
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
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
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
 *   <li>A queue built with {@linkplain Builder#lanes its lanes} rejects an offer to any other lane with an
 *       {@link IllegalArgumentException} naming it; lanes that a relay {@linkplain #subscribe subscribes} become
 *       known. Without declared lanes, a lane is created by its first offer or subscription, and
 *       {@link #lanesWithTasks()} tells a relay which lanes hold tasks it does not serve.
 *   <li>{@link Lease#deadLetter dead-lettered} tasks are kept per lane with their reason and time, under an entry id
 *       that is a sequence number of the queue; {@link #deadLetters()} lists, replays and purges them (see
 *       {@link DeadLetters}). They live as long as the queue, like everything else in it.
 * </ul>
 *
 * <p>Expired leases and due retries are noticed on the next {@link #poll}, {@link #backlog} or lease ending of
 * their lane, against the injected {@link Clock}; the queue starts no thread. Lease deadlines never go backwards
 * in a lane (if the clock does, a lease may outlive its timeout by as much). The availability listener is called
 * after an offer and after a release or a retry without delay.
 *
 * <p>This class is threadsafe. Each lane has its own lock, which guards that lane's state and the leases handed
 * out from it; no lock is held across lanes, and the listener is called outside every lock. Per task, an offer
 * allocates the delivery (which becomes the lease when polled) and its ready time; the pending ids sit in an
 * open-addressing set; a poll allocates only the returned list.
 */
public final class InMemoryTaskQueue implements TaskQueue {

    private final Clock clock;
    private final Duration leaseTimeout;
    private final long leaseTimeoutMillis;
    private final int capacityPerLane;
    /** Whether offers are limited to known lanes (declared at build time or subscribed). */
    private final boolean fixedLanes;

    private final ConcurrentHashMap<String, LaneQueue> lanes = new ConcurrentHashMap<>();
    /** The last dead letter entry id given out. */
    private final AtomicLong deadLetterIds = new AtomicLong();
    private final DeadLetters deadLetters = new MemoryDeadLetters();
    private volatile boolean closed;
    private volatile Runnable listener;

    private InMemoryTaskQueue(Builder b) {
        this.clock = b.clock;
        this.leaseTimeout = b.leaseTimeout;
        this.leaseTimeoutMillis = saturatedMillis(b.leaseTimeout);
        this.capacityPerLane = b.capacityPerLane;
        this.fixedLanes = b.lanes != null;
        if (b.lanes != null) {
            for (String lane : b.lanes) {
                lanes.put(lane, new LaneQueue(lane));
            }
        }
    }

    /** @return a builder: system UTC clock, 30 minute lease timeout, unbounded, any lane */
    public static Builder builder() {
        return new Builder();
    }

    /** @return an unbounded queue on the system clock with the default lease timeout, accepting any lane */
    public static InMemoryTaskQueue create() {
        return builder().build();
    }

    private static long saturatedMillis(Duration d) {
        try {
            return d.toMillis();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if the queue was built with its lanes and this task's lane is not one of
     *     them, nor subscribed since
     */
    @Override
    public void offer(Task task) {
        Objects.requireNonNull(task, "task");
        if (closed) {
            throw new QueueException("queue is closed; task " + task.id() + " was not accepted", null, false);
        }
        LaneQueue q = lanes.get(task.lane());
        if (q == null) {
            q = laneForOffer(task);
        }
        q.lock.lock();
        try {
            if (closed) {
                throw new QueueException("queue is closed; task " + task.id() + " was not accepted", null, false);
            }
            if (q.pendingIds.contains(task.id())) {
                return; // a delivery of the same task is already pending
            }
            if (q.size() >= capacityPerLane) {
                throw new QueueException("lane '" + task.lane() + "' is full (capacity " + capacityPerLane
                        + "); task " + task.id() + " was not accepted", null);
            }
            q.pendingIds.add(task.id());
            q.ready.addLast(new MemoryLease(q, task, clock.instant()));
            q.offered++;
        } finally {
            q.lock.unlock();
        }
        notifyListener();
    }

    private LaneQueue laneForOffer(Task task) {
        if (fixedLanes) {
            throw new IllegalArgumentException("lane '" + task.lane() + "' is unknown to this queue, so task " + task.id()
                    + " was not accepted; its lanes are " + new TreeSet<>(lanes.keySet())
                    + " (declare the lane when building the queue, or start a relay that serves it)");
        }
        return lane(task.lane());
    }

    /** Makes the lanes known (they accept offers from now on, also in a queue built with its lanes). */
    @Override
    public void subscribe(Set<String> laneNames) {
        for (String lane : laneNames) {
            lane(lane);
        }
    }

    @Override
    public List<Lease> poll(String lane, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1 but was " + max);
        }
        LaneQueue q = lanes.get(lane);
        if (q == null || closed) {
            return List.of();
        }
        q.lock.lock();
        try {
            if (closed) {
                return List.of();
            }
            long now = clock.millis();
            maintain(q, now);
            int n = Math.min(max, q.ready.size());
            if (n == 0) {
                return List.of();
            }
            long deadline = Math.max(q.lastDeadline, now + leaseTimeoutMillis);
            q.lastDeadline = deadline;
            if (n == 1) {
                return List.of(lease(q, q.ready.pollFirst(), deadline));
            }
            List<Lease> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(lease(q, q.ready.pollFirst(), deadline));
            }
            return out;
        } finally {
            q.lock.unlock();
        }
    }

    private static MemoryLease lease(LaneQueue q, MemoryLease l, long deadline) {
        l.state = State.LEASED;
        l.atMillis = deadline;
        q.expiry.addLast(l);
        q.leased++;
        return l;
    }

    @Override
    public long backlog(String lane) {
        LaneQueue q = lanes.get(lane);
        if (q == null) {
            return 0;
        }
        q.lock.lock();
        try {
            maintain(q, clock.millis());
            return q.ready.size() + q.delayed.size();
        } finally {
            q.lock.unlock();
        }
    }

    /** @return the lanes holding tasks ready, delayed or leased (a lane whose tasks all ended is not one of them) */
    @Override
    public Optional<Set<String>> lanesWithTasks() {
        Set<String> out = new LinkedHashSet<>();
        for (LaneQueue q : lanes.values()) {
            q.lock.lock();
            try {
                if (q.size() > 0) {
                    out.add(q.name);
                }
            } finally {
                q.lock.unlock();
            }
        }
        return Optional.of(out);
    }

    /**
     * @param lane a lane
     * @return how many of its tasks are leased out now
     */
    public int leased(String lane) {
        LaneQueue q = lanes.get(lane);
        if (q == null) {
            return 0;
        }
        q.lock.lock();
        try {
            maintain(q, clock.millis());
            return q.leased;
        } finally {
            q.lock.unlock();
        }
    }

    /**
     * @param lane a lane
     * @return how many of its tasks were completed
     */
    public long completed(String lane) {
        LaneQueue q = lanes.get(lane);
        if (q == null) {
            return 0;
        }
        q.lock.lock();
        try {
            return q.completed;
        } finally {
            q.lock.unlock();
        }
    }

    /**
     * @param lane a lane
     * @return the dead letters of the lane, oldest first (as {@code deadLetters().orElseThrow().list(lane)})
     */
    public List<DeadLetter> deadLetters(String lane) {
        return deadLetters.list(lane);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Replaying offers the task as {@link #offer} does (so a delivery of the same task already pending in the
     * target lane absorbs it, and a queue built with its lanes accepts only those); purging forgets the entries.
     *
     * @return the dead letters, always present
     */
    @Override
    public Optional<DeadLetters> deadLetters() {
        return Optional.of(deadLetters);
    }

    /**
     * The earliest time at which a delayed retry becomes ready or a lease expires, for schedulers that want to
     * poll exactly then.
     *
     * @param lane a lane
     * @return that time, or null if nothing is pending in time
     */
    public Instant nextDueAt(String lane) {
        LaneQueue q = lanes.get(lane);
        if (q == null) {
            return null;
        }
        q.lock.lock();
        try {
            Instant a = q.delayed.isEmpty() ? null : q.delayed.peek().readySince();
            MemoryLease l = q.expiry.peekFirst();
            while (l != null && l.state != State.LEASED) {
                q.expiry.pollFirst();
                l = q.expiry.peekFirst();
            }
            Instant b = l == null ? null : Instant.ofEpochMilli(l.atMillis);
            if (a == null) {
                return b;
            }
            return b == null || a.isBefore(b) ? a : b;
        } finally {
            q.lock.unlock();
        }
    }

    @Override
    public void setAvailabilityListener(Runnable listener) {
        this.listener = listener;
    }

    /** Closes the queue: later offers fail, polls return nothing, and open leases are lost. */
    @Override
    public void close() {
        closed = true;
        for (LaneQueue q : lanes.values()) {
            q.lock.lock();
            try {
                for (MemoryLease l : q.expiry) {
                    if (l.state == State.LEASED) {
                        l.state = State.LOST;
                    }
                }
                q.expiry.clear();
                q.leased = 0;
            } finally {
                q.lock.unlock();
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("InMemoryTaskQueue[");
        for (LaneQueue q : lanes.values()) {
            q.lock.lock();
            try {
                sb.append(q.name).append(": ready=").append(q.ready.size()).append(" delayed=").append(q.delayed.size())
                        .append(" leased=").append(q.leased).append(" dead=").append(q.deadLetters.size()).append("; ");
            } finally {
                q.lock.unlock();
            }
        }
        return sb.append(']').toString();
    }

    // ---- internals ----

    private LaneQueue lane(String name) {
        LaneQueue q = lanes.get(name);
        if (q != null) {
            return q;
        }
        Names.requireLane(name);
        return lanes.computeIfAbsent(name, LaneQueue::new);
    }

    /** Moves due retries to ready and takes expired leases back. Under the lane's lock. */
    private void maintain(LaneQueue q, long now) {
        while (!q.delayed.isEmpty() && q.delayed.peek().atMillis <= now) {
            MemoryLease l = q.delayed.poll();
            l.state = State.READY;
            q.ready.addLast(l);
        }
        while (!q.expiry.isEmpty()) {
            MemoryLease l = q.expiry.peekFirst();
            if (l.state != State.LEASED) {
                q.expiry.pollFirst();
                continue;
            }
            if (l.atMillis > now) {
                break;
            }
            q.expiry.pollFirst();
            l.state = State.LOST;
            q.leased--;
            q.ready.addLast(new MemoryLease(q, l.task.withAttempt(l.task.attempt() + 1), Instant.ofEpochMilli(now)));
            q.expired++;
        }
    }

    private void notifyListener() {
        Runnable r = listener;
        if (r != null) {
            r.run();
        }
    }

    private enum State { READY, DELAYED, LEASED, COMPLETED, RETRIED, DEAD_LETTERED, RELEASED, LOST }

    /** One lane's queue. Every field is guarded by {@link #lock}. */
    private static final class LaneQueue {
        final String name;
        final ReentrantLock lock = new ReentrantLock();
        final ArrayDeque<MemoryLease> ready = new ArrayDeque<>();
        /** Retries waiting for their delay, earliest first (ties in no particular order). */
        final PriorityQueue<MemoryLease> delayed = new PriorityQueue<>((a, b) -> Long.compare(a.atMillis, b.atMillis));
        /** Leases in the order they were handed out, so in deadline order; ended ones are dropped lazily. */
        final ArrayDeque<MemoryLease> expiry = new ArrayDeque<>();
        final IdSet pendingIds = new IdSet();
        /** Entry id → dead letter, oldest first. */
        final LinkedHashMap<String, DeadLetter> deadLetters = new LinkedHashMap<>();
        int leased;
        long lastDeadline = Long.MIN_VALUE;
        long offered;
        long completed;
        long expired;

        LaneQueue(String name) {
            this.name = name;
        }

        int size() {
            return ready.size() + delayed.size() + leased;
        }
    }

    /**
     * One delivery of a task: waiting in its lane (ready or delayed), then, once polled, the lease. A redelivery
     * (retry, release, expiry) is a new object, so a lease ended or lost stays so.
     */
    private final class MemoryLease implements Lease {
        final LaneQueue q;
        final Task task;
        /** Since when the task is ready; made once per delivery and handed out as is. */
        final Instant readySince;
        /** Guarded by the lane's lock. */
        State state = State.READY;
        /** Epoch millis: the lease's deadline while leased, the end of the retry delay while delayed. */
        long atMillis;

        MemoryLease(LaneQueue q, Task task, Instant readySince) {
            this.q = q;
            this.task = task;
            this.readySince = readySince;
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
            q.lock.lock();
            try {
                if (state == State.LEASED && atMillis <= clock.millis()) {
                    maintain(q, clock.millis()); // the lease expired before it was ended
                }
                if (state == State.LOST) {
                    throw new LeaseLostException("lease of task " + task.id() + " (" + task.lane() + ", attempt "
                            + task.attempt() + ") was lost: it timed out or the queue closed; the task is handed out again");
                }
                if (state != State.LEASED) {
                    throw new IllegalStateException("lease of task " + task.id() + " already ended: " + state);
                }
                state = to;
                q.leased--;
                switch (to) {
                    case COMPLETED -> {
                        q.pendingIds.remove(task.id());
                        q.completed++;
                    }
                    case RETRIED -> {
                        Instant at = clock.instant().plus(delay);
                        MemoryLease next = new MemoryLease(q, task.withAttempt(task.attempt() + 1), at);
                        if (delay.isZero()) {
                            q.ready.addLast(next);
                            notify = true;
                        } else {
                            next.state = State.DELAYED;
                            next.atMillis = at.toEpochMilli();
                            q.delayed.add(next);
                        }
                    }
                    case DEAD_LETTERED -> {
                        q.pendingIds.remove(task.id());
                        String id = Long.toString(deadLetterIds.incrementAndGet());
                        q.deadLetters.put(id, DeadLetter.of(id, task, reason, clock.instant()));
                    }
                    case RELEASED -> {
                        q.ready.addFirst(new MemoryLease(q, task, readySince));
                        notify = true;
                    }
                    default -> throw new AssertionError(to);
                }
            } finally {
                q.lock.unlock();
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

    /** The queue's dead letters, kept in the lanes' {@link LaneQueue#deadLetters}. Threadsafe (the lanes' locks). */
    private final class MemoryDeadLetters implements DeadLetters {

        @Override
        public List<DeadLetter> list(String lane) {
            Objects.requireNonNull(lane, "lane");
            LaneQueue q = lanes.get(lane);
            if (q == null) {
                return List.of();
            }
            q.lock.lock();
            try {
                return List.copyOf(q.deadLetters.values());
            } finally {
                q.lock.unlock();
            }
        }

        @Override
        public List<DeadLetter> replay(String lane, Collection<String> ids, String intoLane) {
            Objects.requireNonNull(lane, "lane");
            Objects.requireNonNull(intoLane, "intoLane");
            List<DeadLetter> chosen = chosen(lane, DeadLetters.requireIds(ids), false);
            if (fixedLanes && !lanes.containsKey(intoLane)) {
                throw new IllegalArgumentException("cannot replay into lane '" + intoLane + "': it is unknown to this queue;"
                        + " its lanes are " + new TreeSet<>(lanes.keySet()));
            }
            LaneQueue q = lanes.get(lane);
            List<DeadLetter> done = new ArrayList<>(chosen.size());
            for (DeadLetter d : chosen) {
                try {
                    offer(d.task().withLane(intoLane).withAttempt(1));
                } catch (QueueException | IllegalArgumentException e) {
                    List<String> left = chosen.subList(done.size(), chosen.size()).stream().map(DeadLetter::id).toList();
                    throw new QueueException("replay of lane '" + lane + "' into lane '" + intoLane + "' stopped at dead letter "
                            + d.id() + " (task " + d.task().id() + "): " + e.getMessage() + "; replayed " + done.size()
                            + ", still dead letters: " + left, e, e instanceof QueueException refused && refused.retryable());
                }
                q.lock.lock();
                try {
                    q.deadLetters.remove(d.id());
                } finally {
                    q.lock.unlock();
                }
                done.add(d);
            }
            return done;
        }

        @Override
        public List<DeadLetter> purge(String lane, Collection<String> ids) {
            Objects.requireNonNull(lane, "lane");
            return chosen(lane, DeadLetters.requireIds(ids), true);
        }

        @Override
        public long purgeAll(String lane) {
            Objects.requireNonNull(lane, "lane");
            LaneQueue q = lanes.get(lane);
            if (q == null) {
                return 0;
            }
            q.lock.lock();
            try {
                int n = q.deadLetters.size();
                q.deadLetters.clear();
                return n;
            } finally {
                q.lock.unlock();
            }
        }

        /** The lane's entries of the ids, all or none (naming the unknown ones); removed when {@code remove}. */
        private List<DeadLetter> chosen(String lane, List<String> ids, boolean remove) {
            LaneQueue q = lanes.get(lane);
            List<DeadLetter> out = new ArrayList<>(ids.size());
            List<String> unknown = new ArrayList<>();
            if (q == null) {
                unknown.addAll(ids);
            } else {
                q.lock.lock();
                try {
                    for (String id : ids) {
                        DeadLetter d = q.deadLetters.get(id);
                        if (d == null) {
                            unknown.add(id);
                        } else {
                            out.add(d);
                        }
                    }
                    if (unknown.isEmpty() && remove) {
                        ids.forEach(q.deadLetters::remove);
                    }
                } finally {
                    q.lock.unlock();
                }
            }
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("not dead letters of lane '" + lane + "' (never were, or already replayed"
                        + " or purged): " + unknown + "; nothing was " + (remove ? "purged" : "replayed"));
            }
            return out;
        }
    }

    /** Builds an {@link InMemoryTaskQueue}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private Clock clock = Clock.systemUTC();
        private Duration leaseTimeout = Duration.ofMinutes(30);
        private int capacityPerLane = Integer.MAX_VALUE;
        private Set<String> lanes;

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

        /**
         * Declares the queue's lanes: an offer to any other lane then fails with an {@link IllegalArgumentException}
         * naming it, instead of waiting unseen in a lane no relay serves. Lanes a relay subscribes are added.
         *
         * @param lanes the lane names, at least one, each a valid lane name
         * @return this builder
         * @throws IllegalArgumentException naming an invalid lane name, or if there is none
         */
        public Builder lanes(Collection<String> lanes) {
            Objects.requireNonNull(lanes, "lanes");
            if (lanes.isEmpty()) {
                throw new IllegalArgumentException("lanes must name at least one lane");
            }
            Set<String> copy = new LinkedHashSet<>();
            for (String lane : lanes) {
                copy.add(Names.requireLane(lane));
            }
            this.lanes = copy;
            return this;
        }

        /**
         * @param lanes the lane names (see {@link #lanes(Collection)})
         * @return this builder
         */
        public Builder lanes(String... lanes) {
            return lanes(List.of(lanes));
        }

        /** @return the queue */
        public InMemoryTaskQueue build() {
            return new InMemoryTaskQueue(this);
        }
    }
}
