package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.relay.api.PermitHolder;
import dev.relay.api.PermitStatus;
import dev.relay.api.SourcePermits;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link PermitGate} against a fake engine, without threads: grants, revocations, losses, graces, caps. */
class PermitGateTest {

    /** Runs in flight (newest last), which of them were cancelled, the limit applied, virtual time. */
    static final class FakeEngine implements PermitGate.Engine {
        final List<boolean[]> runs = new ArrayList<>(); // [cancelled]
        int limit = -1;
        int dedicated;
        long now;
        final List<Duration> wakes = new ArrayList<>();

        @Override
        public int inFlight() {
            return runs.size();
        }

        @Override
        public int cancelledInFlight() {
            return (int) runs.stream().filter(r -> r[0]).count();
        }

        @Override
        public int cancelNewest(int n) {
            int done = 0;
            for (int i = runs.size() - 1; i >= 0 && done < n; i--) {
                if (!runs.get(i)[0]) {
                    runs.get(i)[0] = true;
                    done++;
                }
            }
            return done;
        }

        /** The engine's own limit (operator's, adaptive), before the gate bounds it. */
        int cap = 4;
        PermitGate gate;

        @Override
        public void heldChanged() {
            limit = gate.bound(cap, dedicated);
        }

        /** The engine's limit changed: it re-applies it through the gate's bound. */
        void cap(int cap) {
            this.cap = cap;
            heldChanged();
        }

        @Override
        public long now() {
            return now;
        }

        @Override
        public void wakeAfter(Duration delay) {
            wakes.add(delay);
        }

        /** Starts runs while the limit allows, as the scheduler does. */
        void dispatch() {
            while (runs.size() < limit) {
                runs.add(new boolean[] {false});
            }
        }

        /** The oldest run (cancelled ones first, as they end fast) ends. */
        void finishOne() {
            for (int i = 0; i < runs.size(); i++) {
                if (runs.get(i)[0]) {
                    runs.remove(i);
                    return;
                }
            }
            if (!runs.isEmpty()) {
                runs.remove(0);
            }
        }
    }

    /** A store that only records the holder; the test plays the store's part. */
    static final class NoStore implements SourcePermits {
        final int total;

        NoStore(int total) {
            this.total = total;
        }

        @Override
        public int total() {
            return total;
        }

        @Override
        public void start(PermitHolder holder) {
        }

        @Override
        public PermitStatus status() {
            return new PermitStatus(total, 0, 0, Duration.ofSeconds(1), Duration.ZERO, 0, 0, 0, 0, 0, 0);
        }

        @Override
        public void close() {
        }
    }

    private final FakeEngine engine = new FakeEngine();
    private final AtomicInteger turns = new AtomicInteger();
    private final PermitGate gate = new PermitGate(new NoStore(4), engine, turns::incrementAndGet);

    {
        engine.gate = gate;
    }

    @Test
    void granted_limitFollowsHeld() {
        gate.granted(0);
        gate.granted(1);
        assertEquals(2, turns.get(), "every call asks for a turn");
        gate.receive();
        assertEquals(2, engine.limit);
        assertEquals(2, gate.held());
    }

    @Test
    void revoked_givenBackOnlyWhenARunEnded() {
        List<String> given = new ArrayList<>();
        gate.granted(0);
        gate.granted(1);
        gate.receive();
        engine.dispatch();
        gate.revoked(1, Duration.ofMinutes(1), () -> given.add("1"));
        gate.receive();
        assertEquals(1, engine.limit, "no new start on the revoked permit");
        assertEquals(List.of(), given, "two queries run on two permits");
        assertEquals(2, gate.held());
        engine.finishOne();
        gate.reconcile();
        assertEquals(List.of("1"), given);
        assertEquals(1, gate.held());
        assertEquals(0, gate.cancellations());
    }

    @Test
    void revoked_graceEnds_newestRunCancelledAndGivenBackWhenItEnds() {
        List<String> given = new ArrayList<>();
        gate.granted(0);
        gate.granted(1);
        gate.receive();
        engine.dispatch();
        gate.revoked(0, Duration.ofMillis(100), () -> given.add("0"));
        gate.receive();
        assertEquals(List.of(Duration.ofMillis(100)), engine.wakes, "a turn when the grace ends");
        engine.now += Duration.ofMillis(100).toNanos();
        gate.reconcile();
        assertTrue(engine.runs.get(1)[0], "the newest run is cancelled");
        assertFalse(engine.runs.get(0)[0]);
        assertEquals(1, gate.cancellations());
        assertEquals(List.of(), given, "given back only once the cancelled run ended");
        engine.finishOne();
        gate.reconcile();
        assertEquals(List.of("0"), given);
    }

