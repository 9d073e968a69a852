package dev.relay.core;

import dev.relay.core.FairScheduler.Lane;
import dev.relay.core.FairScheduler.Running;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Evaluates the starvation bound of {@link FairScheduler} (its class comment, "Starvation bound") for one lane
 * from the scheduler's state and the tasks in flight. Off the decision path: O(lanes + tasks in flight · log) per
 * call, allocating. Every step below names the part of the proof it implements.
 *
 * <p>Not threadsafe: called on the scheduler's thread, like the scheduler.
 */
final class StartBound {

    /** What the scheduler knows of one lane, for one evaluation. */
    private static final class Facts {
        /** Shared-pool tasks of the lane in flight, and dedicated ones, as the caller reported them. */
        int shared;
        int dedicated;
        /** The largest elapsed cost of the lane's tasks in flight. */
        long maxElapsed;
        /** {@code Σ (ticket − elapsed)} over the lane's shared tasks in flight: the most their true-ups can refund. */
        long refunds;
        /** {@code Σ elapsed} over the lane's shared tasks in flight. */
        long elapsedSum;
    }

    private StartBound() {
    }

    /**
     * @param s the scheduler
     * @param i the lane whose head item (or, if it has none, an item arriving now) is bounded
     * @param running every task holding a permit, as the caller knows it
     * @param guarantee true for the guaranteed bound (declared maximum costs only), false for the estimate
     *     (observed costs stand in for undeclared maxima)
     * @return the bound in cost units, or {@link FairScheduler#UNBOUNDED}
     */
    static <T> long evaluate(FairScheduler<T> s, Lane<T> i, Collection<? extends Running<T>> running, boolean guarantee) {
        if (i.removed) {
            throw new IllegalStateException("lane '" + i.name + "' was removed");
        }
        Map<Lane<T>, Facts> facts = gather(s, running);
        Facts fi = facts.getOrDefault(i, new Facts());
        // the item must be able to start on the shared pool or a dedicated permit of its own
        if (i.paused || i.inFlight >= i.maxInFlight || !hasToken(s, i)) {
            return FairScheduler.UNBOUNDED; // it waits for an operator, for the lane's own tasks or for a rate token
        }
        if (i.dedicatedInUse < i.dedicated) {
            return 0; // a free dedicated permit: it starts on the next dispatch
        }
        long ci = maxCost(i, fi, guarantee);
        if (ci < 0 && i.inFlight > 0) {
            return FairScheduler.UNBOUNDED; // its own tasks' charges (the debt it must repay) or run times are unknown
        }
        long viaDedicated = FairScheduler.UNBOUNDED;
        if (i.dedicated > 0) { // a completion of one of its dedicated tasks frees a permit it may use
            long[] own = new long[fi.dedicated];
            int n = 0;
            for (Running<T> r : running) {
                if (r.lane() == i && r.ticket() == FairScheduler.DEDICATED_TICKET) {
                    own[n++] = ci - r.elapsed();
                }
            }
            Arrays.sort(own);
            int needed = i.dedicatedInUse - i.dedicated; // completions before one frees a permit in force
            if (needed < n) {
                viaDedicated = own[needed];
            }
        }
        return Math.min(viaDedicated, viaShared(s, i, running, facts, ci, guarantee));
    }

    /** The bound through the shared pool: the water-filling of step 3 over the work of steps 1 and 2. */
    private static <T> long viaShared(FairScheduler<T> s, Lane<T> i, Collection<? extends Running<T>> running,
            Map<Lane<T>, Facts> facts, long ci, boolean guarantee) {
        int pool = s.sharedPermits();
        if (pool <= 0) {
            return FairScheduler.UNBOUNDED;
        }
        // the pool may still grow (never shrink) without a configuration change: the dedicated permits a lane holds
        // beyond those in force return to it as its tasks end; what a lane may hold is bounded by the largest pool
        int dedicatedInForce = 0;
        for (Lane<T> l : s.lanesView()) {
            dedicatedInForce += l.dedicated;
        }
        int poolMax = Math.max(pool, s.limit() - dedicatedInForce);
        // permits the lanes of unknown cost may hold at any time (step 3: they may take the first ones to free)
        long unknownHold = 0;
        for (Map.Entry<Lane<T>, Facts> e : facts.entrySet()) { // lanes of tasks in flight, live or removed
            Lane<T> j = e.getKey();
            if (j != i && maxCost(j, e.getValue(), guarantee) < 0 && (j.removed || j.paused)) {
                unknownHold += e.getValue().shared;
            }
        }
        for (Lane<T> j : s.lanesView()) {
            if (j != i && !j.paused && maxCost(j, facts.getOrDefault(j, NONE), guarantee) < 0) {
                int shared = facts.containsKey(j) ? facts.get(j).shared : 0;
                unknownHold += Math.max(shared, Math.min(poolMax, j.maxInFlight));
            }
        }
        long usable = pool - unknownHold;
        if (usable <= 0) {
            return FairScheduler.UNBOUNDED;
        }
        Map<Lane<T>, Boolean> cancelling = new IdentityHashMap<>();
        long work = otherWork(s, i, running, facts, poolMax, ci, guarantee, cancelling);
        if (work == FairScheduler.UNBOUNDED) {
            return FairScheduler.UNBOUNDED;
        }
        // remaining time of each known task on the shared pool: at most its lane's maximum less what it has run;
        // 0 for a task whose longer run its lane pays for in W, one for one (step 3)
        long[] remaining = new long[running.size()];
        int known = 0;
        for (Running<T> r : running) {
            if (r.ticket() == FairScheduler.DEDICATED_TICKET) {
                continue;
            }
            long c = r.lane() == i ? ci : maxCost(r.lane(), facts.get(r.lane()), guarantee);
            if (c >= 0) {
                remaining[known++] = cancelling.containsKey(r.lane()) ? 0 : c - r.elapsed();
            }
        }
        Arrays.sort(remaining, 0, known);
        long free = usable - known; // > 0: free permits (0 remaining); < 0: the first to free go to unknown lanes
        int slots = (int) usable;
        long[] slot = new long[slots];
        int from = free >= 0 ? 0 : (int) -free;
        int zeros = free >= 0 ? (int) free : 0;
        for (int q = zeros; q < slots; q++) {
            slot[q] = remaining[from + q - zeros];
        }
        // T − t ≤ min over k of (Σ_{q ≤ k} ρ_(q) + W) / k
        long best = FairScheduler.UNBOUNDED;
        long prefix = 0;
        for (int k = 1; k <= slots; k++) {
            prefix = add(prefix, slot[k - 1]);
            best = Math.min(best, add(prefix, work) / k);
        }
        return best;
    }

