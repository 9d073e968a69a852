package dev.relay.core;

import dev.relay.api.LaneSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * A discrete-event driver of {@link FairScheduler} on integer time, where a task's cost is its run time (one unit a
 * millisecond, so that rate limits run on the same clock), for the starvation-bound tests.
 *
 * <p>At every instant it completes the tasks due, applies configuration changes, lets arrivals in, dispatches
 * everything allowed, then evaluates {@link FairScheduler#startBound} for every lane: for a head item it keeps
 * {@code min over evaluations τ of τ + bound(τ)} as the item's deadline; for a lane without one it keeps the
 * bound of an item arriving at that instant, which the next arrival at the same instant must meet. A start after
 * its deadline is a violation. A configuration change (pause, resume, limit, weight) voids the deadlines set before
 * it, as the bound's statement allows. Arrivals can be <em>reactive</em>: when a lane starts a task costing at
 * least a threshold, a task may arrive at once in a victim lane, the adversarial timing of issue 18.
 */
final class BoundHarness {

    /** One lane of a scenario. {@code declared} 0: no declared maximum cost. */
    record LaneDef(int weight, int cap, int dedicated, double rate, int burst, long declared) {
        LaneSpec spec(int index) {
            LaneSpec.Builder b = LaneSpec.builder("l" + index).weight(weight).maxInFlight(cap).dedicatedPermits(dedicated);
            if (rate > 0) {
                b.rateLimit(rate, burst);
            }
            if (declared > 0) {
                b.maxTaskCost(declared);
            }
            return b.build();
        }
    }

    /** One task. */
    static final class Job {
        final int lane;
        final long arrival;
        final long cost;
        int seq;
        long start = -1;
        long ticket;
        long deadline = Long.MAX_VALUE;
        long headSince = -1;
        long headBound = -1;
        long headEstimate = -1;
        long headOld = -1;
        long headOldRunTime = -1;
        long headHindsight = -1;
        boolean voided;
        /** Starts of other lanes' tasks while this one stood at the head. */
        int overtaken;

        Job(int lane, long arrival, long cost) {
            this.lane = lane;
            this.arrival = arrival;
            this.cost = cost;
        }

        /** Forgets what a previous run recorded. */
        void reset() {
            seq = 0;
            start = -1;
            ticket = 0;
            deadline = Long.MAX_VALUE;
            headSince = -1;
            headBound = -1;
            headEstimate = -1;
            headOld = -1;
            headOldRunTime = -1;
            headHindsight = -1;
            voided = false;
            overtaken = 0;
        }

        @Override
        public String toString() {
            return "job#" + seq + "(lane l" + lane + ", cost " + cost + ", arrived " + arrival + ")";
        }
    }

    /** When lane {@code from} starts a task costing at least {@code minCost}, a task of lane {@code to} may arrive. */
    record Trigger(int from, long minCost, int to, double probability) {
    }

    /** A configuration change at a time: pause/resume a lane, set the limit, or re-weight a lane. */
    record Change(long at, String kind, int lane, int value) {
    }

    /** A scenario: everything the driver needs, from a seed. */
    static final class Scenario {
        final String description;
        final int permits;
        final long quantum;
        final List<LaneDef> lanes = new ArrayList<>();
        final List<Job> jobs = new ArrayList<>();
        final List<Trigger> triggers = new ArrayList<>();
        /** Costs of the reactive arrivals of each lane, used in turn. */
        final List<long[]> reactiveCosts = new ArrayList<>();
        final List<Change> changes = new ArrayList<>();
        long seed;

        Scenario(String description, int permits, long quantum) {
            this.description = description;
            this.permits = permits;
            this.quantum = quantum;
        }

        /** The largest cost of each lane's tasks, planned and reactive. */
        long[] trueMax() {
            long[] max = new long[Math.max(lanes.size(), reactiveCosts.size())];
            for (Job j : jobs) {
                max[j.lane] = Math.max(max[j.lane], j.cost);
            }
            for (int l = 0; l < reactiveCosts.size(); l++) {
                for (long c : reactiveCosts.get(l)) {
                    max[l] = Math.max(max[l], c);
                }
            }
            return max;
        }

        /** The smallest cost of each lane's tasks, planned and reactive. */
        long[] trueMin() {
            long[] min = new long[Math.max(lanes.size(), reactiveCosts.size())];
            Arrays.fill(min, Long.MAX_VALUE);
            for (Job j : jobs) {
                min[j.lane] = Math.min(min[j.lane], j.cost);
            }
            for (int l = 0; l < reactiveCosts.size(); l++) {
                for (long c : reactiveCosts.get(l)) {
                    min[l] = Math.min(min[l], c);
                }
            }
            return min;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(description).append(" seed=").append(seed).append(" P=").append(permits)
                    .append(" Q=").append(quantum).append(" lanes=[");
            for (int i = 0; i < lanes.size(); i++) {
                LaneDef d = lanes.get(i);
                sb.append(i == 0 ? "" : ", ").append('l').append(i).append(" w").append(d.weight);
                if (d.cap < Integer.MAX_VALUE) {
                    sb.append(" cap").append(d.cap);
                }
                if (d.dedicated > 0) {
                    sb.append(" ded").append(d.dedicated);
                }
                if (d.rate > 0) {
                    sb.append(" rate").append(d.rate).append('/').append(d.burst);
                }
                sb.append(d.declared > 0 ? " C" + d.declared : " C?");
            }
            return sb.append("] jobs=").append(jobs.size()).toString();
        }
    }

    /** What a run found. */
    static final class Result {
        final List<String> violations = new ArrayList<>();
        /** Head waits with a finite guaranteed bound at head time and no configuration change meanwhile. */
        final List<Job> measured = new ArrayList<>();
        long heads;
        long unbounded;
        /** Each lane's smallest estimate over the run. */
        long[] minEstimate;
        double worstRatio;
        String worstCase = "none";
        /** The same among waits in which other lanes started tasks first. */
        double worstOvertakenRatio;
        String worstOvertakenCase = "none";

        void ratio(Job j, long wait) {
            double r = j.headBound == 0 ? (wait == 0 ? 0 : Double.POSITIVE_INFINITY) : (double) wait / j.headBound;
            String c = j + " waited " + wait + " at the head from " + j.headSince + " while " + j.overtaken
                    + " tasks of other lanes started, guaranteed bound " + j.headBound;
            if (r > worstRatio) {
                worstRatio = r;
                worstCase = c;
            }
            if (j.overtaken > 0 && r > worstOvertakenRatio) {
                worstOvertakenRatio = r;
                worstOvertakenCase = c;
            }
        }
    }

    /** A task in flight as the engine would report it. */
    private static final class InFlight implements FairScheduler.Running<Job> {
        final FairScheduler.Lane<Job> lane;
        final Job job;
        final long[] now;

        InFlight(FairScheduler.Lane<Job> lane, Job job, long[] now) {
            this.lane = lane;
            this.job = job;
            this.now = now;
        }

        @Override
        public FairScheduler.Lane<Job> lane() {
            return lane;
        }

        @Override
        public long ticket() {
            return job.ticket;
        }

        @Override
        public long elapsed() {
            return now[0] - job.start;
        }
    }

    /** A clock reading the driver's time, in milliseconds. */
    private static final class DriverClock extends Clock {
        final long[] now;

        DriverClock(long[] now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(now[0]);
        }

        @Override
        public long millis() {
            return now[0];
        }
    }

    /** Optional: the old stated bound, for the before/after ratios. */
    interface OldBound {
        long at(FairScheduler<Job> s, List<FairScheduler.Lane<Job>> ls, int lane, List<InFlightView> running, long now);
    }

    /** A read-only view of a task in flight for {@link OldBound}. */
    record InFlightView(int lane, long ticket, long cost, long start) {
    }

    /** When set, every event is printed: for replaying one failing seed. */
    static java.io.PrintStream trace;

    private BoundHarness() {
    }

    /**
     * Runs a scenario.
     *
     * @param sc the scenario
     * @param random for the reactive arrivals
     * @param old the old bound to record beside the new one, or null
     * @return what it found
     */
    static Result run(Scenario sc, SplittableRandom random, OldBound old) {
        return run(sc, random, old, null, null);
    }

    /**
     * The bound of the class comment evaluated in hindsight: each lane's true largest cost, its smallest estimate
     * over the run, and each task's actual remaining time and true-up.
     */
    static final class Hindsight implements StartBound.Knowledge<Job> {
        final long[] maxCost;
        final long[] minTicket;

        Hindsight(long[] maxCost, long[] minTicket) {
            this.maxCost = maxCost;
            this.minTicket = minTicket;
        }

        @Override
        public long maxCost(FairScheduler.Lane<Job> j, long maxElapsed) {
            return Math.max(1, maxCost[Integer.parseInt(j.name().substring(1))]);
        }

        @Override
        public long minTicket(FairScheduler.Lane<Job> j) {
            return minTicket[Integer.parseInt(j.name().substring(1))];
        }

        @Override
        public long remaining(FairScheduler.Running<Job> r, long c) {
            InFlight f = (InFlight) r;
            return f.job.cost - f.elapsed();
        }

        @Override
        public long refund(FairScheduler.Running<Job> r) {
            return r.ticket() - ((InFlight) r).job.cost;
        }

        @Override
        public long charge(FairScheduler.Running<Job> r, long c) {
            return Math.max(0, ((InFlight) r).job.cost - r.ticket());
        }

        @Override
        public boolean ranges() {
            return false;
        }
    }

    /**
     * Runs a scenario.
     *
     * @param sc the scenario
     * @param random for the reactive arrivals
     * @param old the old stated bound to record beside the new one, or null
     * @param oldRunTime the old run-time figure to record beside the new one, or null
     * @param hindsight to record the bound in hindsight too (and check it), or null
     * @return what it found
     */
    static Result run(Scenario sc, SplittableRandom random, OldBound old, OldBound oldRunTime, Hindsight hindsight) {
        long[] now = {0};
        FairScheduler<Job> s = FairScheduler.builder().permits(sc.permits).quantum(sc.quantum).clock(new DriverClock(now)).build();
        List<FairScheduler.Lane<Job>> ls = new ArrayList<>();
        for (int i = 0; i < sc.lanes.size(); i++) {
            ls.add(s.addLane(sc.lanes.get(i).spec(i)));
        }
        Result res = new Result();
        List<Job> jobs = new ArrayList<>(sc.jobs);
        jobs.forEach(Job::reset);
        jobs.sort((a, b) -> Long.compare(a.arrival, b.arrival));
        ArrayDeque<Job> arrivals = new ArrayDeque<>(jobs);
        ArrayDeque<Change> changes = new ArrayDeque<>(sc.changes);
        int[] reactiveNext = new int[sc.lanes.size()];
        int[] seq = {0};
        PriorityQueue<InFlight> running = new PriorityQueue<>((a, b) -> a.job.start + a.job.cost != b.job.start + b.job.cost
                ? Long.compare(a.job.start + a.job.cost, b.job.start + b.job.cost) : Integer.compare(a.job.seq, b.job.seq));
        List<InFlight> runningList = new ArrayList<>();
        List<Job> reactive = new ArrayList<>();
        int sameInstant = 0;
        while (!arrivals.isEmpty() || !running.isEmpty() || !changes.isEmpty() || anyReady(ls)) {
            long next = Long.MAX_VALUE;
            if (!arrivals.isEmpty()) {
                next = arrivals.peek().arrival;
            }
            if (!running.isEmpty()) {
                next = Math.min(next, running.peek().job.start + running.peek().job.cost);
            }
            if (!changes.isEmpty()) {
                next = Math.min(next, changes.peek().at);
            }
            long refill = s.nextRateRefillMillis();
            if (refill != Long.MAX_VALUE) {
                next = Math.min(next, Math.max(refill, now[0]));
            }
            if (next == Long.MAX_VALUE) {
                res.violations.add("stuck at " + now[0] + ": ready work but nothing due " + ls);
                break;
            }
            sameInstant = next == now[0] ? sameInstant + 1 : 0;
            if (sameInstant > 10_000) {
                res.violations.add("no progress at " + now[0] + ": " + ls);
                break;
            }
            now[0] = next;
            while (!running.isEmpty() && running.peek().job.start + running.peek().job.cost == now[0]) {
                InFlight f = running.poll();
                runningList.remove(f);
                if (trace != null) {
                    trace.println(now[0] + " complete " + f.job + " ticket " + f.job.ticket);
                }
                s.complete(f.lane, f.job.ticket, f.job.cost);
            }
            boolean changed = false;
            while (!changes.isEmpty() && changes.peek().at == now[0]) {
                Change c = changes.poll();
                FairScheduler.Lane<Job> l = ls.get(c.lane);
                switch (c.kind) {
                    case "pause" -> s.pause(l);
                    case "resume" -> s.resume(l);
                    case "limit" -> s.limit(c.value);
                    case "weight" -> s.updateLane(l, sc.lanes.get(c.lane).spec(c.lane).toBuilder().weight(c.value).build());
                    default -> throw new IllegalArgumentException(c.kind);
                }
                changed = true;
            }
            if (changed) {
                for (FairScheduler.Lane<Job> l : ls) {
                    for (Job j : readyOf(l)) {
                        j.deadline = Long.MAX_VALUE;
                        j.voided = true;
                    }
                }
            }
            while (!arrivals.isEmpty() && arrivals.peek().arrival == now[0]) {
                admit(s, ls, arrivals.poll(), seq, runningList, now[0]);
            }
            s.refreshRates();
            while (true) {
                dispatch(s, ls, sc, running, runningList, now, res, reactive, random, reactiveNext);
                if (reactive.isEmpty()) {
                    break;
                }
                for (Job j : reactive) { // right after the start that triggered it
                    admit(s, ls, j, seq, runningList, now[0]);
                }
                reactive.clear();
            }
            // every lane: the bound of its head, or of an item arriving now
            for (int i = 0; i < ls.size(); i++) {
                FairScheduler.Lane<Job> l = ls.get(i);
                long b = s.startBound(l, runningList);
                Job head = l.peek();
                if (head == null) {
                    continue;
                }
                if (b != FairScheduler.UNBOUNDED) {
                    if (trace != null && now[0] + b < head.deadline) {
                        trace.println(now[0] + " bound l" + i + " head " + head + " " + b + " -> deadline " + (now[0] + b)
                                + " | cursor " + s.ringCursor() + " visiting " + s.ringVisiting() + " " + s);
                    }
                    head.deadline = Math.min(head.deadline, now[0] + b);
                }
                if (head.headSince < 0) {
                    res.heads++;
                    head.headSince = now[0];
                    head.headBound = b;
                    head.headEstimate = s.startEstimate(l, runningList);
                    if (hindsight != null) {
                        head.headHindsight = StartBound.evaluate(s, l, runningList, hindsight);
                    }
                    if (old != null || oldRunTime != null) {
                        List<InFlightView> view = new ArrayList<>();
                        for (InFlight f : runningList) {
                            view.add(new InFlightView(f.job.lane, f.job.ticket, f.job.cost, f.job.start));
                        }
                        head.headOld = old == null ? -1 : old.at(s, ls, i, view, now[0]);
                        head.headOldRunTime = oldRunTime == null ? -1 : oldRunTime.at(s, ls, i, view, now[0]);
                    }
                    if (b == FairScheduler.UNBOUNDED) {
                        res.unbounded++;
                    }
                }
            }
            if (s.permitsInUse() > sc.permits) {
                res.violations.add("permits " + s.permitsInUse() + " > " + sc.permits + " at " + now[0]);
            }
            if (res.violations.size() > 5) {
                break;
            }
        }
        res.minEstimate = new long[ls.size()];
        for (int i = 0; i < ls.size(); i++) {
            res.minEstimate[i] = ls.get(i).minEstimate;
        }
        return res;
    }

    private static void admit(FairScheduler<Job> s, List<FairScheduler.Lane<Job>> ls, Job j, int[] seq, List<InFlight> running,
            long now) {
        j.seq = seq[0]++;
        FairScheduler.Lane<Job> l = ls.get(j.lane);
        if (l.ready() == 0) { // the bound for an item arriving now, evaluated before it arrives
            long b = s.startBound(l, running);
            if (b != FairScheduler.UNBOUNDED) {
                j.deadline = now + b;
            }
        }
        s.enqueue(l, j);
    }

    private static void dispatch(FairScheduler<Job> s, List<FairScheduler.Lane<Job>> ls, Scenario sc, PriorityQueue<InFlight> running,
            List<InFlight> runningList, long[] now, Result res, List<Job> reactive, SplittableRandom random, int[] reactiveNext) {
        Object[] got = new Object[2];
        while (s.next((lane, item, ticket) -> {
            got[0] = lane;
            got[1] = item;
            item.ticket = ticket;
        })) {
            @SuppressWarnings("unchecked")
            FairScheduler.Lane<Job> lane = (FairScheduler.Lane<Job>) got[0];
            Job j = (Job) got[1];
            j.start = now[0];
            for (FairScheduler.Lane<Job> other : ls) {
                Job head = other.peek();
                if (other != lane && head != null && head.headSince >= 0) {
                    head.overtaken++;
                }
            }
            if (trace != null) {
                trace.println(now[0] + " start " + j + " ticket " + ticket(j) + " deadline " + j.deadline + " | " + s);
            }
            InFlight f = new InFlight(lane, j, now);
            running.add(f);
            runningList.add(f);
            if (j.headHindsight >= 0 && j.headHindsight != FairScheduler.UNBOUNDED && !j.voided
                    && j.start > j.headSince + j.headHindsight) {
                res.violations.add(j + " started at " + j.start + " after its bound in hindsight " + j.headHindsight
                        + " from " + j.headSince);
            }
            if (j.start > j.deadline) {
                res.violations.add(j + " started at " + j.start + " after its deadline " + j.deadline + " (at the head since "
                        + j.headSince + " with bound " + j.headBound + ")");
            }
            if (j.headSince >= 0) {
                if (!j.voided && j.headBound != FairScheduler.UNBOUNDED) {
                    res.measured.add(j);
                    res.ratio(j, j.start - j.headSince);
                }
            }
            for (Trigger t : sc.triggers) {
                if (t.from == j.lane && j.cost >= t.minCost && random.nextDouble() < t.probability) {
                    long[] costs = sc.reactiveCosts.get(t.to);
                    if (reactiveNext[t.to] < costs.length) {
                        reactive.add(new Job(t.to, now[0], costs[reactiveNext[t.to]++]));
                    }
                }
            }
        }
    }

    private static long ticket(Job j) {
        return j.ticket;
    }

    private static boolean anyReady(List<FairScheduler.Lane<Job>> ls) {
        for (FairScheduler.Lane<Job> l : ls) {
            if (l.ready() > 0) {
                return true;
            }
        }
        return false;
    }

    private static List<Job> readyOf(FairScheduler.Lane<Job> l) {
        return new ArrayList<>(l.ready);
    }
}
