package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.core.FairScheduler.Lane;
import dev.relay.core.FairScheduler.Running;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * {@link FairScheduler#startBound}: when it is a guarantee and when it is not, and designed workloads on which a
 * head item waits exactly the bound (so the bound is not loose in the worst case).
 */
class StartBoundTest {

    private static final long UNBOUNDED = FairScheduler.UNBOUNDED;

    /** A task for the small simulations below: a name and its cost (= run time). */
    record Task(String name, long cost) {
    }

    /** A task in flight, with the time it started. */
    static final class Flight implements Running<Task> {
        final Lane<Task> lane;
        final Task task;
        final long ticket;
        final long start;
        final long[] now;

        Flight(Lane<Task> lane, Task task, long ticket, long start, long[] now) {
            this.lane = lane;
            this.task = task;
            this.ticket = ticket;
            this.start = start;
            this.now = now;
        }

        @Override
        public Lane<Task> lane() {
            return lane;
        }

        @Override
        public long ticket() {
            return ticket;
        }

        @Override
        public long elapsed() {
            return now[0] - start;
        }

        long end() {
            return start + task.cost();
        }
    }

    /** A tiny event loop: a task's cost is its run time. */
    static final class Sim {
        final FairScheduler<Task> s;
        final long[] now = {0};
        final List<Flight> running = new ArrayList<>();
        final PriorityQueue<Flight> byEnd = new PriorityQueue<>(Comparator.comparingLong(Flight::end));
        final List<String> log = new ArrayList<>();

        Sim(int permits, long quantum) {
            s = FairScheduler.builder().permits(permits).quantum(quantum).build();
        }

        void dispatch() {
            while (s.next((lane, task, ticket) -> {
                Flight f = new Flight(lane, task, ticket, now[0], now);
                running.add(f);
                byEnd.add(f);
                log.add(now[0] + " " + task.name());
            })) {
                // every start is logged
            }
        }

        /** Runs until {@code name} starts; returns its start time. */
        long runUntilStarted(String name) {
            dispatch();
            while (true) {
                for (String l : log) {
                    if (l.endsWith(" " + name)) {
                        return Long.parseLong(l.substring(0, l.indexOf(' ')));
                    }
                }
                if (!step()) {
                    throw new AssertionError(name + " never started: " + log);
                }
            }
        }

        /** Completes the tasks that end next, then dispatches; false if nothing was in flight. */
        boolean step() {
            Flight f = byEnd.poll();
            if (f == null) {
                return false;
            }
            now[0] = f.end();
            running.remove(f);
            s.complete(f.lane, f.ticket, f.task.cost());
            while (!byEnd.isEmpty() && byEnd.peek().end() == now[0]) {
                Flight g = byEnd.poll();
                running.remove(g);
                s.complete(g.lane, g.ticket, g.task.cost());
            }
            dispatch();
            return true;
        }

        /** Runs everything in flight and ready to the end. */
        void drain() {
            dispatch();
            while (step()) {
                // until nothing is in flight
            }
        }
    }

    private static LaneSpec declared(String name, long maxCost) {
        return LaneSpec.builder(name).maxTaskCost(maxCost).build();
    }

    @Test
    void startBound_freeDedicatedPermit_isZero() {
        Sim sim = new Sim(2, 10);
        Lane<Task> d = sim.s.addLane(LaneSpec.builder("d").dedicatedPermits(1).build());
        Lane<Task> a = sim.s.addLane(declared("a", 50));
        sim.s.enqueue(a, new Task("a1", 50));
        sim.dispatch();
        assertEquals(0, sim.s.startBound(d, sim.running), "an item arriving now starts on the next dispatch");
    }

    @Test
    void startBound_lanesWithoutDeclaredMaximum_isUnbounded_butAnUndeclaredLaneCappedBelowThePoolLeavesAGuarantee() {
        Sim sim = new Sim(2, 10);
        Lane<Task> big = sim.s.addLane(LaneSpec.of("big")); // no declaration: its next task may run for days
        Lane<Task> v = sim.s.addLane(declared("v", 5));
        sim.s.enqueue(big, new Task("b1", 1000));
        sim.dispatch();
        assertEquals(UNBOUNDED, sim.s.startBound(v, sim.running), "'big' may take both permits");
        assertNotEquals(UNBOUNDED, sim.s.startEstimate(v, sim.running), "the estimate uses the costs seen");

        Sim capped = new Sim(2, 10);
        Lane<Task> big2 = capped.s.addLane(LaneSpec.builder("big").maxInFlight(1).build());
        Lane<Task> v2 = capped.s.addLane(declared("v", 5));
        capped.s.enqueue(big2, new Task("b1", 1000));
        capped.s.enqueue(big2, new Task("b2", 1000));
        capped.dispatch();
        long b = capped.s.startBound(v2, capped.running);
        assertEquals(0, b, "'big' holds one permit at most: the other is free");
        capped.s.enqueue(v2, new Task("v1", 5));
        capped.s.enqueue(v2, new Task("v2", 5));
        capped.dispatch();
        // v2 waits for v1 (≤ 5) on the one permit 'big' cannot take
        assertEquals(5, capped.s.startBound(v2, capped.running));
        assertEquals(5, capped.runUntilStarted("v2"));
    }

    @Test
    void startBound_pausedCappedOrRateLimitedLane_isUnbounded() {
        Sim sim = new Sim(2, 10);
        Lane<Task> p = sim.s.addLane(declared("p", 5));
        Lane<Task> c = sim.s.addLane(LaneSpec.builder("c").maxInFlight(1).maxTaskCost(5).build());
        sim.s.pause(p);
        assertEquals(UNBOUNDED, sim.s.startBound(p, sim.running), "a paused lane waits for an operator");
        sim.s.enqueue(c, new Task("c1", 5));
        sim.s.enqueue(c, new Task("c2", 5));
        sim.dispatch();
        assertEquals(UNBOUNDED, sim.s.startBound(c, sim.running), "at its cap it waits for its own task first");
        assertEquals(UNBOUNDED, sim.s.startEstimate(c, sim.running));
    }

    @Test
    void startBound_tasksInFlightNotThoseOfTheScheduler_isRejectedNamingTheCounts() {
        Sim sim = new Sim(2, 10);
        Lane<Task> a = sim.s.addLane(declared("a", 50));
        sim.s.enqueue(a, new Task("a1", 50));
        sim.dispatch();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sim.s.startBound(a, List.of()));
        assertTrue(e.getMessage().contains("0 shared") && e.getMessage().contains("1 shared"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Running.of(a, 5, -1));
        assertThrows(IllegalArgumentException.class, () -> Running.of(a, 0, 1));
    }

    @Test
    void startBound_taskOverrunsItsDeclaredMaximum_voidsTheGuaranteeUntilAnotherMaximumIsDeclared() {
        Sim sim = new Sim(1, 10);
        Lane<Task> a = sim.s.addLane(declared("a", 50));
        Lane<Task> v = sim.s.addLane(declared("v", 5));
        sim.s.enqueue(a, new Task("a1", 80)); // declared 50, runs 80
        sim.dispatch();
        sim.now[0] = 40;
        assertNotEquals(UNBOUNDED, sim.s.startBound(v, sim.running));
        sim.now[0] = 51;
        assertEquals(UNBOUNDED, sim.s.startBound(v, sim.running), "its task has run beyond the declaration");
        sim.drain();
        assertTrue(a.maxTaskCostExceeded());
        assertEquals(UNBOUNDED, sim.s.startBound(v, sim.running), "the declaration proved wrong");
        sim.s.updateLane(a, declared("a", 50));
        assertTrue(a.maxTaskCostExceeded(), "declaring the same maximum again does not clear it");
        sim.s.updateLane(a, declared("a", 100));
        assertFalse(a.maxTaskCostExceeded());
        assertNotEquals(UNBOUNDED, sim.s.startBound(v, sim.running), "a new declaration is trusted again");
    }

    /**
     * Lane a's head waits for a's own task a1 (charged its estimate 10) to be charged in full: with a declared maximum
     * of 500 it may owe 490 more, which it repays at 10 per round, while lane b gets a visit per round.
     */
    @ParameterizedTest
    @ValueSource(longs = {10, 500})
    void startBound_ownTaskInFlightMayOverrunItsEstimate_addsRoundsOfDebt(long declaredA) {
        Sim sim = new Sim(1, 10);
        Lane<Task> a = sim.s.addLane(declared("a", declaredA));
        Lane<Task> b = sim.s.addLane(declared("b", 20));
        sim.s.enqueue(a, new Task("a1", 10));
        sim.s.enqueue(a, new Task("a2", 10));
        for (int k = 1; k <= 5; k++) {
            sim.s.enqueue(b, new Task("b" + k, 20));
        }
        sim.dispatch();
        long bound = sim.s.startBound(a, sim.running);
        // r = C_a (a1 may run its maximum); R = 1 + ⌊(C_a − 10) / 10⌋ rounds; lane b: R visits of at most
        // Q_b + (C_b − 1) = 29 each (its count form, 20 · 10 per visit, is larger)
        long rounds = 1 + (declaredA - 10) / 10;
        assertEquals(declaredA + rounds * 29, bound);
        assertTrue(sim.runUntilStarted("a2") <= bound);
    }

    /**
     * The bound's count form is exact: P lanes of one task each take every permit at t (cost C, weight 1, quantum
     * 1: one start per visit), m = 3P more such lanes are in the ring, and an item arrives in an idle lane. The
     * bound is {@code min_s (Σ_{q≤s} ρ_q + W)/s = (P·C + m·C)/P = 4C}, and the item starts exactly then.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void startBound_oneStartPerVisitLanes_isReachedExactly(int permits) {
        long c = 1_000;
        Sim sim = new Sim(permits, 1);
        List<Lane<Task>> first = new ArrayList<>();
        for (int k = 0; k < permits; k++) {
            first.add(sim.s.addLane(declared("b" + k, c)));
        }
        int m = 3 * permits;
        List<Lane<Task>> ahead = new ArrayList<>();
        for (int k = 0; k < m; k++) {
            ahead.add(sim.s.addLane(declared("a" + k, c)));
        }
        Lane<Task> victim = sim.s.addLane(declared("victim", 1));
        for (Lane<Task> l : first) {
            sim.s.enqueue(l, new Task(l.name(), c));
        }
        for (Lane<Task> l : ahead) {
            sim.s.enqueue(l, new Task(l.name(), c));
        }
        sim.dispatch();
        assertEquals(permits, sim.s.permitsInUse());
        long arriving = sim.s.startBound(victim, sim.running);
        sim.s.enqueue(victim, new Task("v", 1));
        long bound = sim.s.startBound(victim, sim.running);
        assertEquals(4 * c, bound);
        assertEquals(bound, arriving, "the bound of an item arriving now is the bound of the head it becomes");
        assertEquals(bound, sim.runUntilStarted("v"), "the victim waits exactly the bound");
    }

    /**
     * The deficit form is exact on one permit: lane X (cap 1) starts its longest task C_X = 100 at t; k lanes of
     * estimate 9, deficit 1 and quantum 10 are ahead, each holding a task of 10 and one of C = 50. Each visit starts
     * the 10 (the deficit stays positive, 1), then the 50: {@code G + Q + C − 1 = 1 + 10 + 49 = 60}. The victim,
     * arriving idle, waits {@code 100 + 60·k}: exactly the bound.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7})
    void startBound_overshootingVisitsOnOnePermit_isReachedExactly(int k) {
        Sim sim = new Sim(1, 10);
        List<Lane<Task>> ahead = new ArrayList<>();
        for (int j = 0; j < k; j++) {
            ahead.add(sim.s.addLane(declared("a" + j, 50)));
        }
        for (Lane<Task> l : ahead) { // one task of 9 each: estimate 10 → 9, deficit 10 − 10 + 1 = 1, then idle
            sim.s.enqueue(l, new Task(l.name() + "-warm", 9));
        }
        sim.drain();
        for (Lane<Task> l : ahead) {
            assertEquals(9, l.estimate());
            assertEquals(1, l.deficit());
        }
        Lane<Task> x = sim.s.addLane(LaneSpec.builder("x").maxInFlight(1).maxTaskCost(100).build());
        Lane<Task> victim = sim.s.addLane(declared("victim", 1));
        long t = sim.now[0];
        sim.s.enqueue(x, new Task("x1", 100)); // x first: the cursor, then the others placed after it
        for (Lane<Task> l : ahead) {
            sim.s.enqueue(l, new Task(l.name() + "-10", 10));
            sim.s.enqueue(l, new Task(l.name() + "-50", 50));
        }
        sim.dispatch();
        sim.s.enqueue(victim, new Task("v", 1));
        long bound = sim.s.startBound(victim, sim.running);
        assertEquals(100 + 60L * k, bound);
        assertEquals(t + bound, sim.runUntilStarted("v"));
    }
}