    /** W: the most the other lanes can start on the shared pool before lane i's item (steps 1 and 2). */
    private static <T> long otherWork(FairScheduler<T> s, Lane<T> i, Collection<? extends Running<T>> running,
            Map<Lane<T>, Facts> facts, int poolMax, long ci, boolean guarantee, Map<Lane<T>, Boolean> cancelling) {
        // step 1: the quanta lane i still needs, in its worst case (its own tasks charged their maximum first)
        long pending = 0;
        long deficit = i.deficit;
        if (i.ready.isEmpty() && i.inFlight == 0) {
            deficit = Math.max(deficit, 0); // an item arriving now finds the lane idle: its debt is forgiven
        }
        if (ci >= 0) {
            pending = pendingCharges(running, i, ci);
        }
        long worst = deficit - pending;
        Lane<T> cursor = s.ringCursor();
        boolean visiting = s.ringVisiting();
        if (i.inRing && cursor == i && visiting && worst > 0) {
            return 0; // its visit goes on: it takes the next shared permit to free
        }
        long rounds = 1 + Math.max(0, -worst) / i.quantum; // R
        // step 2: the visits each other lane gets before lane i's R-th quantum, by ring position
        Map<Lane<T>, Boolean> ahead = new IdentityHashMap<>();
        boolean allAhead = false;
        boolean cursorInProgress = false;
        if (cursor != null) {
            if (!i.inRing) { // an arriving lane is placed last in the round: every lane in the ring is ahead
                Lane<T> l = cursor;
                do {
                    ahead.put(l, Boolean.TRUE);
                    l = l.next;
                } while (l != cursor);
                cursorInProgress = visiting;
            } else if (cursor == i) {
                // visiting: its visit may end without a start (its own true-ups); then every other lane, also one
                // entering the ring meanwhile (placed just before the cursor, i), is visited before its next quantum
                allAhead = visiting;
            } else {
                for (Lane<T> l = cursor; l != i; l = l.next) {
                    ahead.put(l, Boolean.TRUE);
                }
                cursorInProgress = visiting;
            }
        }
        long total = 0;
        for (Lane<T> j : s.lanesView()) {
            if (j == i || j.paused) {
                continue; // a paused lane starts nothing
            }
            Facts fj = facts.getOrDefault(j, NONE);
            long cj = maxCost(j, fj, guarantee);
            if (cj < 0) {
                continue; // counted as permits it may hold, not as work
            }
            boolean inProgress = cursorInProgress && j == cursor;
            long visits = allAhead || ahead.containsKey(j) ? (inProgress ? rounds - 1 : rounds) : rounds - 1;
            long segments = visits + (inProgress ? 1 : 0);
            if (segments == 0) {
                continue;
            }
            long minTicket = guarantee ? 1 : Math.max(1, j.minEstimate);
            int parallel = Math.min(poolMax, j.maxInFlight); // S'_j: its shared tasks in flight at once
            // κ_j: the last start's overshoot, with S'_j − 1 tasks in flight charged at least minTicket
            long kappa = add(cj - 1, mul(parallel - 1, Math.max(0, cj - minTicket)));
            long credit = j.deficit + fj.refunds; // G_j: its true deficit if its tasks in flight ended now
            // ... and if they ran to their maximum: each unit they run longer is charged to lane j
            long creditIfLong = add(j.deficit, add(fj.refunds, -mul(fj.shared, cj) + fj.elapsedSum));
            boolean linear = true;
            if (j.ready.isEmpty()) {
                linear = creditIfLong >= 0;
                credit = Math.max(0, credit); // it may go idle and have its debt forgiven before its next start
            }
            long byDeficit = Math.max(0, add(credit, add(mul(visits, j.quantum), mul(segments, kappa))));
            long perVisit = Math.min(FairScheduler.MAX_STARTS_PER_VISIT,
                    Math.max(1, (j.quantum + minTicket - 1) / minTicket));
            long starts = add(mul(visits, perVisit), inProgress ? s.ringVisitBudget() : 0);
            long byCount = mul(starts, cj);
            long byDeficitIfLong = add(creditIfLong, add(mul(visits, j.quantum), mul(segments, kappa)));
            if (linear && byDeficit <= byCount && byDeficitIfLong >= 0 && fj.shared > 0) {
                // W_j falls one for one as its tasks in flight run longer, over their whole range: a task's remaining
                // time and its lane's work cancel, so the task counts as ending now
                cancelling.put(j, Boolean.TRUE);
            }
            total = add(total, Math.min(byDeficit, byCount));
        }
        return total;
    }