    @Test
    void lost_runsBeyondHeldCancelledAtOnce() {
        gate.granted(0);
        gate.granted(1);
        gate.granted(2);
        gate.receive();
        engine.dispatch();
        gate.lost(0);
        gate.lost(1);
        gate.receive();
        assertEquals(1, engine.limit);
        assertEquals(2, engine.cancelledInFlight(), "two of three queries cancelled in the turn that learned it");
        assertEquals(2, gate.cancellations());
        gate.reconcile();
        assertEquals(2, gate.cancellations(), "a run is cancelled once");
    }

    @Test
    void lost_whileOwed_noLongerOwedAndCancelledAtOnce() {
        List<String> given = new ArrayList<>();
        gate.granted(0);
        gate.receive();
        engine.dispatch();
        gate.revoked(0, Duration.ofMinutes(1), () -> given.add("0"));
        gate.receive();
        assertEquals(0, engine.cancelledInFlight(), "within the grace");
        gate.lost(0); // the lease ran out while giving back
        gate.receive();
        assertEquals(1, engine.cancelledInFlight());
        assertEquals(0, gate.held());
        engine.finishOne();
        gate.reconcile();
        assertEquals(List.of(), given, "a lost permit is not given back");
    }

    @Test
    void cap_belowHeld_limitsButKeepsThePermits() {
        for (int k = 0; k < 4; k++) {
            gate.granted(k);
        }
        gate.receive();
        engine.cap(2);
        assertEquals(2, engine.limit);
        assertEquals(4, gate.held());
        engine.cap(4);
        assertEquals(4, engine.limit);
    }

    @Test
    void heldBelowDedicatedLanes_startsNothing() {
        engine.dedicated = 2;
        gate.granted(0);
        gate.receive();
        assertEquals(0, engine.limit, "the scheduler would keep a permit for each of the two lanes");
        gate.granted(1);
        gate.receive();
        assertEquals(2, engine.limit);
    }

    /**
     * Any sequence of grants, revocations (graces short and long), losses, finished runs, dispatches and time keeps
     * the gate's invariants: runs never started beyond {@code min(held, cap)}; a give-back only when the runs fit in
     * what is still held; after every reconciliation the runs not cancelled fit in {@code held + owed within grace}.
     */
    @Test
    void anySequence_keepsTheGateInvariants() {
        qt().withFixedSeed(3L).withExamples(500).forAll(lists().of(integers().between(0, 6 * 4 * 10 - 1)).ofSizeBetween(1, 60))
                .checkAssert(ops -> {
                    FakeEngine e = new FakeEngine();
                    PermitGate g = new PermitGate(new NoStore(4), e, () -> { });
                    e.gate = g;
                    boolean[] held = new boolean[4];
                    ArrayDeque<int[]> owed = new ArrayDeque<>(); // {permit, graceEndsMillis}
                    int[] givenBack = {0};
                    for (int code : ops) {
                        int op = code % 6;
                        int k = (code / 6) % 4;
                        int amount = code / 24; // 0 … 9
                        switch (op) {
                            case 0 -> {
                                boolean owedK = owed.stream().anyMatch(o -> o[0] == k);
                                if (!held[k] && !owedK) {
                                    held[k] = true;
                                    g.granted(k);
                                }
                            }
                            case 1 -> {
                                if (held[k]) {
                                    held[k] = false;
                                    int[] o = {k, (int) (e.now / 1_000_000) + amount * 10};
                                    owed.add(o);
                                    g.revoked(k, Duration.ofMillis(amount * 10L), () -> {
                                        owed.remove(o);
                                        givenBack[0]++;
                                        int h = 0;
                                        for (boolean b : held) {
                                            h += b ? 1 : 0;
                                        }
                                        assertTrue(e.inFlight() <= h + owed.size(), "given back while " + e.inFlight()
                                                + " runs exceed the " + (h + owed.size()) + " permits left");
                                    });
                                }
                            }
                            case 2 -> {
                                if (held[k]) {
                                    held[k] = false;
                                    g.lost(k);
                                } else if (owed.removeIf(o -> o[0] == k)) {
                                    g.lost(k);
                                }
                            }
                            case 3 -> e.finishOne();
                            case 4 -> e.now += amount * 7_000_000L;
                            default -> e.dispatch();
                        }
                        g.receive();
                        int heldCount = 0;
                        for (boolean h : held) {
                            heldCount += h ? 1 : 0;
                        }
                        int live = 0;
                        for (int[] o : owed) {
                            if (o[1] * 1_000_000L - e.now > 0) {
                                live++;
                            }
                        }
                        int notCancelled = e.inFlight() - e.cancelledInFlight();
                        assertTrue(notCancelled <= heldCount + live, () -> "runs not cancelled " + notCancelled
                                + " exceed held " + " + owed within grace");
                        assertTrue(e.inFlight() <= heldCount + owed.size() || e.cancelledInFlight() > 0,
                                "runs beyond the permits without a cancellation");
                        assertEquals(heldCount + owed.size(), g.held());
                        assertTrue(e.limit <= heldCount, "the limit never exceeds what is held");
                    }
                });
    }
}
