package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class FairSchedulerTest {

    static FairScheduler<String> scheduler(int permits) {
        return FairScheduler.builder().permits(permits).quantum(10).build();
    }

    @Test
    void next_withoutLanes_returnsNull() {
        assertNull(Decision.next(scheduler(1)));
    }

    @Test
    void next_neverExceedsPermits() {
        FairScheduler<String> s = scheduler(2);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        for (int i = 0; i < 5; i++) {
            s.enqueue(a, "a" + i);
        }
        Decision<String> first = Decision.next(s);
        assertEquals("a0", first.item());
        assertEquals("a1", Decision.nextItem(s));
        assertNull(Decision.next(s), "both permits are taken");
        assertEquals(2, s.permitsInUse());
        first.complete(s, 10);
        assertEquals("a2", Decision.nextItem(s));
        assertEquals(2, s.permitsInUse());
    }

    @Test
    void next_takesLanesInFifoOrder() {
        FairScheduler<String> s = scheduler(1);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        s.enqueue(a, "x");
        s.enqueue(a, "y");
        Decision<String> x = Decision.next(s);
        assertEquals("x", x.item());
        x.complete(s, 1);
        assertEquals("y", Decision.nextItem(s));
    }

    @Test
    void dedicatedPermit_startsAtOnce_evenWhenTheSharedPoolIsBusy() {
        FairScheduler<String> s = scheduler(2);
        FairScheduler.Lane<String> bulk = s.addLane(LaneSpec.of("bulk"));
        FairScheduler.Lane<String> config = s.addLane(LaneSpec.builder("config").dedicatedPermits(1).build());
        for (int i = 0; i < 10; i++) {
            s.enqueue(bulk, "b" + i);
        }
        assertEquals("b0", Decision.nextItem(s));
        assertNull(Decision.next(s), "the one shared permit is busy; the dedicated one is reserved");
        s.enqueue(config, "c0");
        Decision<String> c = Decision.next(s);
        assertEquals("c0", c.item());
        assertSame(config, c.lane());
        assertEquals(-1L, c.ticket(), "dedicated ticket");
        assertEquals(2, s.permitsInUse());
    }

    @Test
    void limit_lowered_takesNoPermitBack_andTakesEffectAsTasksEnd() {
        FairScheduler<String> s = scheduler(4);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        for (int i = 0; i < 10; i++) {
            s.enqueue(a, "a" + i);
        }
        List<Decision<String>> running = startAll(s, 4);
        s.limit(2);
        assertEquals(4, s.permitsInUse(), "lowering preempts nothing");
        assertNull(Decision.next(s));
        running.get(0).complete(s, 1);
        assertNull(Decision.next(s), "3 in use, limit 2");
        running.get(1).complete(s, 1);
        running.get(2).complete(s, 1);
        assertEquals("a4", Decision.nextItem(s), "1 in use, limit 2: one more starts");
        assertNull(Decision.next(s));
        assertEquals(2, s.permitsInUse());
    }

    @Test
    void limit_raised_startsWorkAtOnce() {
        FairScheduler<String> s = scheduler(3);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        s.limit(1);
        for (int i = 0; i < 5; i++) {
            s.enqueue(a, "a" + i);
        }
        assertEquals("a0", Decision.nextItem(s));
        assertNull(Decision.next(s));
        s.limit(3);
        assertEquals("a1", Decision.nextItem(s));
        assertEquals("a2", Decision.nextItem(s));
        assertNull(Decision.next(s), "never above P");
        assertEquals(3, s.permitsInUse());
    }

    @Test
    void limit_belowTheDedicatedPermits_keepsOnePerDedicatedLane_andEmptiesTheSharedPool() {
        FairScheduler<String> s = scheduler(6);
        FairScheduler.Lane<String> big = s.addLane(LaneSpec.builder("big").dedicatedPermits(3).build());
        FairScheduler.Lane<String> small = s.addLane(LaneSpec.builder("small").dedicatedPermits(1).build());
        FairScheduler.Lane<String> shared = s.addLane(LaneSpec.of("shared"));
        for (int i = 0; i < 5; i++) {
            s.enqueue(big, "b" + i);
            s.enqueue(small, "s" + i);
            s.enqueue(shared, "x" + i);
        }
        s.limit(1);
        assertEquals(0, s.sharedPermits());
        int started = startAll(s, 10).size();
        assertEquals(2, started, "each dedicated lane keeps one permit, max(L, k) = 2");
        assertEquals(1, big.inFlight());
        assertEquals(1, small.inFlight());
        assertEquals(0, shared.inFlight());
    }

    @Test
    void limit_betweenTheDedicatedLanesAndTheirPermits_sharesTheRestInProportion() {
        FairScheduler<String> s = scheduler(8);
        FairScheduler.Lane<String> big = s.addLane(LaneSpec.builder("big").dedicatedPermits(5).build());
        FairScheduler.Lane<String> small = s.addLane(LaneSpec.builder("small").dedicatedPermits(1).build());
        for (int i = 0; i < 10; i++) {
            s.enqueue(big, "b" + i);
            s.enqueue(small, "s" + i);
        }
        s.limit(4);
        assertEquals(4, startAll(s, 10).size(), "never more than L once the limit is at least k");
        assertEquals(3, big.inFlight(), "1 + the 2 extra permits, all of them wanted by 'big'");
        assertEquals(1, small.inFlight());
    }

    @Test
    void limit_zero_startsNothing_evenOnDedicatedPermits() {
        FairScheduler<String> s = scheduler(2);
        FairScheduler.Lane<String> d = s.addLane(LaneSpec.builder("d").dedicatedPermits(1).build());
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        s.enqueue(d, "d0");
        s.enqueue(a, "a0");
        s.limit(0);
        assertNull(Decision.next(s));
        s.limit(2);
        assertEquals(2, startAll(s, 5).size());
    }

    @Test
    void limit_outsideZeroToP_failsNamingTheValue() {
        FairScheduler<String> s = scheduler(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.limit(3));
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("[0, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.limit(-1));
    }

    /** Starts up to {@code max} items and returns the decisions. */
    private static List<Decision<String>> startAll(FairScheduler<String> s, int max) {
        List<Decision<String>> out = new java.util.ArrayList<>();
        Decision<String> d;
        while (out.size() < max && (d = Decision.next(s)) != null) {
            out.add(d);
        }
        return out;
    }

    @Test
    void addLane_dedicatedBeyondPermits_failsNamingTheLane() {
        FairScheduler<String> s = scheduler(2);
        s.addLane(LaneSpec.builder("a").dedicatedPermits(2).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> s.addLane(LaneSpec.builder("b").dedicatedPermits(1).build()));
        assertTrue(e.getMessage().contains("'b'"), e.getMessage());
    }

    @Test
    void addLane_duplicateName_fails() {
        FairScheduler<String> s = scheduler(1);
        s.addLane(LaneSpec.of("a"));
        assertThrows(IllegalArgumentException.class, () -> s.addLane(LaneSpec.of("a")));
    }

    @Test
    void maxInFlight_capsTheLane_andOthersUseThePermits() {
        FairScheduler<String> s = scheduler(3);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.builder("a").maxInFlight(1).build());
        FairScheduler.Lane<String> b = s.addLane(LaneSpec.of("b"));
        for (int i = 0; i < 5; i++) {
            s.enqueue(a, "a" + i);
            s.enqueue(b, "b" + i);
        }
        int fromA = 0;
        for (int i = 0; i < 3; i++) {
            Decision<String> d = Decision.next(s);
            assertTrue(d != null);
            if (d.lane() == a) {
                fromA++;
            }
        }
        assertEquals(1, fromA);
        assertEquals(1, a.inFlight());
        assertEquals(2, b.inFlight());
    }

    @Test
    void pause_startsNothing_resume_startsAgain() {
        FairScheduler<String> s = scheduler(1);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        s.enqueue(a, "x");
        s.pause(a);
        assertNull(Decision.next(s));
        assertEquals(0, s.permitsInUse(), "a paused lane holds no permit");
        s.resume(a);
        assertEquals("x", Decision.nextItem(s));
    }

    @Test
    void removeLane_returnsItsReadyItems_andInFlightStillReleasesThePermit() {
        FairScheduler<String> s = scheduler(1);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.builder("a").dedicatedPermits(1).build());
        s.enqueue(a, "x");
        s.enqueue(a, "y");
        Decision<String> x = Decision.next(s);
        assertEquals("x", x.item());
        long ticket = x.ticket();
        assertEquals(List.of("y"), s.removeLane(a));
        assertEquals(1, s.permitsInUse());
        assertThrows(IllegalStateException.class, () -> s.enqueue(a, "z"));
        FairScheduler.Lane<String> b = s.addLane(LaneSpec.of("b"));
        s.enqueue(b, "b0");
        assertNull(Decision.next(s), "the removed lane's dedicated task still holds the only permit");
        s.complete(a, ticket, 5);
        assertEquals("b0", Decision.nextItem(s));
    }

    @Test
    void updateLane_lowerDedicated_freesThePermitOnlyWhenItsTaskEnds() {
        FairScheduler<String> s = scheduler(2);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.builder("a").dedicatedPermits(1).build());
        FairScheduler.Lane<String> b = s.addLane(LaneSpec.of("b"));
        s.enqueue(a, "a0");
        Decision<String> a0 = Decision.next(s);
        assertEquals("a0", a0.item());
        long ticket = a0.ticket();
        s.updateLane(a, LaneSpec.of("a"));
        for (int i = 0; i < 3; i++) {
            s.enqueue(b, "b" + i);
        }
        assertEquals("b0", Decision.nextItem(s));
        assertNull(Decision.next(s), "2 permits: a0 (was dedicated) and b0");
        s.complete(a, ticket, 1);
        assertEquals("b1", Decision.nextItem(s));
        assertEquals(2, s.permitsInUse());
    }

    @Test
    void weights_splitServiceInProportion() {
        FairScheduler<String> s = scheduler(1);
        FairScheduler.Lane<String> heavy = s.addLane(LaneSpec.builder("heavy").weight(3).build());
        FairScheduler.Lane<String> light = s.addLane(LaneSpec.builder("light").weight(1).build());
        for (int i = 0; i < 4000; i++) {
            s.enqueue(heavy, "h");
            s.enqueue(light, "l");
        }
        for (int i = 0; i < 4000; i++) {
            Decision.next(s).complete(s, 10);
        }
        double ratio = (double) heavy.served() / light.served();
        assertEquals(3.0, ratio, 0.05, "served heavy " + heavy.served() + " light " + light.served());
    }

    @Test
    void cost_notCount_decidesTheShare() {
        FairScheduler<String> s = scheduler(1);
        FairScheduler.Lane<String> big = s.addLane(LaneSpec.of("big"));
        FairScheduler.Lane<String> small = s.addLane(LaneSpec.of("small"));
        for (int i = 0; i < 5000; i++) {
            s.enqueue(big, "B");
            s.enqueue(small, "s");
        }
        for (int i = 0; i < 4000; i++) {
            Decision<String> d = Decision.next(s);
            d.complete(s, d.lane() == big ? 200 : 10);
        }
        double ratio = (double) big.served() / small.served();
        assertEquals(1.0, ratio, 0.05, "served big " + big.served() + " small " + small.served());
        assertTrue(small.completed() > 15 * big.completed(), "the small lane ran " + small.completed()
                + " tasks, the big one " + big.completed());
    }

    @Test
    void next_withHugeDebts_andATinyQuantum_stillDecidesQuickly() {
        FairScheduler<String> s = FairScheduler.builder().permits(1).quantum(1).build();
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        FairScheduler.Lane<String> b = s.addLane(LaneSpec.of("b"));
        for (int i = 0; i < 10; i++) {
            s.enqueue(a, "a");
            s.enqueue(b, "b");
        }
        for (int i = 0; i < 10; i++) {
            Decision<String> d = Decision.next(s);
            assertTrue(d != null);
            d.complete(s, 1_000_000_000_000L); // a thousand seconds in ns
        }
        assertEquals(10, a.completed() + b.completed());
    }

    @Test
    void idleLane_comesBackWithoutDebt() {
        FairScheduler<String> s = scheduler(1);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        s.enqueue(a, "x");
        Decision.next(s).complete(s, 1_000);
        assertTrue(a.deficit() < 0, "debt after an expensive task: " + a.deficit());
        s.enqueue(a, "y");
        assertEquals(0, a.deficit(), "an idle lane's debt is forgiven");
        assertEquals("y", Decision.nextItem(s));
    }

    @Test
    void rateLimit_holdsTheLaneBackUntilATokenRefills() {
        MutableClock clock = new MutableClock();
        FairScheduler<String> s = FairScheduler.builder().permits(4).quantum(10).clock(clock).build();
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.builder("a").rateLimit(1.0, 1).build());
        for (int i = 0; i < 3; i++) {
            s.enqueue(a, "a" + i);
        }
        assertEquals("a0", Decision.nextItem(s));
        assertNull(Decision.next(s), "no token left");
        long at = s.nextRateRefillMillis();
        assertEquals(clock.millis() + 1000, at);
        clock.now = clock.now.plusMillis(999);
        s.refreshRates();
        assertNull(Decision.next(s));
        clock.now = clock.now.plusMillis(1);
        s.refreshRates();
        assertEquals("a1", Decision.nextItem(s));
    }

    @Test
    void complete_negativeCost_fails() {
        FairScheduler<String> s = scheduler(1);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        s.enqueue(a, "x");
        Decision<String> x = Decision.next(s);
        assertThrows(IllegalArgumentException.class, () -> s.complete(a, x.ticket(), -1));
    }

    @Test
    void complete_withNothingInFlight_fails() {
        FairScheduler<String> s = scheduler(1);
        FairScheduler.Lane<String> a = s.addLane(LaneSpec.of("a"));
        assertThrows(IllegalStateException.class, () -> s.complete(a, 0, 1));
    }

    @Test
    void builder_rejectsBadValues_namingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FairScheduler.builder().permits(0));
        assertTrue(e.getMessage().contains("0"));
        e = assertThrows(IllegalArgumentException.class, () -> FairScheduler.builder().quantum(0));
        assertTrue(e.getMessage().contains("quantum"));
    }

    @Test
    void decisions_allocateNothing() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        FairScheduler<String> s = FairScheduler.builder().permits(4).quantum(10).build();
        @SuppressWarnings({"unchecked", "rawtypes"})
        FairScheduler.Lane<String>[] lanes = new FairScheduler.Lane[16];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = s.addLane(LaneSpec.builder("l" + i).weight(1 + i % 4).build());
            for (int j = 0; j < 30_000; j++) {
                s.enqueue(lanes[i], "x");
            }
        }
        long[] tickets = new long[4];
        @SuppressWarnings({"unchecked", "rawtypes"})
        FairScheduler.Lane<String>[] held = new FairScheduler.Lane[4];
        runDecisions(s, tickets, held, 20_000); // warm up
        long base0 = mx.getCurrentThreadAllocatedBytes();
        long base1 = mx.getCurrentThreadAllocatedBytes();
        long calibration = base1 - base0;
        long before = mx.getCurrentThreadAllocatedBytes();
        runDecisions(s, tickets, held, 100_000);
        long allocated = mx.getCurrentThreadAllocatedBytes() - before - calibration;
        assertTrue(allocated < 1024, "100,000 decisions allocated " + allocated + " bytes");
    }

    private static void runDecisions(FairScheduler<String> s, long[] tickets, FairScheduler.Lane<String>[] held, int n) {
        int slot = 0;
        for (int i = 0; i < n; i++) {
            if (held[slot] != null) {
                s.complete(held[slot], tickets[slot], 7 + (i & 15));
                held[slot] = null;
            }
            HOLD.slot = slot;
            s.next(HOLD.bind(tickets, held));
            slot = (slot + 1) & 3;
        }
    }

    /** A starter kept for the whole test, so that the decisions themselves are measured. */
    private static final Holder HOLD = new Holder();

    private static final class Holder implements FairScheduler.Starter<String> {
        int slot;
        long[] tickets;
        FairScheduler.Lane<String>[] held;

        Holder bind(long[] tickets, FairScheduler.Lane<String>[] held) {
            this.tickets = tickets;
            this.held = held;
            return this;
        }

        @Override
        public void onStart(FairScheduler.Lane<String> lane, String item, long ticket) {
            held[slot] = lane;
            tickets[slot] = ticket;
        }
    }

    static final class MutableClock extends Clock {
        Instant now = Instant.parse("2024-01-01T00:00:00Z");

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
            return now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }
    }
}
