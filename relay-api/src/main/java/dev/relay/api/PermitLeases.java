package dev.relay.api;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The client side of leased source permits, shared by the cluster-wide {@link SourcePermits} stores: which permits
 * this process holds, until when each lease runs, self-fencing before a lease runs out, and the calls into the
 * {@link PermitHolder}, in order. A store proves its holdings to its coordinator (a Kafka group coordinator, a
 * database) and reports here what it proved and when it asked; this class turns that into grants, revocations and
 * fences.
 *
 * <h2>Leases</h2>
 * A lease is measured from the moment the store <em>sent</em> the request that acquired or renewed the permit
 * ({@link #now()} read before sending): the coordinator received it later, so its own expiry of the permit comes no
 * earlier than {@code sentAt + lease}. This process treats the permit as held only until
 * {@code sentAt + lease − margin}; the margin covers the cancellation of the queries (a {@code Statement.cancel}
 * round trip) and the drift between this process's clock rate and the coordinator's. Times are nanoseconds of one
 * monotonic ticker ({@link System#nanoTime()} unless injected).
 *
 * <h2>States of a permit in this process</h2>
 * <pre>
 *   absent ──granted──▶ HELD ──revoke──▶ REVOKING ──holder gave back / forced──▶ absent
 *                        │  ◀─renewed─┐     │
 *                        └─due/lost─▶ FENCED ◀─due─┘      FENCED ──lost──▶ absent
 * </pre>
 * <h2>Invariants</h2>
 * <ol>
 *   <li>Per permit, the holder sees {@code granted}, then {@code revoked} or {@code lost} or {@code revoked}
 *       followed by {@code lost} (the lease ran out while it was giving the permit back: cancel at once); then
 *       possibly {@code granted} again. Calls are delivered one at a time, in the order the transitions happened,
 *       never under this class's lock.
 *   <li>After {@link #fenceDue()} returns (the timer runs it at the earliest due time), no permit is HELD or
 *       REVOKING whose {@code sentAt + lease − margin} has passed: the holder was told {@code lost} first.
 *   <li>A FENCED permit is granted again only by a renewal sent late enough that its lease is still good
 *       ({@code sentAt + lease − margin > now}).
 *   <li>{@link #revoke} completes its future exactly when the permit stopped being held here: the holder gave it
 *       back, it was lost or fenced, or the store forced it.
 *   <li>{@code held + fenced ≤ total}; counters never decrease.
 * </ol>
 *
 * <p>This class is threadsafe: its state is guarded by its monitor; the store's threads, the fence timer and the
 * holder's {@code giveBack} may call it concurrently.
 */
public final class PermitLeases {

    private enum State { HELD, REVOKING, FENCED }

    private static final class Slot {
        State state;
        long deadline;
        CompletableFuture<Void> revocation;
    }

    private final int total;
    private final long leaseNanos;
    private final long marginNanos;
    private final LongSupplier ticker;
    private final ScheduledExecutorService timer;

    // guarded by this
    private PermitHolder holder;
    private final Slot[] slots;
    private long grants;
    private long revocations;
    private long losses;
    private long renewals;
    private long failedRenewals;
    private long forcedReleases;
    private ScheduledFuture<?> fenceTask;
    private long fenceAt;
    private boolean closed;
    private final ArrayDeque<Runnable> outbox = new ArrayDeque<>();
    private boolean delivering;

    private PermitLeases(Builder b) {
        this.total = b.total;
        this.leaseNanos = b.lease.toNanos();
        this.marginNanos = b.margin.toNanos();
        this.ticker = b.ticker;
        this.timer = b.timer;
        this.slots = new Slot[b.total];
    }

    /**
     * @param total {@code P}, 1 to 10,000
     * @param lease how long the coordinator keeps a permit without renewal
     * @return a builder with a margin of a fifth of the lease, {@link System#nanoTime()} and no timer
     */
    public static Builder builder(int total, Duration lease) {
        return new Builder(total, lease);
    }

    /**
     * Attaches the holder; grants may follow.
     *
     * @param holder the engine
     * @throws IllegalStateException if a holder is attached already
     */
    public void start(PermitHolder holder) {
        Objects.requireNonNull(holder, "holder");
        synchronized (this) {
            if (this.holder != null) {
                throw new IllegalStateException("the permit leases have a holder already");
            }
            this.holder = holder;
        }
    }

    /** @return the ticker's time now, in nanoseconds: read it before sending a request that acquires or renews */
    public long now() {
        return ticker.getAsLong();
    }

    /** @return {@code P} */
    public int total() {
        return total;
    }

    /** @return the lease */
    public Duration lease() {
        return Duration.ofNanos(leaseNanos);
    }

    /**
     * The store acquired the permit (or renewed one it held), by a request sent at {@code sentAt}.
     *
     * @param permit the permit's number
     * @param sentAt {@link #now()} read before the request was sent
     */
    public void granted(int permit, long sentAt) {
        check(permit);
        synchronized (this) {
            requireHolder();
            if (!closed) {
                extend(permit, sentAt, now());
                reschedule();
            }
        }
        deliver();
    }

    /**
     * A renewal sent at {@code sentAt} succeeded for these permits: their leases run from {@code sentAt}; a FENCED
     * one whose renewed lease is still good is granted again. Counts one renewal.
     *
     * @param permits the permits the coordinator confirmed
     * @param sentAt {@link #now()} read before the renewal was sent
     */
    public void renewed(Collection<Integer> permits, long sentAt) {
        permits.forEach(this::check);
        synchronized (this) {
            requireHolder();
            renewals++;
            if (!closed) {
                long now = now();
                for (int k : permits) {
                    if (slots[k] != null) {
                        extend(k, sentAt, now);
                    }
                }
                reschedule();
            }
        }
        deliver();
    }

    /** Counts a renewal that failed; the leases run on and the fence timer acts when one is due. */
    public synchronized void renewalFailed() {
        failedRenewals++;
    }

    /**
     * Takes a permit back from the holder: it stops using it and gives it back once no query runs on it.
     *
     * @param permit the permit's number
     * @param grace how long the holder's running queries may take to finish before it cancels them
     * @return completes when the permit is no longer held here (given back, lost, fenced or forced); at once if it
     *     is not held
     */
    public CompletableFuture<Void> revoke(int permit, Duration grace) {
        check(permit);
        Objects.requireNonNull(grace, "grace");
        CompletableFuture<Void> done;
        synchronized (this) {
            requireHolder();
            Slot s = slots[permit];
            if (s == null) {
                return CompletableFuture.completedFuture(null);
            }
            if (s.state == State.REVOKING) {
                return s.revocation;
            }
            if (s.state == State.FENCED) { // nothing runs on it: the holder was told it is lost
                slots[permit] = null;
                reschedule();
                return CompletableFuture.completedFuture(null);
            }
            revocations++;
            s.state = State.REVOKING;
            done = new CompletableFuture<>();
            s.revocation = done;
            PermitHolder h = holder;
            outbox.add(() -> h.revoked(permit, grace, () -> gaveBack(permit, done)));
        }
        deliver();
        return done;
    }

    private void gaveBack(int permit, CompletableFuture<Void> revocation) {
        synchronized (this) {
            Slot s = slots[permit];
            if (s != null && s.revocation == revocation) {
                slots[permit] = null;
                reschedule();
            }
        }
        revocation.complete(null);
    }

    /**
     * Releases a permit being revoked without waiting longer for the holder (the store's coordinator would
     * otherwise expel this process). Counted as a forced release.
     *
     * @param permit the permit's number
     */
    public void forceRelease(int permit) {
        check(permit);
        CompletableFuture<Void> done = null;
        synchronized (this) {
            Slot s = slots[permit];
            if (s != null && s.state == State.REVOKING) {
                forcedReleases++;
                done = s.revocation;
                slots[permit] = null;
                reschedule();
            }
        }
        if (done != null) {
            done.complete(null);
        }
    }

    /**
     * The store learned that the permit is gone (its coordinator gave it to another process, or the renewal found
     * it expired): the holder is told to cancel now, unless it was fenced already.
     *
     * @param permit the permit's number
     */
    public void lost(int permit) {
        check(permit);
        CompletableFuture<Void> done = null;
        synchronized (this) {
            Slot s = slots[permit];
            if (s == null) {
                return;
            }
            slots[permit] = null;
            if (s.state != State.FENCED) {
                losses++;
                done = s.revocation;
                PermitHolder h = holder;
                outbox.add(() -> h.lost(permit));
            }
            reschedule();
        }
        deliver();
        if (done != null) {
            done.complete(null);
        }
    }

    /**
     * Fences every held permit whose lease is due ({@code sentAt + lease − margin ≤ now}): the holder is told
     * {@code lost}; the permit stays FENCED until a renewal brings it back or the store learns it is gone. The fence
     * timer runs this at the earliest due time; without a timer, the store or a test calls it.
     *
     * @return the ticker time at which the next lease falls due, or {@link Long#MAX_VALUE} if none is held
     */
    public long fenceDue() {
        List<CompletableFuture<Void>> done = new ArrayList<>(0);
        long next;
        synchronized (this) {
            long now = now();
            for (int k = 0; k < total; k++) {
                Slot s = slots[k];
                if (s != null && s.state != State.FENCED && s.deadline - marginNanos - now <= 0) {
                    if (s.revocation != null) {
                        done.add(s.revocation);
                    }
                    s.state = State.FENCED;
                    s.revocation = null;
                    losses++;
                    int permit = k;
                    PermitHolder h = holder;
                    outbox.add(() -> h.lost(permit));
                }
            }
            next = reschedule();
        }
        deliver();
        done.forEach(f -> f.complete(null));
        return next;
    }

    /** @return the permits to renew: held, being revoked, or fenced (a renewal in time brings a fenced one back) */
    public synchronized Set<Integer> renewable() {
        Set<Integer> out = new TreeSet<>();
        for (int k = 0; k < total; k++) {
            if (slots[k] != null) {
                out.add(k);
            }
        }
        return out;
    }

    /** @return the permits held now (granted and not given back, lost or fenced), including those being revoked */
    public synchronized Set<Integer> held() {
        Set<Integer> out = new TreeSet<>();
        for (int k = 0; k < total; k++) {
            if (slots[k] != null && slots[k].state != State.FENCED) {
                out.add(k);
            }
        }
        return out;
    }

    /**
     * @param permit the permit's number
     * @return whether it is being revoked (the store waits for the holder to give it back)
     */
    public synchronized boolean revoking(int permit) {
        check(permit);
        return slots[permit] != null && slots[permit].state == State.REVOKING;
    }

    /** @return the figures, for {@link SourcePermits#status()} */
    public synchronized PermitStatus status() {
        int held = 0;
        int fenced = 0;
        long earliest = Long.MAX_VALUE;
        for (Slot s : slots) {
            if (s == null) {
                continue;
            }
            if (s.state == State.FENCED) {
                fenced++;
            } else {
                held++;
                earliest = Math.min(earliest, s.deadline - marginNanos);
            }
        }
        Duration remaining = earliest == Long.MAX_VALUE ? Duration.ZERO : Duration.ofNanos(Math.max(0, earliest - now()));
        return new PermitStatus(total, held, fenced, Duration.ofNanos(leaseNanos), remaining, grants, revocations, losses,
                renewals, failedRenewals, forcedReleases);
    }

    /**
     * Forgets every permit without telling the holder (the store released them, or is closing) and stops the
     * fence timer; revocations in progress complete. Later grants are ignored.
     */
    public void close() {
        List<CompletableFuture<Void>> done = new ArrayList<>(0);
        synchronized (this) {
            closed = true;
            for (int k = 0; k < total; k++) {
                if (slots[k] != null && slots[k].revocation != null) {
                    done.add(slots[k].revocation);
                }
                slots[k] = null;
            }
            if (fenceTask != null) {
                fenceTask.cancel(false);
                fenceTask = null;
            }
        }
        done.forEach(f -> f.complete(null));
    }

    /** Under the monitor: a lease from {@code sentAt}; grants an absent or fenced permit if the lease is good. */
    private void extend(int permit, long sentAt, long now) {
        long deadline = sentAt + leaseNanos;
        Slot s = slots[permit];
        if (s != null && s.state != State.FENCED) {
            if (deadline - s.deadline > 0) {
                s.deadline = deadline;
            }
            return;
        }
        if (deadline - marginNanos - now <= 0) {
            return; // proved too long ago to be of use; the next renewal may bring it (back)
        }
        if (s == null) {
            s = new Slot();
            slots[permit] = s;
        }
        s.state = State.HELD;
        s.deadline = deadline;
        s.revocation = null;
        grants++;
        PermitHolder h = holder;
        outbox.add(() -> h.granted(permit));
    }

    /** Under the monitor: points the fence timer at the earliest due lease. */
    private long reschedule() {
        long earliest = Long.MAX_VALUE;
        for (Slot s : slots) {
            if (s != null && s.state != State.FENCED) {
                earliest = Math.min(earliest, s.deadline - marginNanos);
            }
        }
        if (timer == null || closed) {
            return earliest;
        }
        if (fenceTask != null && earliest != Long.MAX_VALUE && fenceAt == earliest) {
            return earliest;
        }
        if (fenceTask != null) {
            fenceTask.cancel(false);
            fenceTask = null;
        }
        if (earliest != Long.MAX_VALUE) {
            fenceAt = earliest;
            fenceTask = timer.schedule(this::fenceDue, Math.max(0, earliest - now()), TimeUnit.NANOSECONDS);
        }
        return earliest;
    }

    /** Runs the holder calls queued so far, one thread at a time, in order, outside the monitor. */
    private void deliver() {
        RuntimeException failure = null;
        while (true) {
            Runnable next;
            synchronized (this) {
                if (delivering || outbox.isEmpty()) {
                    break;
                }
                delivering = true;
                next = outbox.poll();
            }
            try {
                next.run();
            } catch (RuntimeException e) { // a faulty holder: the later calls are still delivered, then this surfaces
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            } finally {
                synchronized (this) {
                    delivering = false;
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void requireHolder() {
        if (holder == null) {
            throw new IllegalStateException("the permit leases have no holder yet: call start(holder) first");
        }
    }

    private void check(int permit) {
        if (permit < 0 || permit >= total) {
            throw new IllegalArgumentException("permit " + permit + " is not within [0, " + total + ")");
        }
    }

    @Override
    public synchronized String toString() {
        return "PermitLeases[" + held().size() + "/" + total + " held, lease " + Duration.ofNanos(leaseNanos) + "]";
    }

    /** Builds {@link PermitLeases}. Not threadsafe; {@link #build()} copies the settings. */
    public static final class Builder {
        private final int total;
        private final Duration lease;
        private Duration margin;
        private LongSupplier ticker = System::nanoTime;
        private ScheduledExecutorService timer;

        private Builder(int total, Duration lease) {
            if (total < 1 || total > 10_000) {
                throw new IllegalArgumentException("source permits must be within [1, 10000] but was " + total);
            }
            Objects.requireNonNull(lease, "lease");
            if (lease.isNegative() || lease.isZero()) {
                throw new IllegalArgumentException("the permit lease must be positive but was " + lease);
            }
            this.total = total;
            this.lease = lease;
            this.margin = lease.dividedBy(5);
        }

        /**
         * @param margin how long before its lease runs out a permit is fenced: at least the time a query takes to
         *     stop after its cancellation, plus clock-rate drift; less than the lease
         * @return this builder
         */
        public Builder margin(Duration margin) {
            Objects.requireNonNull(margin, "margin");
            if (margin.isNegative() || margin.compareTo(lease) >= 0) {
                throw new IllegalArgumentException("the fence margin must be within [0, lease " + lease + ") but was " + margin);
            }
            this.margin = margin;
            return this;
        }

        /**
         * @param ticker monotonic nanoseconds (tests inject virtual time)
         * @return this builder
         */
        public Builder ticker(LongSupplier ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * @param timer runs {@link #fenceDue()} when a lease falls due; not shut down by the leases. Without one, the
         *     store (or a test) calls {@code fenceDue()} itself. It must not be the thread that renews (a hung
         *     renewal would hold the fence back)
         * @return this builder
         */
        public Builder timer(ScheduledExecutorService timer) {
            this.timer = Objects.requireNonNull(timer, "timer");
            return this;
        }

        /** @return the leases */
        public PermitLeases build() {
            return new PermitLeases(this);
        }
    }
}