    /** {@code Σ (C_i − ticket)⁺} over lane i's shared tasks in flight: what their true-ups may still charge it. */
    private static <T> long pendingCharges(Collection<? extends Running<T>> running, Lane<T> i, long ci) {
        long sum = 0;
        for (Running<T> r : running) {
            if (r.lane() == i && r.ticket() != FairScheduler.DEDICATED_TICKET) {
                sum = add(sum, Math.max(0, ci - r.ticket()));
            }
        }
        return sum;
    }

    /**
     * The largest cost a task of lane j may have: its declaration, unless a task overran it (then none); for the
     * estimate, the larger of the declaration and the costs seen.
     *
     * @return the maximum, or −1 if unknown
     */
    private static <T> long maxCost(Lane<T> j, Facts f, boolean guarantee) {
        if (!guarantee) {
            return Math.max(Math.max(j.declaredMaxCost, j.maxCost), Math.max(j.estimate, f.maxElapsed));
        }
        if (j.declaredMaxCost <= 0 || j.maxCostSinceDeclared > j.declaredMaxCost || f.maxElapsed > j.declaredMaxCost) {
            return -1;
        }
        return j.declaredMaxCost;
    }

    private static <T> boolean hasToken(FairScheduler<T> s, Lane<T> l) {
        if (l.rate <= 0 || l.inRing) {
            return true;
        }
        long now = s.nowMillis();
        double tokens = l.tokens;
        if (now > l.lastRefill) {
            tokens = Math.min(l.burst, tokens + (now - l.lastRefill) * l.rate / 1000.0);
        }
        return tokens >= 1.0;
    }

    /** Groups the caller's tasks in flight by lane and checks them against the scheduler's counts. */
    private static <T> Map<Lane<T>, Facts> gather(FairScheduler<T> s, Collection<? extends Running<T>> running) {
        Map<Lane<T>, Facts> facts = new IdentityHashMap<>();
        int shared = 0;
        int dedicated = 0;
        for (Running<T> r : running) {
            Lane<T> l = r.lane();
            Facts f = facts.computeIfAbsent(l, k -> new Facts());
            if (r.ticket() == FairScheduler.DEDICATED_TICKET) {
                f.dedicated++;
                dedicated++;
            } else {
                f.shared++;
                shared++;
                f.refunds = add(f.refunds, r.ticket() - r.elapsed());
                f.elapsedSum = add(f.elapsedSum, r.elapsed());
            }
            f.maxElapsed = Math.max(f.maxElapsed, r.elapsed());
        }
        if (shared != s.sharedPermitsInUse() || dedicated != s.dedicatedPermitsInUse()) {
            throw new IllegalArgumentException("the tasks in flight given (" + shared + " shared, " + dedicated
                    + " dedicated) are not those holding the scheduler's permits (" + s.sharedPermitsInUse() + " shared, "
                    + s.dedicatedPermitsInUse() + " dedicated)");
        }
        for (Map.Entry<Lane<T>, Facts> e : facts.entrySet()) {
            Lane<T> l = e.getKey();
            Facts f = e.getValue();
            if (f.dedicated != l.dedicatedInUse || f.shared != l.inFlight - l.dedicatedInUse) {
                throw new IllegalArgumentException("lane '" + l.name + "' has " + (l.inFlight - l.dedicatedInUse)
                        + " shared and " + l.dedicatedInUse + " dedicated tasks in flight, but " + f.shared + " and "
                        + f.dedicated + " were given");
            }
        }
        return facts;
    }

    private static final Facts NONE = new Facts();

    /** Saturating addition: a sum beyond the range of {@code long} is clamped to it (so unbounded stays so). */
    static long add(long a, long b) {
        long r = a + b;
        if (((a ^ r) & (b ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
    }

    /** Saturating multiplication of a non-negative count by a value. */
    static long mul(long n, long v) {
        long hi = Math.multiplyHigh(n, v);
        long lo = n * v;
        if ((hi == 0 && lo >= 0) || (hi == -1 && lo < 0)) {
            return lo;
        }
        return (n < 0) == (v < 0) ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
}
