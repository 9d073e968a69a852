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
 * call, allocating. The steps below are those of the proof.
 *
 * <p>What is known of costs is a {@link Knowledge}: {@link #GUARANTEE} (declared maxima), {@link #ESTIMATE}
 * (costs seen so far), or, in tests, the costs in hindsight.
 *
 * <p>Not threadsafe: called on the scheduler's thread, like the scheduler.
 */
final class StartBound {

    /**
     * What is known of the costs of lanes and tasks. Every figure is an upper (or, for {@link #minTicket}, lower)
     * bound of the true one; the bound is a guarantee exactly when they are.
     *
     * @param <T> the item type
     */
    interface Knowledge<T> {
        /**
         * @param j a lane
         * @param maxElapsed the largest cost its tasks in flight have accrued so far
         * @return {@code C_j}, the largest cost one of its tasks may have, or −1 if unknown
         */
        long maxCost(Lane<T> j, long maxElapsed);

        /**
         * @param j a lane
         * @return {@code μ_j ≥ 1}, at most every ticket the lane charges while the item waits
         */
        long minTicket(Lane<T> j);

        /**
         * @param r a task in flight
         * @param c its lane's {@code C_j}
         * @return at least its remaining time
         */
        default long remaining(Running<T> r, long c) {
            return c - r.elapsed();
        }

        /**
         * @param r a shared task in flight
         * @return at least {@code ticket − cost}, what its true-up can give back
         */
        default long refund(Running<T> r) {
            return r.ticket() - r.elapsed();
        }

        /**
         * @param r a shared task in flight
         * @param c its lane's {@code C_j}
         * @return at least {@code (cost − ticket)⁺}, what its true-up can still charge its lane
         */
        default long charge(Running<T> r, long c) {
            return Math.max(0, c - r.ticket());
        }

        /**
         * @return whether {@link #remaining} and {@link #refund} are ends of one range (the task may end at any
         *     moment up to its maximum): then a task whose longer run its lane pays for counts as ending now
         */
        default boolean ranges() {
            return true;
        }
    }

    /** The guaranteed bound: declared maxima, and no task charged below 1. */
    static final Knowledge<Object> GUARANTEE = new Knowledge<>() {
        @Override
        public long maxCost(Lane<Object> j, long maxElapsed) {
            if (j.declaredMaxCost <= 0 || j.maxCostSinceDeclared > j.declaredMaxCost || maxElapsed > j.declaredMaxCost) {
                return -1; // undeclared, or the declaration proved wrong
            }
            return j.declaredMaxCost;
        }

        @Override
        public long minTicket(Lane<Object> j) {
            return 1;
        }
    };

    /** The estimate: the largest costs seen stand in for undeclared maxima, the smallest estimate for the tickets. */
    static final Knowledge<Object> ESTIMATE = new Knowledge<>() {
        @Override
        public long maxCost(Lane<Object> j, long maxElapsed) {
            return Math.max(Math.max(j.declaredMaxCost, j.maxCost), Math.max(j.estimate, maxElapsed));
        }

        @Override
        public long minTicket(Lane<Object> j) {
            return Math.max(1, j.minEstimate);
        }
    };

    /** What the evaluation uses of one lane. */
    private static final class Facts {
        /** Shared-pool tasks of the lane in flight, and dedicated ones, as the caller reported them. */
        int shared;
        int dedicated;
        /** The largest elapsed cost of the lane's tasks in flight. */
        long maxElapsed;
        /** {@code C_j}, or −1 if unknown. */
        long maxCost;
        /** {@code Σ refund} over the lane's shared tasks in flight. */
        long refunds;
        /** {@code Σ remaining} over the lane's shared tasks in flight. */
        long remaining;
    }

    private StartBound() {
    }

    /**
     * @param s the scheduler
     * @param i the lane whose head item (or, if it has none, an item arriving now) is bounded
     * @param running every task holding a permit, as the caller knows it
     * @param knowledge what is known of costs
     * @return the bound in cost units, or {@link FairScheduler#UNBOUNDED}
     */
    @SuppressWarnings("unchecked")
    static <T> long evaluate(FairScheduler<T> s, Lane<T> i, Collection<? extends Running<T>> running, Knowledge<?> knowledge) {
        Knowledge<T> k = (Knowledge<T>) knowledge;
        if (i.removed) {
            throw new IllegalStateException("lane '" + i.name + "' was removed");
        }
        Map<Lane<T>, Facts> facts = gather(s, running, k);
        Facts fi = facts.getOrDefault(i, new Facts());
        if (!facts.containsKey(i)) {
            fi.maxCost = k.maxCost(i, 0);
        }
        // the item must be able to start on the shared pool or a dedicated permit of its own
        if (i.paused || i.inFlight >= i.maxInFlight || !hasToken(s, i)) {
            return FairScheduler.UNBOUNDED; // it waits for an operator, for the lane's own tasks or for a rate token
        }
        if (i.dedicatedInUse < i.dedicated) {
            return 0; // a free dedicated permit: it starts on the next dispatch
        }
        long ci = fi.maxCost;
        if (ci < 0 && i.inFlight > 0) {
            return FairScheduler.UNBOUNDED; // its own tasks' charges (the debt it must repay) or run times are unknown
        }
        long viaDedicated = FairScheduler.UNBOUNDED;
        if (i.dedicated > 0) { // a completion of one of its dedicated tasks frees a permit it may use
            long[] own = new long[fi.dedicated];
            int n = 0;
            for (Running<T> r : running) {
                if (r.lane() == i && r.ticket() == FairScheduler.DEDICATED_TICKET) {
                    own[n++] = k.remaining(r, ci);
                }
            }
            Arrays.sort(own);
            int needed = i.dedicatedInUse - i.dedicated; // completions before one frees a permit in force
            if (needed < n) {
                viaDedicated = own[needed];
            }
        }
        return Math.min(viaDedicated, viaShared(s, i, running, facts, ci, k));
    }

    /** The bound through the shared pool: the water-filling of step 3 over the work of steps 1 and 2. */
    private static <T> long viaShared(FairScheduler<T> s, Lane<T> i, Collection<? extends Running<T>> running,
            Map<Lane<T>, Facts> facts, long ci, Knowledge<T> k) {
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
        for (Map.Entry<Lane<T>, Facts> e : facts.entrySet()) { // lanes of tasks in flight that start nothing more
            Lane<T> j = e.getKey();
            if (j != i && e.getValue().maxCost < 0 && (j.removed || j.paused)) {
                unknownHold += e.getValue().shared;
            }
        }
        for (Lane<T> j : s.lanesView()) {
            if (j != i && !j.paused && factsOf(j, facts, k).maxCost < 0) {
                unknownHold += Math.max(factsOf(j, facts, k).shared, Math.min(poolMax, j.maxInFlight));
            }
        }
        long usable = pool - unknownHold;
        if (usable <= 0) {
            return FairScheduler.UNBOUNDED;
        }
        Map<Lane<T>, Boolean> cancelling = new IdentityHashMap<>();
        long work = otherWork(s, i, running, facts, poolMax, ci, k, cancelling);
        // when each known task on the shared pool frees its permit at the latest; at once for a task whose longer
        // run its lane pays for in W, one for one (step 3)
        long[] remaining = new long[running.size()];
        int known = 0;
        for (Running<T> r : running) {
            if (r.ticket() == FairScheduler.DEDICATED_TICKET) {
                continue;
            }
            long c = facts.get(r.lane()).maxCost;
            if (c >= 0) {
                remaining[known++] = cancelling.containsKey(r.lane()) ? 0 : k.remaining(r, c);
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
        for (int q = 1; q <= slots; q++) {
            prefix = add(prefix, slot[q - 1]);
            best = Math.min(best, add(prefix, work) / q);
        }
        return best;
    }

    /** W: the most the other lanes can start on the shared pool before lane i's item (steps 1 and 2). */
    private static <T> long otherWork(FairScheduler<T> s, Lane<T> i, Collection<? extends Running<T>> running,
            Map<Lane<T>, Facts> facts, int poolMax, long ci, Knowledge<T> k, Map<Lane<T>, Boolean> cancelling) {
        // step 1: the quanta lane i still needs, in its worst case (its own tasks charged their maximum first)
        long deficit = i.deficit;
        if (i.ready.isEmpty() && i.inFlight == 0) {
            deficit = Math.max(deficit, 0); // an item arriving now finds the lane idle: its debt is forgiven
        }
        long pending = 0;
        for (Running<T> r : running) {
            if (r.lane() == i && r.ticket() != FairScheduler.DEDICATED_TICKET) {
                pending = add(pending, k.charge(r, ci)); // π_i = Σ (C_i − ticket)⁺
            }
        }
        long worst = deficit - pending;
        Lane<T> cursor = s.ringCursor();
        boolean visiting = s.ringVisiting();
        if (i.inRing && cursor == i && visiting && worst > 0) {
            return 0; // its visit goes on: it takes the next shared permit to free
        }
        long rounds = 1 + Math.max(0, -worst) / i.quantum; // R
        // step 2: the quanta each other lane gets before lane i's R-th, by ring position
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
            Facts fj = factsOf(j, facts, k);
            long cj = fj.maxCost;
            if (cj < 0) {
                continue; // counted as permits it may hold, not as work
            }
            boolean inProgress = cursorInProgress && j == cursor;
            long visits = allAhead || ahead.containsKey(j) ? (inProgress ? rounds - 1 : rounds) : rounds - 1; // V_j
            long segments = visits + (inProgress ? 1 : 0); // V_j + A_j
            if (segments == 0) {
                continue;
            }
            long minTicket = Math.max(1, k.minTicket(j));
            int parallel = Math.min(poolMax, j.maxInFlight); // S'_j: its shared tasks in flight at once
            // κ_j: the last start's overshoot, with S'_j − 1 tasks in flight charged at least μ_j
            long kappa = add(cj - 1, mul(parallel - 1, Math.max(0, cj - minTicket)));
            long credit = add(j.deficit, fj.refunds); // G_j: at least its true deficit Δ_j(t)
            long creditIfLong = add(j.deficit, add(fj.refunds, -fj.remaining)); // ... if its tasks ran to their maximum
            boolean linear = true;
            if (j.ready.isEmpty()) {
                linear = creditIfLong >= 0;
                credit = Math.max(0, credit); // it may go idle and have its debt forgiven before its next start
            }
            long quanta = mul(visits, j.quantum);
            long byDeficit = Math.max(0, add(credit, add(quanta, mul(segments, kappa))));
            long perVisit = Math.min(FairScheduler.MAX_STARTS_PER_VISIT, Math.max(1, (j.quantum + minTicket - 1) / minTicket));
            long byCount = mul(add(mul(visits, perVisit), inProgress ? s.ringVisitBudget() : 0), cj);
            long byDeficitIfLong = add(creditIfLong, add(quanta, mul(segments, kappa)));
            if (k.ranges() && linear && byDeficit <= byCount && byDeficitIfLong >= 0 && fj.shared > 0) {
                // W_j falls one for one as its tasks in flight run longer, over their whole range: a task's remaining
                // time and its lane's work cancel, so the task counts as ending now
                cancelling.put(j, Boolean.TRUE);
            }
            total = add(total, Math.min(byDeficit, byCount));
        }
        return total;
    }

    private static <T> Facts factsOf(Lane<T> j, Map<Lane<T>, Facts> facts, Knowledge<T> k) {
        return facts.computeIfAbsent(j, l -> {
            Facts f = new Facts();
            f.maxCost = k.maxCost(l, 0);
            return f;
        });
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

    /** Groups the caller's tasks in flight by lane, checks them against the scheduler's counts, and sums them. */
    private static <T> Map<Lane<T>, Facts> gather(FairScheduler<T> s, Collection<? extends Running<T>> running, Knowledge<T> k) {
        Map<Lane<T>, Facts> facts = new IdentityHashMap<>();
        int shared = 0;
        int dedicated = 0;
        for (Running<T> r : running) {
            Facts f = facts.computeIfAbsent(r.lane(), l -> new Facts());
            if (r.ticket() == FairScheduler.DEDICATED_TICKET) {
                f.dedicated++;
                dedicated++;
            } else {
                f.shared++;
                shared++;
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
            f.maxCost = k.maxCost(l, f.maxElapsed);
        }
        for (Running<T> r : running) {
            Facts f = facts.get(r.lane());
            if (r.ticket() != FairScheduler.DEDICATED_TICKET && f.maxCost >= 0) {
                f.refunds = add(f.refunds, k.refund(r));
                f.remaining = add(f.remaining, k.remaining(r, f.maxCost));
            }
        }
        return facts;
    }

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
