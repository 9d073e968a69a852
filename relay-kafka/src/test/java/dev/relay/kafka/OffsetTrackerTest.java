package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Out-of-order completion and crash counting: commits never pass an incomplete offset, a restart re-delivers
 * exactly the incomplete records, and a crash is charged to exactly the records the last commit said may have
 * been running — across any number of crashes.
 */
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

    /** A new owner: restores from the commit and fetches from the committed offset; returns what it delivers. */
    private static Map<Long, Integer> refetch(OffsetTracker restored, List<Long> offs, long committed) {
        Map<Long, Integer> delivered = new HashMap<>();
        for (long o : offs) {
            if (o >= committed) {
                int crashes = restored.track(o);
                if (crashes != OffsetTracker.DONE) {
                    delivered.put(o, crashes);
                }
            }
        }
        return delivered;
    }

    @Test
    void committable_neverPassesAnIncompleteOffset_inAnyCompletionOrder() {
        qt().withExamples(400).forAll(integers().between(1, 300), longs().all(), integers().between(0, 5),
                longs().between(0, 1_000_000)).checkAssert((n, seed, gapEvery, start) -> {
                    List<Long> offs = offsets(n, start, gapEvery);
                    OffsetTracker t = OffsetTracker.fresh();
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
                        long expected = incomplete.isEmpty() ? last + 1 : incomplete.first();
                        assertEquals(expected, t.committable(), "committable after completing " + o);
                    }
                    assertEquals(0, t.outstandingCount());
                });
    }

    @Test
    void restore_afterACrashAtAnyPoint_redeliversExactlyTheIncomplete() {
        qt().withExamples(400).forAll(integers().between(1, 200), longs().all(), integers().between(0, 4),
                integers().between(0, 200)).checkAssert((n, seed, gapEvery, crashAfterRaw) -> {
                    List<Long> offs = offsets(n, 100, gapEvery);
                    OffsetTracker t = OffsetTracker.fresh();
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
                    String metadata = t.metadata(100_000, o -> true);
                    Map<Long, Integer> again = refetch(OffsetTracker.restore(committed, metadata), offs, committed);
                    assertEquals(incomplete, new TreeSet<>(again.keySet()), "metadata " + metadata);
                    again.values().forEach(c -> assertEquals(0, c, "nothing was armed: no crash counted"));
                });
    }

    @Test
    void restore_chargesTheCrashToTheArmedRecordsAndTheProbationRecord_only() {
        OffsetTracker t = OffsetTracker.fresh();
        for (long o = 10; o < 20; o++) {
            t.track(o);
        }
        t.complete(10);
        t.complete(13);
        t.arm(11);
        t.arm(12);
        t.arm(13); // completed: not armed any more
        t.probation(15);
        String md = t.metadata(4000, o -> true);
        OffsetTracker r = OffsetTracker.restore(t.committable(), md);
        assertEquals(3, r.crashesCounted());
        Map<Long, Integer> again = refetch(r, offsets(10, 10, 0), t.committable());
        assertEquals(Map.of(11L, 1, 12L, 1, 14L, 0, 15L, 1, 16L, 0, 17L, 0, 18L, 0, 19L, 0), again, md);
    }

    @Test
    void restore_gracefulCommit_countsNoCrash_butKeepsEarlierCounts() {
        OffsetTracker t = OffsetTracker.fresh();
        for (long o = 0; o < 5; o++) {
            t.track(o);
            t.arm(o);
        }
        OffsetTracker afterCrash = OffsetTracker.restore(0, t.metadata(4000, o -> true));
        Map<Long, Integer> first = refetch(afterCrash, offsets(5, 0, 0), 0);
        assertEquals(Map.of(0L, 1, 1L, 1, 2L, 1, 3L, 1, 4L, 1), first);
        afterCrash.complete(0);
        afterCrash.arm(1); // handed out again, then the owner hands over gracefully: the commit arms nothing
        OffsetTracker afterHandOver = OffsetTracker.restore(afterCrash.committable(), afterCrash.metadata(4000, o -> false));
        assertEquals(0, afterHandOver.crashesCounted());
        assertEquals(Map.of(1L, 1, 2L, 1, 3L, 1, 4L, 1), refetch(afterHandOver, offsets(5, 0, 0), 1));
    }

    /**
     * The poison: armed in every life, it crashes every life; its count grows by one per crash, across restores
     * that happen before it was even fetched again. A record armed in no crash is never charged.
     */
    @Test
    void crashCount_survivesEveryCrash_andIsChargedToWhatWasArmedOnly() {
        qt().withExamples(200).forAll(integers().between(2, 60), integers().between(1, 8), longs().all())
                .checkAssert((n, lives, seed) -> {
                    Random random = new Random(seed);
                    List<Long> offs = offsets(n, 1_000, 3);
                    long poison = offs.get(random.nextInt(n));
                    Map<Long, Integer> expected = new HashMap<>();
                    OffsetTracker t = OffsetTracker.fresh();
                    Map<Long, Integer> delivered = refetch(t, offs, 0);
                    for (int life = 0; life < lives; life++) {
                        // this life fetched a prefix (maybe not even the poison), armed some of it, completed some
                        int fetched = random.nextInt(n + 1);
                        for (long o : offs.subList(0, fetched)) {
                            if (!delivered.containsKey(o) || o == poison) {
                                continue;
                            }
                            switch (random.nextInt(3)) {
                                case 0 -> {
                                    t.complete(o);
                                    delivered.remove(o);
                                    expected.remove(o);
                                }
                                case 1 -> {
                                    t.arm(o);
                                    expected.merge(o, 1, Integer::sum);
                                }
                                default -> { } // fetched, never armed (held back)
                            }
                        }
                        if (offs.indexOf(poison) < fetched) {
                            t.arm(poison);
                            expected.merge(poison, 1, Integer::sum);
                        }
                        long committed = t.committable();
                        t = OffsetTracker.restore(committed, t.metadata(4000, o -> true));
                        delivered = refetch(t, offs, committed);
                        for (Map.Entry<Long, Integer> e : delivered.entrySet()) {
                            assertEquals(expected.getOrDefault(e.getKey(), 0), e.getValue(), "crashes of " + e.getKey());
                        }
                    }
                });
    }

    @Test
    void metadata_tooLong_becomesCoarser_losingNoIncompleteRecordAndNoCrash() {
        OffsetTracker t = OffsetTracker.fresh();
        List<Long> offs = offsets(5000, 0, 7); // gaps too
        offs.forEach(t::track);
        for (int i = 1; i < offs.size(); i += 2) {
            t.complete(offs.get(i));
        }
        long poison = offs.get(2000);
        t.arm(poison);
        t.arm(offs.get(4000));
        String md = t.metadata(3000, o -> true);
        assertTrue(md.length() <= 3000, md.length() + " chars");
        OffsetTracker r = OffsetTracker.restore(t.committable(), md);
        Map<Long, Integer> again = refetch(r, offs, t.committable());
        for (int i = 0; i < offs.size(); i += 2) {
            assertTrue(again.containsKey(offs.get(i)), "incomplete " + offs.get(i) + " delivered again");
        }
        assertTrue(again.get(poison) >= 1, "the crash is still counted for an armed record");
        // the widened ranges named offsets that are no records (gaps): the commit still advances past them
        for (long o : again.keySet()) {
            r.complete(o);
        }
        assertEquals(offs.get(offs.size() - 1) + 1, r.committable());
    }

    @Test
    void restore_foreignOrFirstVersionMetadata() {
        assertEquals(-1, OffsetTracker.restore(10, "written by another tool").committable());
        assertEquals(-1, OffsetTracker.restore(10, "r2;x;y").committable());
        assertEquals(-1, OffsetTracker.restore(10, null).committable());
        // version 1: outstanding offsets above the committed one, no crash information
        OffsetTracker v1 = OffsetTracker.restore(10, "r1;5;2,4");
        Map<Long, Integer> again = refetch(v1, offsets(10, 10, 0), 10);
        assertEquals(Map.of(10L, 0, 12L, 0, 14L, 0, 16L, 0, 17L, 0, 18L, 0, 19L, 0), again);
    }

    @Test
    void track_fetchedAgain_isSkipped() {
        OffsetTracker t = OffsetTracker.fresh();
        assertEquals(-1, t.committable());
        assertEquals(0, t.track(5));
        assertEquals(OffsetTracker.DONE, t.track(5));
        assertEquals(OffsetTracker.DONE, t.track(3));
        assertEquals(5, t.committable());
    }
}
