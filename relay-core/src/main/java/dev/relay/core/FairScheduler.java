package dev.relay.core;

import dev.relay.api.LaneSpec;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
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
 *   <li>Fair share: between two instants at which lanes i and j are both continuously backlogged,
 *       {@code |served_i / w_i − served_j / w_j| ≤ Q + C_i/w_i + C_j/w_j + (estimate error of one visit)},
 *       where {@code C} is the largest single-task cost — DRR's classic bound, with the post-charge slack.
 * </ol>
 *
 * <h2>Starvation bound</h2>
 * Let lane i's item reach the head of its ring-eligible lane at time t. Let {@code r} be the shortest
 * remaining run time of the tasks holding shared permits at t (0 if a shared permit is free). Let
 * {@code S_j = ⌈Q_j / m_j⌉ · C_j} bound what lane j can start in one visit, where {@code m_j} is the
 * smallest cost estimate lane j ever had (estimates are averages of actual costs, so {@code m_j} is at least
 * its smallest task cost, or {@code Q_j} before it ran) and {@code C_j} its largest task cost. Let
 * {@code D_i ≥ 0} be lane i's debt at t <em>including</em> what its own tasks still in flight will be charged
 * at completion beyond their estimates (at most {@code C_i} each; 0 for a lane arriving from idle). Then the
 * item starts no later than
 * <pre>
 *   t + r + (1 + ⌈D_i / Q_i⌉) · Σ_{j ≠ i} S_j
 * </pre>
 * <b>Derivation.</b> Before the pointer reaches lane i, every lane ahead of it in the ring gets at most one
 * visit in which it starts at most {@code ⌈Q_j / e_j⌉ ≤ ⌈Q_j / m_j⌉} items, each costing at most {@code C_j}.
 * Each start needs a shared permit; the first frees by {@code t + r}, and the permit taken by a start of
 * cost {@code c} frees again {@code c} later, so the k-th start happens no later than {@code t + r +} the sum of
 * the costs of the k−1 starts before it. A lane in debt is skipped (gaining {@code Q_i} per round) for at most
 * {@code ⌈D_i / Q_i⌉} extra rounds. With a free dedicated permit the item starts on the next call: "within one
 * dispatch". {@link #startBound(Lane)} evaluates this bound from the scheduler's current statistics.
 *
 * <p>For the PeMS incident ({@code P = 1}, backfill weight 1 with 20 s tasks, realtime weight 4 with 2–5 s tasks,
 * {@code Q} = 1 s, config arriving idle): {@code S_backfill = ⌈1/1⌉ · 22 s}, {@code S_realtime ≤ ⌈4/2⌉ · 5 s}, so a
 * config task waits at most about {@code r + 32 s} — one backfill task plus one round — instead of a week.
 *
 * <h2>Cost</h2>
 * {@link #next(Starter)} and {@link #complete} run in O(1) amortized time and allocate nothing: lanes are
 * intrusive list nodes, ready items sit in each lane's {@link ArrayDeque}, and the choice (lane, item, ticket)
 * is handed to the caller's {@link Starter} — one object the caller keeps — rather than returned in a result
 * object. A visit that
 * starts nothing adds {@code Q_i ≥ Q} to a debt that is at most the cost of the lane's own finished tasks, so
 * such skips are bounded by the total cost divided by {@code Q}.
 *
 * <p>References: M. Shreedhar and G. Varghese, "Efficient Fair Queueing using Deficit Round Robin", SIGCOMM
 * 1995; P. Goyal, H. Vin, H. Cheng, "Start-time Fair Queueing", SIGCOMM 1996.
 *
 * <p><b>This class is not threadsafe.</b> One thread — the engine's control thread — owns a scheduler and all
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
    private static final int MAX_STARTS_PER_VISIT = 1 << 16;

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
     * {@code max(L, k)} (never more than {@code P}) once the tasks started before the change ended. {@code L = 0}
     * stops every start, dedicated ones included (a process that lost its permits).
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
     * only when lanes or the limit change. Below {@code Σ d_i}, each of the {@code k} lanes with dedicated permits
     * keeps one and the other {@code L − k} are shared out in proportion to {@code d_i − 1} (rounded down; the
     * remainder joins the shared pool), so {@code Σ d'_i ≤ max(L, k)}.
     */
    private void applyLimit() {
        int configured = 0;
        int withDedicated = 0;
        for (Lane<T> l : lanes) {
            configured += l.dedicatedConfigured;
            if (l.dedicatedConfigured > 0) {
                withDedicated++;
            }
        }
        int extra = Math.max(0, limit - withDedicated);
        int extraWanted = configured - withDedicated;
        for (Lane<T> l : lanes) {
            int d = l.dedicatedConfigured;
            if (limit == 0) {
                d = 0;
            } else if (configured > limit && d > 0) {
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
    private static final long DEDICATED_TICKET = -1L;

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
        for (Lane<T> l : rateBlocked) {
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

    /**
     * Evaluates the starvation bound of the class comment for lane {@code i}'s head item, in cost units,
     * without the remaining time {@code r} of the tasks in flight (which the caller knows, the scheduler does
     * not): {@code (1 + ⌈D_i / Q_i⌉) · Σ_{j ≠ i} S_j}, over the lanes that have ready work or work in flight.
     * Zero for a lane with a free dedicated permit.
     *
     * @param lane the lane
     * @return the bound beyond {@code r}, in cost units
     */
    public long startBound(Lane<T> lane) {
        if (lane.dedicatedInUse < lane.dedicated) {
            return 0;
        }
        long others = 0;
        for (Lane<T> j : lanes) {
            if (j == lane || (j.ready.isEmpty() && j.inFlight == 0)) {
                continue;
            }
            others += visitBound(j);
        }
        long pending = (long) (lane.inFlight - lane.dedicatedInUse) * Math.max(0, Math.max(lane.maxCost, lane.estimate) - lane.minEstimate);
        long debt = Math.max(0, pending - lane.deficit);
        long rounds = 1 + (debt + lane.quantum - 1) / lane.quantum;
        return rounds * others;
    }

    /**
     * {@code S_j}: the most cost lane j can start in one visit, from its statistics so far.
     *
     * @param j a lane
     * @return {@code ⌈Q_j / m_j⌉ · C_j} in cost units
     */
    public long visitBound(Lane<T> j) {
        long c = Math.max(j.maxCost, j.estimate);
        long m = Math.max(1, j.minEstimate);
        return Math.min(MAX_STARTS_PER_VISIT, (j.quantum + m - 1) / m) * c;
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
         * @param <T> the item type (the engine schedules leases)
         * @return the scheduler
         */
        public <T> FairScheduler<T> build() {
            return new FairScheduler<>(this);
        }
    }
}
