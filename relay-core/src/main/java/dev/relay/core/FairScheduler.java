package dev.relay.core;

import dev.relay.api.LaneSpec;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A weighted fair scheduler of tasks over lanes, sharing a fixed pool of source permits: deficit round robin
 * with cost charged after completion.
 *
 * <h2>Model</h2>
 * The relay may run at most {@code P} tasks against the source at once ({@link Builder#permits}); at run time
 * {@link #limit(int)} may hold it to fewer, {@code L ≤ P} (the permits this process holds of a cluster-wide
 * pool, or an adaptive limit), which is {@code P} unless set. A lane may reserve {@code d_i} of them
 * ({@link LaneSpec#dedicatedPermits()}); the other {@code S = L - Σ d_i} form the <em>shared pool</em>. Each lane holds a FIFO of ready items (leases) and a {@link LaneSpec}: weight
 * {@code w_i}, in-flight cap, optional token-bucket rate limit, paused or not. The caller asks
 * {@link #next(Starter)} for the next item whenever something changed; it takes a permit and hands the item, its
 * lane and its ticket to the caller's {@link Starter}, or returns {@code false} when nothing may start now. When
 * the item's work ends the caller reports {@link #complete(Lane, long, long)} with
 * the work's actual <em>cost</em> (nanoseconds of source time, or rows — one unit for the whole scheduler).
 *
 * <h2>Algorithm</h2>
 * Lanes that could start a task on the shared pool (ready item, not paused, under their cap, with a rate
 * token) sit in a circular <em>ring</em>. A round-robin pointer visits them in turn. At the start of a visit a
 * lane's deficit grows by its quantum {@code Q_i = w_i · Q}; during the visit the lane starts items while its
 * deficit is positive, each start provisionally charged the lane's cost <em>estimate</em> {@code e_i} (a moving
 * average of its recent actual costs), and at most {@code ⌈Q_i / e_i⌉} of them; then the pointer moves on. At completion the
 * difference {@code actual − estimate} is charged, so over time every lane pays exactly its actual cost
 * ("cost charged after completion"); the estimate only keeps one lane from taking every permit before any of
 * its tasks has finished. Tasks are charged in cost, not counted: a lane of 20-second backfill windows cannot
 * crowd out a lane of 1-second tasks by having bigger tasks.
 *
 * <p>A lane leaving the ring (emptied, capped, paused, out of rate tokens) loses any positive deficit (no
 * banking of credit). A lane that is <em>idle</em> — nothing ready and nothing in flight — also has its debt
 * forgiven when it comes back, as in start-time fair queueing's {@code max(F, V)}: a lane can neither bank
 * credit nor carry debt across idleness, so the daily config lane is not punished today for yesterday's run.
 * Lanes (re)entering the ring are placed last in the current round.
 *
 * <p>Dedicated permits bypass the ring: a lane with a free dedicated permit and a ready item starts it at once
 * (on the next call of {@link #next(Starter)}), uncharged. Dedicated permits are reserved: they stay idle while their
 * lane has nothing to run, which is the price of "within one dispatch".
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>Permits: {@code inUse ≤ P} always, and shared-pool starts only while {@code sharedInUse < S}; a
 *       lane's dedicated starts only while {@code dedicatedInUse_i < d_i}. Nothing else takes a permit. Under a
 *       limit {@code L}, {@code S = L − Σ max(d_i, dedicatedInUse_i)} and the {@code d_i} in force sum to at most
 *       {@code max(L, k)} for {@code k} lanes with dedicated permits (each keeps one); {@code L = 0} starts
 *       nothing. Lowering the limit takes no permit back: once the tasks started before it ended,
 *       {@code inUse ≤ max(L, k)}.
 *   <li>Caps: {@code inFlight_i ≤ maxInFlight_i}; a paused lane starts nothing.
 *   <li>Work conservation (shared pool): if {@code sharedInUse < S} and some lane is in the ring,
 *       {@link #next(Starter)} starts an item. The loop terminates because every step adds a positive quantum to the
 *       visited lane's deficit.
 *   <li>Fair share, for any number of permits. Let lanes i and j stay in the ring through {@code [t1, t2]}, and
 *       let {@code Δ_i = deficit_i + Σ (ticket − cost)} over lane i's shared tasks in flight be its <em>true
 *       deficit</em> (its deficit once those tasks are charged their actual costs). Then
 *       <ol type="a">
 *         <li>the quanta {@code N_i, N_j} the two lanes receive in {@code (t1, t2]} differ by at most one;
 *         <li>the cost of the tasks lane i starts on the shared pool in {@code (t1, t2]} is exactly
 *             {@code N_i·Q_i + Δ_i(t1) − Δ_i(t2)};
 *         <li>{@code Δ_i ≥ −κ_i} at all times, where {@code κ_i = C_i − 1 + (S'_i − 1)·(C_i − μ_i)},
 *             {@code C_i} is the lane's largest task cost, {@code μ_i ≥ 1} the smallest ticket (estimate) it
 *             charges, and {@code S'_i = min(S, maxInFlight_i)} the most shared tasks it can have in flight.
 *       </ol>
 *       Hence no lane gets ahead of another's weighted share by more than a quantum, its own overshoot and the
 *       other's unspent credit:
 *       {@code started_i/w_i − started_j/w_j ≤ Q + (Δ_i(t1) + κ_i)/w_i + (Δ_j(t2) − Δ_j(t1))/w_j}. The last term
 *       is credit lane j keeps while it stays backlogged (a lane whose tasks cost less than its estimates cannot
 *       spend its quanta within a visit's budget). Completed service differs from started service by the tasks in
 *       flight at either end, at most {@code S'_i · C_i}. With {@code P = 1} and exact estimates this is DRR's
 *       classic bound; {@code (S'_i − 1)·(C_i − μ_i)} is what {@code P > 1} adds: a lane whose estimate lags its
 *       costs may have {@code S'_i − 1} tasks charged only {@code μ_i} in flight when its deficit last allowed a
 *       start.
 *       <p><b>Proof.</b> (a) A lane entering the ring is placed last in the current round (just before the
 *       cursor), the cursor visits the ring in order, and a fast-forward adds the same number of quanta to every
 *       lane in the ring; so between two quanta of a lane that stays in the ring every other lane in it receives
 *       exactly one. (b) While a lane stays in the ring its deficit moves only by quanta, by the estimate charged
 *       at a start and by the true-up {@code cost − ticket} at completion; in {@code Δ} the estimate and its
 *       true-up cancel, so {@code Δ} grows by {@code Q_i} per quantum and falls by the cost of each task started.
 *       (c) A start needs {@code deficit ≥ 1} (costs are integers) while at most {@code S'_i − 1} other shared
 *       tasks of the lane are in flight, each of which moves {@code Δ} by {@code ticket − cost ≥ μ_i − C_i}; so
 *       {@code Δ ≥ 1 − (S'_i − 1)(C_i − μ_i)} before the start and {@code Δ ≥ −κ_i} after it (its cost is at most
 *       {@code C_i}). Between starts {@code Δ} only grows, except when a lane leaving the ring loses a positive
 *       deficit, which leaves {@code Δ ≥ −S'_i·(C_i − μ_i) ≥ −κ_i}. The gap follows from (a), (b), (c) with
 *       {@code Q_i = w_i·Q}. ∎
 * </ol>
 *
 * <h2>Starvation bound</h2>
 * <b>Setting.</b> At time {@code t} lane i has a head item (or an item arrives at it), lane i can start on the
 * shared pool (not paused, under its cap, with a rate token), and the configuration does not change until the
 * item starts at {@code T} (lanes, specs, pauses, {@code P}, the limit; a change calls for a new bound). Cost is
 * the time a task holds its permit ({@link CostMeasure#SOURCE_TIME}) and a freed permit is dispatched again at
 * once. For each lane j: {@code C_j} is the largest cost of its tasks (declared: {@link LaneSpec#maxTaskCost()}),
 * {@code μ_j ≥ 1} a lower bound of the tickets it charges (estimates never go below 1), {@code S'_j} and
 * {@code κ_j} are as in invariant 4 (with the largest pool {@code S} may grow to), and {@code d_j} is its deficit
 * at {@code t}.
 *
 * <p><b>Step 1: the quanta lane i needs.</b> Its own shared tasks in flight may still be charged
 * {@code π_i = Σ (C_i − ticket)⁺}. If its visit is in progress (the cursor is on it) and {@code d_i − π_i > 0},
 * its item takes the next shared permit to free ({@code R = 0}). Otherwise it starts at the {@code R}-th quantum
 * it receives, {@code R = 1 + ⌊max(0, π_i − d_i) / Q_i⌋} (with {@code d_i} replaced by {@code max(d_i, 0)} for an
 * item arriving at an idle lane, whose debt is forgiven).
 *
 * <p><b>Step 2: what the other lanes start first.</b> By the ring order of invariant 4(a), before lane i's
 * {@code R}-th quantum a lane j receives at most {@code V_j = R} quanta if it is <em>ahead</em> of i — between
 * the cursor and i; every lane if i's own visit is in progress (it may end without a start, and lanes entering
 * the ring meanwhile are placed just before i); every lane in the ring if i is about to enter it — and at most
 * {@code V_j = R − 1} otherwise; the cursor lane, whose visit is in progress ({@code A_j = 1}), finishes that
 * visit first and then receives {@code R − 1}. The cost {@code W_j} of what lane j starts on the shared pool
 * before lane i's item is at most the smaller of
 * <ul>
 *   <li>the <em>count form</em> {@code C_j · (V_j · ⌈Q_j / μ_j⌉ + A_j · b)}: a visit starts at most
 *       {@code ⌈Q_j / e_j⌉ ≤ ⌈Q_j / μ_j⌉} items (and at most 2<sup>16</sup>), {@code b} is what is left of the
 *       visit in progress; and
 *   <li>the <em>deficit form</em> {@code G_j + V_j·Q_j + (V_j + A_j)·κ_j}, where {@code G_j ≥ Δ_j(t)} is its
 *       deficit plus the most its tasks in flight can be refunded ({@code ticket − elapsed} each), and at least
 *       0 for a lane with nothing ready (it may go idle and have its debt forgiven). By invariant 4(b) the
 *       tasks it starts cost {@code Δ_j(t)} plus the quanta it receives plus the debt forgiven when it returns
 *       from idle, less {@code Δ_j} after its last start, which is at least {@code −κ_j} (4c). A forgiveness is
 *       at most {@code κ_j} too (the debt after a start, once its tasks are charged), and one that matters sits
 *       between two visits with starts, so there are at most {@code V_j + A_j − 1} of them.
 * </ul>
 * A paused lane starts nothing. {@code W = Σ_{j ≠ i} W_j}.
 *
 * <p><b>Step 3: permits.</b> While the item waits, lane i is in the ring, so no shared permit is idle (invariant
 * 3). Let the shared permits free at the latest at {@code t + ρ_q}: 0 for a free one, {@code C_j − elapsed} for
 * one held by lane j. From {@code t + ρ_q} to {@code T} permit q runs tasks started after {@code t} by other
 * lanes, different ones on different permits, so for every {@code k}: {@code Σ_{q ≤ k} (T − t − ρ_(q)) ≤ W}
 * over the {@code k} permits that free first. Hence
 * <pre>
 *   T − t  ≤  min over 1 ≤ k ≤ n of  (ρ_(1) + … + ρ_(k) + W) / k
 * </pre>
 * Two refinements keep this true and make it tighter. A task of a lane j ≠ i whose {@code W_j} is its deficit
 * form over the task's whole range of run times (at least one visit; the deficit form positive and no larger
 * than the count form; {@code G_j ≥ 0} throughout for a lane with nothing ready) counts as freeing its permit at
 * once ({@code ρ = 0}): each unit it runs longer is charged to lane j and lowers {@code W_j} by one unit, which
 * offsets it in every term (each term grows by at most one unit per unit of {@code ρ}). Lanes without a known
 * maximum may hold {@code U = Σ min(S, maxInFlight_j)} permits at any time; then only {@code n = S − U} permits
 * serve the others, and the {@code U} minus their tasks in flight permits that free first are assumed taken by
 * them. With a free dedicated permit lane i's item starts on
 * the next dispatch ({@code T = t}, "within one dispatch"); with all its dedicated permits busy,
 * {@code T − t} is also at most the time its first dedicated task can end. ∎
 *
 * <p><b>At run time.</b> {@link #startBound} evaluates this bound with the declared maximum costs,
 * {@code μ_j = 1} and the elapsed time of each task in flight: a <em>guarantee</em>, as long as the configuration
 * does not change and the tasks keep within their declarations. It is {@link #UNBOUNDED} where no guarantee
 * follows from what the scheduler knows: the lane is paused, at its cap or out of rate tokens (it waits for an
 * operator, its own tasks or a token first), its own tasks have no declared maximum, or the lanes without one
 * may hold every shared permit. A lane whose task overran its declaration counts as undeclared until another
 * maximum is declared for it ({@link Lane#maxTaskCostExceeded()}). {@link #startEstimate} is the same computation
 * with the largest costs seen standing in for declarations: an estimate, named so.
 *
 * <p><b>Tightness.</b> The bound is reached exactly: on {@code P} permits, with {@code P} one-task lanes taking
 * every permit for {@code C}, {@code 3P} one-task lanes ahead and quantum 1, an item arriving at an idle lane
 * waits {@code 4C}, the bound; on one permit, lanes whose visits overshoot their deficit by a task of
 * {@code C_j} make an item wait exactly {@code ρ + Σ (G_j + Q_j + C_j − 1)} ({@code StartBoundTest}). An
 * adversarial search over 1 to 8 permits found no wait above the bound ({@code StartBoundPropertiesTest}), nor did
 * the real engine on virtual time ({@code StartBoundSimulationTest} in relay-simulation).
 *
 * <p>For the PeMS incident ({@code P = 1}, {@code Q} = 1 s, backfill weight 1 with tasks of at most 22 s,
 * realtime weight 4 with 2–5 s tasks, both declared, config arriving idle): every lane in the ring is ahead, so
 * a config task waits at most {@code ρ + (G_b + 1 s + 22 s) + (G_r + 4 s + 5 s)}, about {@code ρ + 32 s} plus the
 * two lanes' credits — one backfill task and one round — instead of a week.
 *
 * <h2>Cost</h2>
 * {@link #next(Starter)} and {@link #complete} run in O(1) amortized time and allocate nothing: lanes are
 * intrusive list nodes, ready items sit in each lane's {@link ArrayDeque}, and the choice (lane, item, ticket)
 * is handed to the caller's {@link Starter} — one object the caller keeps — rather than returned in a result
 * object. A visit that
 * starts nothing adds {@code Q_i ≥ Q} to a debt that is at most the cost of the lane's own finished tasks, so
 * such skips are bounded by the total cost divided by {@code Q}. The starvation bound is not on the decision
 * path: {@link #startBound} and {@link #startEstimate} take O(lanes + tasks in flight · log) and allocate, and the
 * engine calls them for snapshots and head reports only.
 *
 * <p>Size: this file is well above the package's ~500 lines because it is one data structure — the ring, the
 * dedicated list, the permit counts and each lane's state change together in every decision, under invariants 1–4 —
 * and because its comments carry the model, the invariants and the proof of the bound; the evaluation of the bound
 * lives apart, in {@code StartBound}.
 *
 * <p>References: M. Shreedhar and G. Varghese, "Efficient Fair Queueing using Deficit Round Robin", SIGCOMM
 * 1995; P. Goyal, H. Vin, H. Cheng, "Start-time Fair Queueing", SIGCOMM 1996.
 *
 * <p><b>This class is not threadsafe.</b> The engine's control turns — one at a time — own a scheduler and all
 * its lanes; the simulation harness drives it from its single event loop.
 *
 * @param <T> the item type (the engine schedules leases)
 */
public final class FairScheduler<T> {

    /** Weight of the newest cost in the moving average that forms a lane's estimate: 1/4. */
    private static final int ESTIMATE_SHIFT = 2;

    private final int permits;
    /** The permits that may be used now, {@code L ≤ P}: see {@link #limit(int)}. */
    private int limit;
    private final long quantum;
    private final Clock clock;

    private int dedicatedTotal;
    private int sharedInUse;
    private int dedicatedInUse;

    /** Ring of lanes eligible for the shared pool; {@code cursor} is the lane being visited. */
    private Lane<T> cursor;
    private int ringSize;
    /** Whether {@link #cursor} already received its quantum for the current visit. */
    private boolean visiting;
    /** Starts left in the current visit: {@code ⌈Q_i / e_i⌉} at its beginning. */
    private int visitBudget;

    /** The most starts one visit may make, whatever the estimate: keeps a visit O(1). */
    static final int MAX_STARTS_PER_VISIT = 1 << 16;

    /** Lanes with a free dedicated permit and a startable item (intrusive list). */
    private Lane<T> dedicatedHead;
    private Lane<T> dedicatedTail;

    private final List<Lane<T>> lanes = new ArrayList<>();
    private final List<Lane<T>> rateBlocked = new ArrayList<>();

    private FairScheduler(Builder b) {
        this.permits = b.permits;
        this.limit = b.permits;
        this.quantum = b.quantum;
        this.clock = b.clock;
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ lanes

    /**
     * Adds a lane.
     *
     * @param spec the lane's specification
     * @return the lane's handle
     * @throws IllegalArgumentException if a lane of that name exists or the dedicated permits do not fit
     */
    public Lane<T> addLane(LaneSpec spec) {
        Objects.requireNonNull(spec, "spec");
        for (Lane<T> l : lanes) {
            if (l.name.equals(spec.name()) && !l.removed) {
                throw new IllegalArgumentException("lane '" + spec.name() + "' exists already");
            }
        }
        checkDedicated(spec.name(), spec.dedicatedPermits(), null);
        Lane<T> lane = new Lane<>(spec, quantum, clock.millis());
        lanes.add(lane);
        applyLimit();
        return lane;
    }

    /**
     * Changes a lane's weight, caps, dedicated permits or rate limit while running. Its queue, deficit and
     * in-flight tasks stay.
     *
     * @param lane the lane
     * @param spec the new specification, with the same name
     */
    public void updateLane(Lane<T> lane, LaneSpec spec) {
        requireLive(lane);
        if (!spec.name().equals(lane.name)) {
            throw new IllegalArgumentException("lane '" + lane.name + "' cannot be renamed to '" + spec.name() + "'");
        }
        checkDedicated(spec.name(), spec.dedicatedPermits(), lane);
        lane.apply(spec, clock.millis());
        applyLimit();
        refresh(lane);
    }

    /**
     * Sets the number of permits the scheduler may use from now on, {@code L ≤ P} — the permits this process
     * holds of a cluster-wide pool, or an adaptive limit below the configured {@code P}. Lowering it preempts
     * nothing: tasks in flight keep their permits, and the lower limit takes effect as they end. Raising it lets
     * the next {@link #next(Starter)} start work at once.
     *
     * <p>Dedicated permits come first: while {@code L ≥ Σ d_i} every lane keeps its {@code d_i} and the shared
     * pool is {@code L − Σ d_i}. Below that each lane's dedicated permits shrink in proportion, but a lane that
     * has dedicated permits keeps at least one: with {@code k} such lanes, the permits in use come to at most
     * {@code max(L, k)} (never more than {@code P}) once the tasks started before the change ended. While some lane
     * has no dedicated permits and {@code L > k}, one permit stays in the shared pool (the dedicated permits shrink
     * from {@code L ≤ Σ d_i} on), so that such lanes keep running: {@code L = k + 1} is the lowest limit that starves
     * no lane. {@code L = 0} stops every start, dedicated ones included (a process that lost its permits, a brake).
     *
     * @param limit the permits to use, within {@code [0, P]}
     * @throws IllegalArgumentException if the limit is outside {@code [0, P]}
     */
    public void limit(int limit) {
        if (limit < 0 || limit > permits) {
            throw new IllegalArgumentException("permit limit must be within [0, " + permits + "] but was " + limit);
        }
        this.limit = limit;
        applyLimit();
    }

    /**
     * Recomputes every lane's dedicated permits in force from the limit, and what they reserve. O(lanes); runs
     * only when lanes or the limit change. Below {@code Σ d_i} (below {@code Σ d_i + 1} while a lane has none and
     * {@code L > k}: one permit is kept for the shared pool), each of the {@code k} lanes with dedicated permits
     * keeps one and the other {@code L − k} (less the kept one) are shared out in proportion to {@code d_i − 1}
     * (rounded down; the remainder joins the shared pool), so {@code Σ d'_i ≤ max(L, k)}.
     */
    private void applyLimit() {
        int configured = 0;
        int withDedicated = 0;
        boolean sharedOnly = false;
        for (Lane<T> l : lanes) {
            configured += l.dedicatedConfigured;
            if (l.dedicatedConfigured > 0) {
                withDedicated++;
            } else {
                sharedOnly = true;
            }
        }
        // while a lane has no dedicated permits and the limit allows more than one permit per lane that has, one
        // permit stays in the shared pool, so that the lanes without dedicated permits keep running
        int keep = sharedOnly && limit > withDedicated ? 1 : 0;
        int extra = Math.max(0, limit - withDedicated - keep);
        int extraWanted = configured - withDedicated;
        for (Lane<T> l : lanes) {
            int d = l.dedicatedConfigured;
            if (limit == 0) {
                d = 0;
            } else if (configured > limit - keep && d > 0) {
                d = extraWanted == 0 ? 1 : 1 + (int) ((long) (d - 1) * extra / extraWanted);
            }
            l.dedicated = d;
            reserve(l);
            refresh(l);
        }
    }

    /**
     * A lane reserves {@code max(dedicated, dedicatedInUse)} permits: lowering its dedicated permits (or
     * removing it) frees them for the shared pool only as its dedicated tasks finish.
     */
    private void reserve(Lane<T> lane) {
        int r = Math.max(lane.dedicated, lane.dedicatedInUse);
        dedicatedTotal += r - lane.reserved;
        lane.reserved = r;
    }

    /** Σ over the other lanes of {@code max(d_j, dedicatedInUse_j)}, plus {@code wanted}, must fit in {@code P}. */
    private void checkDedicated(String name, int wanted, Lane<T> self) {
        int others = 0;
        for (Lane<T> l : lanes) {
            if (l != self) {
                others += Math.max(l.dedicatedConfigured, l.dedicatedInUse);
            }
        }
        if (others + wanted > permits) {
            throw new IllegalArgumentException("lane '" + name + "' asks for " + wanted + " dedicated permits, but only "
                    + (permits - others) + " of the " + permits + " source permits are not dedicated");
        }
    }

    /**
     * Removes a lane. It starts nothing more; its ready items are returned so that the caller can give them
     * back; items in flight still {@link #complete} normally and release their permits.
     *
     * @param lane the lane
     * @return the items that were ready, in order
     */
    public List<T> removeLane(Lane<T> lane) {
        requireLive(lane);
        List<T> left = new ArrayList<>(lane.ready);
        lane.ready.clear();
        lane.removed = true;
        refresh(lane);
        lane.dedicatedConfigured = 0;
        lane.dedicated = 0;
        reserve(lane);
        lanes.remove(lane);
        rateBlocked.remove(lane);
        applyLimit();
        return left;
    }

    /**
     * Pauses a lane: it starts nothing and holds no permit while it waits; tasks in flight go on.
     *
     * @param lane the lane
     */
    public void pause(Lane<T> lane) {
        requireLive(lane);
        lane.paused = true;
        refresh(lane);
    }

    /**
     * Resumes a paused lane.
     *
     * @param lane the lane
     */
    public void resume(Lane<T> lane) {
        requireLive(lane);
        lane.paused = false;
        refresh(lane);
    }

    /**
     * Adds a ready item at the tail of a lane.
     *
     * @param lane the lane
     * @param item the item
     */
    public void enqueue(Lane<T> lane, T item) {
        requireLive(lane);
        Objects.requireNonNull(item, "item");
        if (lane.ready.isEmpty() && lane.inFlight == 0) {
            lane.deficit = Math.max(lane.deficit, 0); // back from idle: debt forgiven
        }
        lane.ready.addLast(item);
        if (lane.ready.size() == 1) {
            refresh(lane);
        }
    }

    /**
     * Takes back the ready items of a lane (for example to release them at shutdown).
     *
     * @param lane the lane
     * @return the ready items, in order
     */
    public List<T> drainReady(Lane<T> lane) {
        List<T> left = new ArrayList<>(lane.ready);
        lane.ready.clear();
        refresh(lane);
        return left;
    }

    // ------------------------------------------------------------------ decisions

    /**
     * Receives the scheduler's choice: called by {@link #next(Starter)} once per start, synchronously, on the
     * caller's thread. Keep one instance (the engine's control turn implements it), so that a decision allocates
     * nothing.
     *
     * @param <T> the item type
     */
    @FunctionalInterface
    public interface Starter<T> {
        /**
         * An item started: its permit is taken. The scheduler's state is consistent when this is called, but the
         * callee must not call back into the scheduler before it returns.
         *
         * @param lane the item's lane
         * @param item the item, removed from the head of its lane
         * @param ticket hand it back to {@link #complete(Lane, long, long)} when the item's work ends
         */
        void onStart(Lane<T> lane, T item, long ticket);
    }

    /**
     * Starts the next item if a permit and an eligible lane allow it, and hands it to {@code starter}. Allocates
     * nothing.
     *
     * @param starter receives the item, its lane and its ticket
     * @return true if an item started (and {@code starter} was called once); false if nothing may start now
     */
    public boolean next(Starter<T> starter) {
        if (sharedInUse + dedicatedInUse >= permits) {
            return false; // the hard cap, whatever reconfiguration happened meanwhile
        }
        Lane<T> d = dedicatedHead;
        if (d != null) {
            start(d, true, starter);
            return true;
        }
        if (sharedInUse >= limit - dedicatedTotal) {
            return false;
        }
        int skipped = 0;
        while (cursor != null) {
            Lane<T> l = cursor;
            if (!visiting) {
                l.deficit += l.quantum;
                long starts = (l.quantum + l.estimate - 1) / l.estimate;
                visitBudget = (int) Math.min(MAX_STARTS_PER_VISIT, Math.max(1, starts));
                visiting = true;
            }
            if (l.deficit > 0) {
                start(l, false, starter);
                return true;
            }
            advance();
            if (++skipped >= ringSize) {
                fastForward();
                skipped = 0;
            }
        }
        return false;
    }

    /**
     * A whole round started nothing: every lane in the ring is in debt. Adds the quanta of the rounds in which
     * still no lane would become positive, at once, so that a decision never loops through more than about
     * two rounds. Equivalent to running those empty rounds; O(lanes in the ring), and rare.
     */
    private void fastForward() {
        long rounds = Long.MAX_VALUE;
        Lane<T> l = cursor;
        do {
            long need = (1 - l.deficit + l.quantum - 1) / l.quantum; // visits until positive
            rounds = Math.min(rounds, need);
            l = l.next;
        } while (l != cursor);
        long empty = rounds - 1;
        if (empty > 0) {
            l = cursor;
            do {
                l.deficit += empty * l.quantum;
                l = l.next;
            } while (l != cursor);
        }
    }

    private void start(Lane<T> l, boolean dedicated, Starter<T> starter) {
        T item = l.ready.pollFirst();
        l.inFlight++;
        long ticket;
        if (dedicated) {
            l.dedicatedInUse++;
            dedicatedInUse++;
            ticket = DEDICATED_TICKET;
        } else {
            sharedInUse++;
            long e = l.estimate;
            l.deficit -= e;
            ticket = e;
            l.chargedShared += e;
        }
        l.started++;
        if (l.rate > 0) {
            l.tokens -= 1.0;
        }
        if (!dedicated && cursor == l && (--visitBudget <= 0 || l.deficit <= 0)) {
            advance(); // visit spent
        }
        refresh(l);
        starter.onStart(l, item, ticket);
    }

    /** The ticket of a start on a dedicated permit. */
    static final long DEDICATED_TICKET = -1L;

    /**
     * Reports that an item's work ended (whatever the outcome) and releases its permit.
     *
     * @param lane the item's lane
     * @param ticket the ticket handed to the {@link Starter} when the item started
     * @param cost the work's actual cost, not negative (0 if it never reached the source)
     */
    public void complete(Lane<T> lane, long ticket, long cost) {
        if (cost < 0) {
            throw new IllegalArgumentException("cost must not be negative but was " + cost + " in lane '" + lane.name + "'");
        }
        if (lane.inFlight <= 0) {
            throw new IllegalStateException("lane '" + lane.name + "' has no task in flight to complete");
        }
        lane.inFlight--;
        lane.completed++;
        lane.served += cost;
        if (ticket == DEDICATED_TICKET) {
            lane.dedicatedInUse--;
            dedicatedInUse--;
            reserve(lane);
        } else {
            sharedInUse--;
            lane.deficit -= cost - ticket; // true-up of the estimate charged at start
            lane.chargedShared += cost - ticket;
            lane.servedShared += cost;
        }
        if (cost > lane.maxCost) {
            lane.maxCost = cost;
        }
        if (cost > lane.maxCostSinceDeclared) {
            lane.maxCostSinceDeclared = cost;
        }
        if (cost < lane.minCost) {
            lane.minCost = cost;
        }
        long est = lane.estimate + ((Math.max(cost, 1) - lane.estimate) >> ESTIMATE_SHIFT);
        lane.estimate = Math.max(1, est);
        if (lane.estimate < lane.minEstimate) {
            lane.minEstimate = lane.estimate;
        }
        if (!lane.removed) {
            refresh(lane);
        }
    }

    /**
     * Re-checks rate-limited lanes whose tokens may have refilled. Call it when the time of
     * {@link #nextRateRefillMillis()} has come.
     */
    public void refreshRates() {
        for (int i = rateBlocked.size() - 1; i >= 0; i--) {
            refresh(rateBlocked.get(i));
        }
    }

    /**
     * @return the clock millis at which a rate-limited lane with ready work gets its next token, or
     *     {@link Long#MAX_VALUE} if none waits for one
     */
    public long nextRateRefillMillis() {
        long min = Long.MAX_VALUE;
        for (int i = 0, n = rateBlocked.size(); i < n; i++) { // indexed: called at every dispatch, allocates nothing
            Lane<T> l = rateBlocked.get(i);
            double missing = 1.0 - l.tokens;
            long at = l.lastRefill + (long) Math.ceil(missing * 1000.0 / l.rate);
            min = Math.min(min, at);
        }
        return min;
    }

    // ------------------------------------------------------------------ eligibility

    private void refresh(Lane<T> l) {
        boolean wantsWork = !l.removed && !l.paused && !l.ready.isEmpty() && l.inFlight < l.maxInFlight;
        boolean hasToken = true;
        if (wantsWork && l.rate > 0) {
            l.refill(clock.millis());
            hasToken = l.tokens >= 1.0;
        }
        boolean blocked = wantsWork && !hasToken;
        if (blocked != l.rateBlockedListed) {
            if (blocked) {
                rateBlocked.add(l);
            } else {
                rateBlocked.remove(l);
            }
            l.rateBlockedListed = blocked;
        }
        boolean ring = wantsWork && hasToken;
        if (ring != l.inRing) {
            if (ring) {
                ringInsert(l);
            } else {
                ringRemove(l);
                if (l.deficit > 0) {
                    l.deficit = 0; // no banking of credit
                }
            }
        }
        boolean ded = ring && l.dedicatedInUse < l.dedicated;
        if (ded != l.inDedicated) {
            if (ded) {
                dedicatedAppend(l);
            } else {
                dedicatedRemove(l);
            }
        }
    }

    private void ringInsert(Lane<T> l) {
        l.inRing = true;
        if (cursor == null) {
            l.next = l;
            l.prev = l;
            cursor = l;
            visiting = false;
        } else { // last in the current round: just before the cursor
            Lane<T> p = cursor.prev;
            l.prev = p;
            l.next = cursor;
            p.next = l;
            cursor.prev = l;
        }
        ringSize++;
    }

    private void ringRemove(Lane<T> l) {
        l.inRing = false;
        ringSize--;
        if (l.next == l) {
            cursor = null;
            visiting = false;
        } else {
            if (cursor == l) {
                cursor = l.next;
                visiting = false;
            }
            l.prev.next = l.next;
            l.next.prev = l.prev;
        }
        l.next = null;
        l.prev = null;
    }

    private void advance() {
        cursor = cursor.next;
        visiting = false;
    }

    private void dedicatedAppend(Lane<T> l) {
        l.inDedicated = true;
        l.dNext = null;
        l.dPrev = dedicatedTail;
        if (dedicatedTail == null) {
            dedicatedHead = l;
        } else {
            dedicatedTail.dNext = l;
        }
        dedicatedTail = l;
    }

    private void dedicatedRemove(Lane<T> l) {
        l.inDedicated = false;
        if (l.dPrev == null) {
            dedicatedHead = l.dNext;
        } else {
            l.dPrev.dNext = l.dNext;
        }
        if (l.dNext == null) {
            dedicatedTail = l.dPrev;
        } else {
            l.dNext.dPrev = l.dPrev;
        }
        l.dNext = null;
        l.dPrev = null;
    }

    private void requireLive(Lane<T> lane) {
        Objects.requireNonNull(lane, "lane");
        if (lane.removed) {
            throw new IllegalStateException("lane '" + lane.name + "' was removed");
        }
    }

    // ------------------------------------------------------------------ observation

    /** @return the total number of source permits {@code P} */
    public int permits() {
        return permits;
    }

    /** @return permits in use now, shared and dedicated */
    public int permitsInUse() {
        return sharedInUse + dedicatedInUse;
    }

    /** @return shared-pool permits in use now */
    public int sharedPermitsInUse() {
        return sharedInUse;
    }

    /** @return the permit limit {@code L ≤ P} in force (see {@link #limit(int)}); {@code P} unless lowered */
    public int limit() {
        return limit;
    }

    /** @return the size of the shared pool now, {@code max(0, L − Σ reserved dedicated)} */
    public int sharedPermits() {
        return Math.max(0, limit - dedicatedTotal);
    }

    /** @return the base quantum {@code Q}, in cost units */
    public long quantum() {
        return quantum;
    }

    /** @return the live lanes, in the order they were added */
    public List<Lane<T>> lanes() {
        return Collections.unmodifiableList(lanes);
    }

    /** @return how many lanes could start a task on the shared pool now */
    public int eligibleLanes() {
        return ringSize;
    }

    /** The bound of a head item whose wait the scheduler cannot bound: {@link Long#MAX_VALUE}. */
    public static final long UNBOUNDED = Long.MAX_VALUE;

    /**
     * A task holding a permit, as the caller knows it: what {@link #startBound} needs beyond the scheduler's own
     * state. The engine keeps these for its tasks in flight.
     *
     * @param <T> the item type
     */
    public interface Running<T> {
        /** @return the task's lane */
        Lane<T> lane();

        /** @return the ticket the {@link Starter} received when the task started */
        long ticket();

        /**
         * @return the cost the task has accrued so far, not negative: its source time until now when the cost is
         *     source time, 0 when unknown (rows are counted only at the end)
         */
        long elapsed();

        /**
         * @param lane the task's lane
         * @param ticket its ticket
         * @param elapsed the cost it has accrued so far, not negative
         * @param <T> the item type
         * @return a value holding them
         */
        static <T> Running<T> of(Lane<T> lane, long ticket, long elapsed) {
            return new RunningTask<>(lane, ticket, elapsed);
        }
    }

    /** The plain {@link Running}. */
    record RunningTask<T>(Lane<T> lane, long ticket, long elapsed) implements Running<T> {
        RunningTask {
            Objects.requireNonNull(lane, "lane");
            if (elapsed < 0) {
                throw new IllegalArgumentException("elapsed cost must not be negative but was " + elapsed + " in lane '"
                        + lane.name + "'");
            }
            if (ticket < 1 && ticket != DEDICATED_TICKET) {
                throw new IllegalArgumentException("ticket " + ticket + " of lane '" + lane.name + "' was not handed out by a scheduler");
            }
        }
    }

    /**
     * The starvation bound of the class comment for lane {@code i}'s head item, evaluated now: a <b>guarantee</b>
     * that the item starts within this much cost from now (a time when the cost is source time), as long as the
     * configuration does not change meanwhile (lanes, their specs, pauses, permits, limit) and every task stays
     * within its lane's declared {@link LaneSpec#maxTaskCost() maximum cost}. If the lane has no ready item, the
     * bound is that of an item arriving now.
     *
     * <p>{@link #UNBOUNDED} when no guarantee follows from what the scheduler knows: the lane is paused, at its
     * in-flight cap or out of rate tokens (it waits for an operator, its own tasks or a token first); its own tasks
     * in flight have no declared maximum; or the lanes without a declared maximum (or whose task overran it) may
     * hold every shared permit ({@code Σ min(S, maxInFlight_j) ≥ S}). Zero with a free dedicated permit.
     *
     * <p>Off the decision path: O(lanes + tasks · log tasks), allocating.
     *
     * @param lane the lane
     * @param running every task holding a permit now (the scheduler checks the counts against its own)
     * @return the bound in cost units, or {@link #UNBOUNDED}
     * @throws IllegalArgumentException if {@code running} does not match the permits in use
     */
    public long startBound(Lane<T> lane, Collection<? extends Running<T>> running) {
        return StartBound.evaluate(this, Objects.requireNonNull(lane, "lane"), running, StartBound.GUARANTEE);
    }

    /**
     * The same bound as {@link #startBound}, with every lane's largest cost seen so far (and its estimate)
     * standing in for an undeclared maximum: an <b>estimate</b>, not a guarantee — a lane whose longest task has
     * not run yet may make the wait longer. {@link #UNBOUNDED} only when the lane cannot start now (paused, at its
     * cap, out of rate tokens) or the limit leaves no shared permit.
     *
     * @param lane the lane
     * @param running every task holding a permit now
     * @return the estimate in cost units, or {@link #UNBOUNDED}
     * @throws IllegalArgumentException if {@code running} does not match the permits in use
     */
    public long startEstimate(Lane<T> lane, Collection<? extends Running<T>> running) {
        return StartBound.evaluate(this, Objects.requireNonNull(lane, "lane"), running, StartBound.ESTIMATE);
    }

    // the ring's state, read by StartBound

    List<Lane<T>> lanesView() {
        return lanes;
    }

    Lane<T> ringCursor() {
        return cursor;
    }

    boolean ringVisiting() {
        return visiting;
    }

    int ringVisitBudget() {
        return visitBudget;
    }

    int dedicatedPermitsInUse() {
        return dedicatedInUse;
    }

    long nowMillis() {
        return clock.millis();
    }

    @Override
    public String toString() {
        return "FairScheduler[permits " + permitsInUse() + "/" + limit + " of " + permits + " (shared " + sharedInUse + "/" + sharedPermits()
                + "), lanes=" + lanes + "]";
    }

    /**
     * A lane's state inside a {@link FairScheduler}. Read-only to callers; owned by the scheduler's thread.
     *
     * @param <T> the item type
     */
    public static final class Lane<T> {
        final String name;
        final ArrayDeque<T> ready = new ArrayDeque<>();
        final long baseQuantum;
        int weight;
        long quantum;
        int maxInFlight;
        /** Dedicated permits as configured ({@link LaneSpec#dedicatedPermits()}). */
        int dedicatedConfigured;
        /** Dedicated permits in force: the configured ones, scaled down under a lower {@link FairScheduler#limit(int)}. */
        int dedicated;
        /** Permits this lane holds out of the shared pool: {@code max(dedicated, dedicatedInUse)}. */
        int reserved;
        double rate;
        int burst;
        double tokens;
        long lastRefill;

        long deficit;
        long estimate;
        long minEstimate;
        long maxCost;
        long minCost = Long.MAX_VALUE;
        /** The declared maximum cost of one task ({@link LaneSpec#maxTaskCost()}); 0 if none. */
        long declaredMaxCost;
        /** The largest cost completed since the maximum was declared: above it, the declaration was wrong. */
        long maxCostSinceDeclared;
        int inFlight;
        int dedicatedInUse;
        boolean paused;
        boolean removed;

        long started;
        long completed;
        long served;
        long servedShared;
        long chargedShared;

        boolean inRing;
        Lane<T> next;
        Lane<T> prev;
        boolean inDedicated;
        Lane<T> dNext;
        Lane<T> dPrev;
        boolean rateBlockedListed;

        Lane(LaneSpec spec, long baseQuantum, long nowMillis) {
            this.name = spec.name();
            this.baseQuantum = baseQuantum;
            apply(spec, nowMillis);
            this.estimate = quantum;
            this.minEstimate = quantum;
            this.tokens = burst;
        }

        void apply(LaneSpec spec, long nowMillis) {
            this.weight = spec.weight();
            this.quantum = Math.multiplyExact(baseQuantum, (long) spec.weight());
            this.maxInFlight = spec.maxInFlight();
            this.dedicatedConfigured = spec.dedicatedPermits();
            long declared = spec.maxTaskCost().orElse(0);
            if (declared != declaredMaxCost) {
                declaredMaxCost = declared;
                maxCostSinceDeclared = 0; // a new declaration is judged by the tasks that complete after it
            }
            double newRate = spec.ratePerSecond().orElse(0);
            if (newRate != rate) {
                refill(nowMillis);
                this.rate = newRate;
            }
            this.burst = spec.rateBurst();
            this.lastRefill = nowMillis;
            this.tokens = Math.min(tokens, burst);
        }

        void refill(long nowMillis) {
            if (rate > 0 && nowMillis > lastRefill) {
                tokens = Math.min(burst, tokens + (nowMillis - lastRefill) * rate / 1000.0);
            }
            lastRefill = Math.max(lastRefill, nowMillis);
        }

        /** @return the lane name */
        public String name() {
            return name;
        }

        /** @return the weight */
        public int weight() {
            return weight;
        }

        /** @return ready items waiting for a permit */
        public int ready() {
            return ready.size();
        }

        /** @return items started and not yet completed */
        public int inFlight() {
            return inFlight;
        }

        /** @return whether the lane is paused */
        public boolean paused() {
            return paused;
        }

        /** @return the deficit in cost units: positive is credit in the current visit, negative is debt */
        public long deficit() {
            return deficit;
        }

        /** @return the current cost estimate charged at start */
        public long estimate() {
            return estimate;
        }

        /** @return the items started so far */
        public long started() {
            return started;
        }

        /** @return the items completed so far */
        public long completed() {
            return completed;
        }

        /** @return the total actual cost of completed items */
        public long served() {
            return served;
        }

        /** @return the total actual cost of completed items that ran on the shared pool */
        public long servedShared() {
            return servedShared;
        }

        /** @return the largest single cost seen */
        public long maxCost() {
            return maxCost;
        }

        /**
         * @return whether a task completed with a cost above the lane's declared maximum since it was declared: its
         *     lane then gives no guaranteed start bound until its spec declares another maximum
         */
        public boolean maxTaskCostExceeded() {
            return declaredMaxCost > 0 && maxCostSinceDeclared > declaredMaxCost;
        }

        /** @return the head item, or null */
        public T peek() {
            return ready.peekFirst();
        }

        @Override
        public String toString() {
            return name + "{w=" + weight + " ready=" + ready.size() + " inFlight=" + inFlight + " deficit=" + deficit
                    + (paused ? " paused" : "") + "}";
        }
    }

    /** Builds a {@link FairScheduler}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private int permits = 1;
        private long quantum = 1_000_000_000L;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /**
         * @param permits the source permits {@code P}, 1 to 10,000
         * @return this builder
         */
        public Builder permits(int permits) {
            if (permits < 1 || permits > 10_000) {
                throw new IllegalArgumentException("source permits must be within [1, 10000] but was " + permits);
            }
            this.permits = permits;
            return this;
        }

        /**
         * @param quantum the base quantum {@code Q} in cost units (lane i's quantum is {@code w_i · Q}); positive.
         *     Smaller is fairer in the short term; default 1 s of source time in nanoseconds.
         * @return this builder
         */
        public Builder quantum(long quantum) {
            if (quantum < 1 || quantum > Long.MAX_VALUE / 20_000) {
                throw new IllegalArgumentException("quantum must be within [1, " + Long.MAX_VALUE / 20_000 + "] but was " + quantum);
            }
            this.quantum = quantum;
            return this;
        }

        /**
         * @param clock the clock for rate limits
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param <T> the item type
         * @return the scheduler
         */
        public <T> FairScheduler<T> build() {
            return new FairScheduler<>(this);
        }
    }
}
