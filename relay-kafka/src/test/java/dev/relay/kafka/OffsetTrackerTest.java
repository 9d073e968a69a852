package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Out-of-order completion: commits never pass an incomplete offset, and a restart skips exactly the completed. */
class OffsetTrackerTest {

    /** Offsets from {@code start}, with a gap after every {@code gapEvery}-th one (transaction markers). */
    private static List<Long> offsets(int n, long start, int gapEvery) {
        List<Long> out = new ArrayList<>(n);
        long o = start;
        for (int i = 0; i < n; i++) {
            out.add(o);
            o += (gapEvery > 0 && i % gapEvery == gapEvery - 1) ? 2 : 1;
        }
        return out;
    }

    @Test
    void committable_neverPassesAnIncompleteOffset_inAnyCompletionOrder() {
        qt().withExamples(400).forAll(integers().between(1, 300), longs().all(), integers().between(0, 5),
                longs().between(0, 1_000_000)).checkAssert((n, seed, gapEvery, start) -> {
                    List<Long> offs = offsets(n, start, gapEvery);
                    OffsetTracker t = new OffsetTracker();
                    offs.forEach(t::track);
                    List<Long> order = new ArrayList<>(offs);
                    Collections.shuffle(order, new Random(seed));
                    TreeSet<Long> incomplete = new TreeSet<>(offs);
                    long last = offs.get(offs.size() - 1);
                    assertEquals(offs.get(0), t.committable());
                    for (long o : order) {
                        assertTrue(t.complete(o));
                        assertFalse(t.complete(o), "completing twice");
                        incomplete.remove(o);
                        long c = t.committable();
                        long expected = incomplete.isEmpty() ? last + 1 : incomplete.first();
                        assertEquals(expected, c, "committable after completing " + o);
                        // every offset below the committable one completed
                        assertTrue(incomplete.isEmpty() || incomplete.first() >= c);
                    }
                    assertEquals(0, t.outstandingCount());
                });
    }

    @Test
    void restore_afterACrashAtAnyPoint_skipsExactlyTheCompleted() {
        qt().withExamples(400).forAll(integers().between(1, 200), longs().all(), integers().between(0, 4),
                integers().between(0, 200)).checkAssert((n, seed, gapEvery, crashAfterRaw) -> {
                    List<Long> offs = offsets(n, 100, gapEvery);
                    OffsetTracker t = new OffsetTracker();
                    offs.forEach(t::track);
                    List<Long> order = new ArrayList<>(offs);
                    Collections.shuffle(order, new Random(seed));
                    int crashAfter = Math.min(crashAfterRaw, n);
                    TreeSet<Long> incomplete = new TreeSet<>(offs);
                    for (int i = 0; i < crashAfter; i++) {
                        t.complete(order.get(i));
                        incomplete.remove(order.get(i));
                    }
                    long committed = t.committable();
                    String metadata = t.commitMetadata(100_000);
                    // a new owner starts at the committed offset and skips what the metadata says completed
                    OffsetTracker.Completed done = OffsetTracker.restore(committed, metadata);
                    List<Long> redelivered = new ArrayList<>();
                    for (long o : offs) {
                        if (o >= committed && !done.isDone(o)) {
                            redelivered.add(o);
                        }
                    }
                    assertEquals(new ArrayList<>(incomplete), redelivered, "metadata " + metadata);
                });
    }

    @Test
    void commitMetadata_tooLong_isLeftOut_andOnlyCostsRedeliveries() {
        OffsetTracker t = new OffsetTracker();
        for (long o = 0; o < 5000; o++) {
            t.track(o);
        }
        for (long o = 1; o < 5000; o += 2) {
            t.complete(o);
        }
        assertEquals(0, t.committable());
        assertEquals("", t.commitMetadata(3000));
        OffsetTracker.Completed done = OffsetTracker.restore(0, "");
        assertFalse(done.isDone(1));
    }

    @Test
    void restore_foreignMetadata_skipsNothing() {
        assertFalse(OffsetTracker.restore(10, "written by another tool").isDone(11));
        assertFalse(OffsetTracker.restore(10, "r1;x;y").isDone(11));
        assertFalse(OffsetTracker.restore(10, null).isDone(11));
    }

    @Test
    void track_notIncreasing_throws() {
        OffsetTracker t = new OffsetTracker();
        t.track(5);
        assertThrows(IllegalArgumentException.class, () -> t.track(5));
        assertEquals(-1, new OffsetTracker().committable());
    }
}
