package dev.relay.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PermitLeasesTest {

    private static final long LEASE = 1_000;
    private static final long MARGIN = 200;

    /** The holder's view of each permit, checked against the protocol of {@link PermitHolder}. */
    static final class RecordingHolder implements PermitHolder {
        enum View { GRANTED, REVOKING }

        final Map<Integer, View> view = new HashMap<>();
        final Map<Integer, Runnable> giveBacks = new HashMap<>();
        final List<String> events = new ArrayList<>();
        /** Permits released by force while this holder still gives them back: a grant may come before. */
        final Set<Integer> forced = new TreeSet<>();

        @Override
        public synchronized void granted(int permit) {
            events.add("granted " + permit);
            if (view.containsKey(permit) && !forced.remove(permit)) {
                throw new AssertionError("permit " + permit + " granted twice: " + events);
            }
            view.put(permit, View.GRANTED);
            giveBacks.remove(permit);
        }

        @Override
        public synchronized void revoked(int permit, Duration grace, Runnable giveBack) {
            events.add("revoked " + permit);
            if (view.get(permit) != View.GRANTED) {
                throw new AssertionError("permit " + permit + " revoked while " + view.get(permit) + ": " + events);
            }
            view.put(permit, View.REVOKING);
            giveBacks.put(permit, giveBack);
        }

        @Override
        public synchronized void lost(int permit) {
            events.add("lost " + permit);
            if (view.remove(permit) == null) {
                throw new AssertionError("permit " + permit + " lost while not held: " + events);
            }
            giveBacks.remove(permit);
        }

        /** Gives back a permit being revoked, as an engine does once nothing runs on it. */
        void giveBack(int permit) {
            Runnable r;
            synchronized (this) {
                r = giveBacks.remove(permit);
                if (r == null) {
                    return;
                }
                view.remove(permit);
                forced.remove(permit);
            }
            r.run();
        }

        synchronized int held() {
            return view.size();
        }
    }

    private static PermitLeases leases(int total, AtomicLong clock) {
        return PermitLeases.builder(total, Duration.ofNanos(LEASE)).margin(Duration.ofNanos(MARGIN))
                .ticker(clock::get).build();
    }

    @Test
    void granted_thenLeaseDue_holderToldLostAndPermitFenced() {
        AtomicLong clock = new AtomicLong(10_000);
        PermitLeases leases = leases(2, clock);
        RecordingHolder holder = new RecordingHolder();
        leases.start(holder);
        leases.granted(1, clock.get());
        assertEquals(Set.of(1), leases.held());
        clock.addAndGet(LEASE - MARGIN - 1);
        leases.fenceDue();
        assertEquals(Set.of(1), leases.held(), "not due yet");
        clock.addAndGet(1);
        leases.fenceDue();
        assertEquals(Set.of(), leases.held());
        assertEquals(Set.of(1), leases.renewable(), "a fenced permit is still renewed");
        assertEquals(List.of("granted 1", "lost 1"), holder.events);
        PermitStatus s = leases.status();
        assertEquals(0, s.held());
        assertEquals(1, s.fenced());
        assertEquals(1, s.losses());
    }

    @Test
    void renewed_fencedPermitInTime_grantedAgain() {
        AtomicLong clock = new AtomicLong(0);
        PermitLeases leases = leases(1, clock);
        RecordingHolder holder = new RecordingHolder();
        leases.start(holder);
        leases.granted(0, 0);
        clock.set(LEASE - MARGIN);
        leases.fenceDue();
        long stale = clock.get() - (LEASE - MARGIN); // sent so long ago that its lease is used up
        leases.renewed(List.of(0), stale);
        assertEquals(Set.of(), leases.held(), "a renewal whose lease is used up brings nothing back");
        long sent = clock.get();
        clock.addAndGet(50);
        leases.renewed(List.of(0), sent);
        assertEquals(Set.of(0), leases.held());
        assertEquals(List.of("granted 0", "lost 0", "granted 0"), holder.events);
        assertEquals(2, leases.status().grants());
    }

    @Test
    void revoke_holderGivesBack_futureCompletesAndPermitGone() {
        AtomicLong clock = new AtomicLong(0);
        PermitLeases leases = leases(3, clock);
        RecordingHolder holder = new RecordingHolder();
        leases.start(holder);
        leases.granted(2, 0);
        CompletableFuture<Void> done = leases.revoke(2, Duration.ofSeconds(1));
        assertFalse(done.isDone());
        assertTrue(leases.revoking(2));
        assertEquals(Set.of(2), leases.held(), "held until given back");
        holder.giveBack(2);
        assertTrue(done.isDone());
        assertEquals(Set.of(), leases.renewable());
        assertEquals(1, leases.status().revocations());
    }

    @Test
    void revoke_leaseDueWhileGivingBack_holderToldLostAndFutureCompletes() {
        AtomicLong clock = new AtomicLong(0);
        PermitLeases leases = leases(1, clock);
        RecordingHolder holder = new RecordingHolder();
        leases.start(holder);
        leases.granted(0, 0);
        CompletableFuture<Void> done = leases.revoke(0, Duration.ofSeconds(1));
        clock.set(LEASE);
        leases.fenceDue();
        assertTrue(done.isDone());
        assertEquals(List.of("granted 0", "revoked 0", "lost 0"), holder.events);
    }

    @Test
    void forceRelease_revokingPermit_countedAndFutureCompletes() {
        AtomicLong clock = new AtomicLong(0);
        PermitLeases leases = leases(1, clock);
        leases.start(new RecordingHolder());
        leases.granted(0, 0);
        CompletableFuture<Void> done = leases.revoke(0, Duration.ZERO);
        leases.forceRelease(0);
        assertTrue(done.isDone());
        assertEquals(1, leases.status().forcedReleases());
        assertEquals(Set.of(), leases.renewable());
    }

    @Test
    void granted_beforeStart_fails() {
        PermitLeases leases = leases(1, new AtomicLong());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> leases.granted(0, 0));
        assertTrue(e.getMessage().contains("start(holder)"), e.getMessage());
    }

    @Test
    void granted_permitOutOfRange_namesIt() {
        PermitLeases leases = leases(2, new AtomicLong());
        leases.start(new RecordingHolder());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> leases.granted(2, 0));
        assertTrue(e.getMessage().contains("permit 2"), e.getMessage());
    }

    @Test
    void builder_marginNotBelowLease_fails() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PermitLeases.builder(1, Duration.ofSeconds(2)).margin(Duration.ofSeconds(2)));
        assertTrue(e.getMessage().contains("PT2S"), e.getMessage());
    }

    @Test
    void timer_leaseDue_fencesWithoutAnyCall() throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
            PermitLeases leases = PermitLeases.builder(1, Duration.ofMillis(300)).margin(Duration.ofMillis(100))
                    .timer(timer).build();
            RecordingHolder holder = new RecordingHolder();
            leases.start(holder);
            leases.granted(0, leases.now());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (holder.held() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(List.of("granted 0", "lost 0"), holder.events);
        } finally {
            timer.shutdownNow();
        }
    }

    /**
     * Any sequence of grants, renewals (possibly stale), revocations, give-backs, losses, forced releases, time steps
     * and fence checks keeps the holder's protocol and the invariants: after a fence check nothing due is held, the
     * holder's count equals what the leases report, and every revocation ends exactly when its permit is gone.
     */
    @Test
    void anySequence_keepsProtocolAndInvariants() {
        qt().withFixedSeed(12L).withExamples(400)
                .forAll(lists().of(integers().between(0, 8 * 4 * 1000 - 1)).ofSizeBetween(1, 80))
                .checkAssert(ops -> {
                    AtomicLong clock = new AtomicLong(1_000_000);
                    int total = 4;
                    PermitLeases leases = leases(total, clock);
                    RecordingHolder holder = new RecordingHolder();
                    leases.start(holder);
                    Map<Integer, CompletableFuture<Void>> revocations = new HashMap<>();
                    for (int code : ops) {
                        int op = code % 8;
                        int k = (code / 8) % total;
                        long amount = code / 32; // 0 … 999
                        switch (op) {
                            case 0 -> leases.granted(k, clock.get() - amount);
                            case 1 -> leases.renewed(leases.renewable(), clock.get() - amount);
                            case 2 -> revocations.put(k, leases.revoke(k, Duration.ofNanos(amount)));
                            case 3 -> holder.giveBack(k);
                            case 4 -> leases.lost(k);
                            case 5 -> clock.addAndGet(amount);
                            case 6 -> {
                                synchronized (holder) {
                                    if (leases.revoking(k)) {
                                        holder.forced.add(k);
                                    }
                                }
                                leases.forceRelease(k);
                            }
                            default -> leases.fenceDue();
                        }
                        if (op == 5 || op == 7) {
                            leases.fenceDue();
                            PermitStatus s = leases.status();
                            assertTrue(s.held() == 0 || s.leaseRemaining().toNanos() > 0, () -> "a due permit is held: " + s);
                        }
                        PermitStatus s = leases.status();
                        synchronized (holder) {
                            long viewHeld = holder.view.keySet().stream().filter(p -> !holder.forced.contains(p)).count();
                            assertEquals(viewHeld, s.held(), () -> "holder view " + holder.view + " vs " + s + ": " + holder.events);
                        }
                        Set<Integer> held = leases.held();
                        revocations.forEach((p, f) -> assertEquals(!leases.revoking(p), f.isDone(),
                                () -> "revocation of " + p + " done " + f.isDone() + ", held " + held));
                    }
                });
    }
}
