package dev.relay.core;

import dev.relay.api.PermitHolder;
import dev.relay.api.SourcePermits;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's side of cluster-wide {@link SourcePermits}: how many permits this process holds, the revoked permits
 * it still owes back, and the runs it must cancel so that it never runs more queries than it holds.
 *
 * <h2>Model</h2>
 * The store grants, revokes and loses permits on its own threads; those calls only append to an inbox and ask for a
 * control turn ({@link #receive}). Everything else runs in control turns, which own this state: {@code held}
 * (granted, not revoked or lost) and the <em>owed</em> revocations (each a permit still held until its give-back,
 * with the time its grace ends). The engine's limit — an operator's ({@link Relay#permitLimit}), the adaptive
 * {@code P_eff} — is bounded by what is held ({@link #bound}): {@code min(limit, held)}, or 0 while {@code held} is
 * below the number {@code k} of lanes with dedicated permits, because the scheduler keeps one permit for each such
 * lane under any positive limit and this process may not run more queries than it holds. A limit below
 * {@code held} leaves the permits above it idle here (they stay this process's).
 *
 * <h2>Invariants</h2>
 * Let {@code r} be the runs in flight (each holds a permit of the scheduler; a cancelled run counts until its finish
 * turn), {@code o} the owed revocations and {@code o_live} those whose grace has not ended.
 * <ol>
 *   <li>The scheduler starts a run only while {@code r} is below the bounded limit, at most {@code held}: the store's
 *       permits in use by this process never exceed {@code held + o}.
 *   <li>A revocation is given back only in a turn where, after it, {@code r ≤ held + o}: the permit goes back to
 *       the store only when no query beyond what is still held runs on it. Given back oldest first, as soon as a
 *       run ends (the finish turn reconciles before it dispatches).
 *   <li>After every reconciliation the runs not cancelled number at most {@code held + o_live}: a lost permit
 *       (lease ran out, or the store learned it is gone) cancels the newest runs beyond it in the turn that
 *       receives it; a revocation whose grace ended cancels them in the turn its timer runs. A run is cancelled once
 *       ({@link TaskRun#withdraw()}: its cursor is cancelled, its lease released, no attempt counted).
 *   <li>{@code held ≥ 0} and {@code o ≥ 0}; counters never decrease.
 * </ol>
 *
 * <p>Not threadsafe, except the {@link PermitHolder} methods (any thread; they only enqueue) and the published
 * counters ({@link #held()}, {@link #cancellations()}), which any thread may read.
 */
final class PermitGate implements PermitHolder {

    private static final Logger LOG = LoggerFactory.getLogger(PermitGate.class);

    /** What the gate needs from the control loop; every method is called in a control turn. */
    interface Engine {
        /** @return the runs in flight, cancelled ones included until their finish turn */
        int inFlight();

        /** @return the runs in flight that were cancelled already */
        int cancelledInFlight();

        /**
         * Cancels the most recently started runs that are not cancelled yet.
         *
         * @param n how many
         * @return how many were cancelled
         */
        int cancelNewest(int n);

        /** What this process holds changed: re-apply the limit, {@link #bound} included. */
        void heldChanged();

        /** @return the turn's time in nanoseconds */
        long now();

        /** Asks for a turn that calls {@link #reconcile()} after {@code delay}. */
        void wakeAfter(Duration delay);
    }

    private record Owed(int permit, Runnable giveBack, long graceEnds) {
    }

    private final SourcePermits store;
    private final Engine engine;
    private final Runnable requestTurn;
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();

    // owned by the control turn
    private int heldNow;
    private int heldApplied = -1;
    private boolean starvedWarned;
    private final ArrayDeque<Owed> owed = new ArrayDeque<>();
    private long wakeAt = Long.MAX_VALUE;

    // published
    private volatile int held;
    private volatile long cancellations;
    /**
     * Epoch nanos since which a revoked permit is overdue: the earliest grace end among the revocations still owed
     * whose grace has ended; {@link Long#MIN_VALUE} if none.
     */
    private volatile long overdueSince = Long.MIN_VALUE;

    /**
     * @param store the permits
     * @param engine the control loop's side
     * @param requestTurn asks for a control turn that calls {@link #receive()}; any thread
     */
    PermitGate(SourcePermits store, Engine engine, Runnable requestTurn) {
        this.store = store;
        this.engine = engine;
        this.requestTurn = requestTurn;
    }

    // ------------------------------------------------------------------ the store's calls (any thread)

    @Override
    public void granted(int permit) {
        inbox.add(() -> heldNow++);
        requestTurn.run();
    }

    @Override
    public void revoked(int permit, Duration grace, Runnable giveBack) {
        inbox.add(() -> {
            heldNow--;
            owed.add(new Owed(permit, giveBack, engine.now() + Math.max(0, grace.toNanos())));
        });
        requestTurn.run();
    }

    @Override
    public void lost(int permit) {
        inbox.add(() -> {
            // a permit lost while owed is no longer owed; otherwise it was held
            if (!owed.removeIf(o -> o.permit() == permit)) {
                heldNow--;
            }
            LOG.warn("source permit {} lost (its lease ran out unrenewed, or the store gave it away): cancelling the "
                    + "queries beyond the {} permits still held", permit, heldNow + owed.size());
        });
        requestTurn.run();
    }

    // ------------------------------------------------------------------ control turns

    /** Applies what the store said, then {@link #reconcile()}. Control turn. */
    void receive() {
        for (Runnable r; (r = inbox.poll()) != null; ) {
            r.run();
        }
        reconcile();
    }

    /**
     * Bounds the engine's limit by what this process holds. Control turn.
     *
     * @param limit the limit the engine would use (operator's, adaptive)
     * @param dedicatedLanes the lanes with dedicated permits
     * @return {@code min(limit, held)}, or 0 while fewer permits are held than lanes have dedicated permits
     */
    int bound(int limit, int dedicatedLanes) {
        if (heldNow < dedicatedLanes) {
            if (heldNow > 0 && !starvedWarned) {
                starvedWarned = true;
                LOG.warn("holding {} source permits but {} lanes have dedicated permits: starting nothing until this "
                        + "process holds as many", heldNow, dedicatedLanes);
            }
            return 0;
        }
        starvedWarned = false;
        return Math.max(0, Math.min(limit, heldNow));
    }

    /**
     * Gives back what is free, cancels what must stop, has the limit re-applied when what is held changed, and sets the
     * timer of the next grace end.
     * Cheap when nothing is owed and nothing exceeds: the engine calls it in every finish turn. Control turn.
     */
    void reconcile() {
        int r = engine.inFlight();
        while (!owed.isEmpty() && r <= heldNow + owed.size() - 1) {
            owed.poll().giveBack().run();
        }
        int allowed = heldNow;
        long nextGraceEnd = Long.MAX_VALUE;
        long overdue = Long.MIN_VALUE;
        if (!owed.isEmpty()) {
            long now = engine.now();
            for (Owed o : owed) {
                if (o.graceEnds() - now > 0) {
                    allowed++;
                    nextGraceEnd = Math.min(nextGraceEnd, o.graceEnds());
                } else if (overdue == Long.MIN_VALUE || o.graceEnds() < overdue) {
                    overdue = o.graceEnds();
                }
            }
            if (nextGraceEnd != Long.MAX_VALUE && nextGraceEnd != wakeAt) {
                wakeAt = nextGraceEnd;
                engine.wakeAfter(Duration.ofNanos(Math.max(1, nextGraceEnd - now)));
            }
        }
        if (r > allowed) {
            int excess = r - allowed - engine.cancelledInFlight();
            if (excess > 0) {
                int n = engine.cancelNewest(excess);
                cancellations += n;
                LOG.warn("cancelling {} queries on the source: this process holds {} permits ({} still being given "
                        + "back within their grace) but runs {}", n, heldNow, allowed - heldNow, r);
            }
        }
        if (heldNow != heldApplied) {
            heldApplied = heldNow;
            engine.heldChanged();
        }
        held = heldNow + owed.size();
        if (overdueSince != overdue) {
            overdueSince = overdue;
        }
    }

    /**
     * @return epoch nanos since which a revoked permit is still held after its grace (its queries do not end), as of
     *     the last reconciliation; {@link Long#MIN_VALUE} if none. Any thread
     */
    long overdueSince() {
        return overdueSince;
    }

    /** @return the permits this process holds (revoked ones not yet given back included), as last published */
    int held() {
        return held;
    }

    /** @return queries cancelled because their permit was lost or its revocation's grace ended */
    long cancellations() {
        return cancellations;
    }

    /** @return the store */
    SourcePermits store() {
        return store;
    }

    @Override
    public String toString() {
        return "PermitGate[held " + held + ", cancelled " + cancellations + ", " + store + "]";
    }
}
