package dev.relay.kafka;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongPredicate;

/**
 * The durable state of one partition's records between its committed offset and the highest record known:
 * which are outstanding (not completed), which were <em>armed</em> (handed within the engine's reach), and
 * how many crashes each has been through. From it come the offset that is safe to commit and the commit's
 * metadata, which carries the rest across a restart.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>Every record below {@link #committable()} completed. It is the lowest outstanding offset, or one past
 *       the highest record known when nothing is outstanding. Records complete out of order.
 *   <li>{@code armed ⊆ outstanding} and the crash counts are kept for outstanding offsets only: a record that
 *       completes leaves all three.
 *   <li>A record is handed out (a lease of it can exist) only after a commit that the broker acknowledged named it
 *       armed or on probation, and every later commit names it again while its lease may be open. So after a
 *       crash, the last commit names every record the crashed process may have been running.
 *   <li>{@link #restore} counts one crash for every record armed in the last commit and for its probation
 *       record: every record the crashed process may have been running. While the probation gate is closed a
 *       commit arms only the records whose lease is open, so a crash then is charged to the probation record and
 *       those alone; a commit written at a graceful end arms nothing, so a graceful end counts nothing. A restored crash count is written again by every later commit until the record
 *       completes, so it survives any number of crashes.
 * </ol>
 * Offsets need not be contiguous (transaction markers and compaction leave gaps), which is why the outstanding
 * offsets are kept as a set.
 *
 * <h2>Commit metadata (version 2)</h2>
 * Relative to the committed offset {@code c}, in decimal: {@code r2;H;O;A;X;P} where {@code H} is the highest
 * record known minus {@code c}; {@code O} the outstanding offsets and {@code A} the armed ones, each as ranges
 * ({@code a-b} or {@code a}, comma-separated); {@code X} the crash counts ({@code offset:count}, comma-separated);
 * {@code P} the probation offset or nothing. An empty string means: nothing outstanding above {@code c}.
 * Metadata longer than the broker's limit is made coarser, never wrong: the outstanding and armed sets are
 * widened to one range each (which only costs re-deliveries and counts crashes for a few more records), and the
 * lowest crash counts are left out last. Version 1 ({@code r1;H;O}, outstanding offsets only) is still read.
 *
 * <p>Not threadsafe: owned by the consumer thread.
 */
final class OffsetTracker {

    /** What {@link #track} returns for a record that completed before the last commit: skip it. */
    static final int DONE = -1;

    private final TreeSet<Long> outstanding = new TreeSet<>();
    private final TreeSet<Long> armed = new TreeSet<>();
    private final Map<Long, Integer> crashes = new HashMap<>();
    /** Highest offset the restored commit knew of; records up to it that are not outstanding completed. */
    private final long restoredHigh;
    /** Highest offset tracked by this owner. */
    private long fetchedHigh = -1;
    /** The record on probation, or -1. */
    private long probation = -1;
    /** Counted at restore: how many records the last crash was charged to. */
    private final int crashesCounted;

    private OffsetTracker(long restoredHigh, int crashesCounted) {
        this.restoredHigh = restoredHigh;
        this.crashesCounted = crashesCounted;
    }

    /** @return a tracker for a partition without committed metadata */
    static OffsetTracker fresh() {
        return new OffsetTracker(-1, 0);
    }

    /**
     * Rebuilds the tracker of a partition from its last commit, counting a crash for the records the commit
     * armed (or its probation record).
     *
     * @param committed the committed offset, or a negative value if there is none
     * @param metadata its metadata, possibly null, empty or foreign
     * @return the tracker
     */
    static OffsetTracker restore(long committed, String metadata) {
        if (committed < 0 || metadata == null || metadata.isEmpty()) {
            return fresh();
        }
        try {
            if (metadata.startsWith("r1;")) {
                String[] p = metadata.split(";", -1);
                if (p.length != 3) {
                    return fresh();
                }
                OffsetTracker t = new OffsetTracker(committed + Long.parseLong(p[1]), 0);
                t.outstanding.add(committed);
                for (String x : p[2].isEmpty() ? new String[0] : p[2].split(",")) {
                    t.outstanding.add(committed + Long.parseLong(x));
                }
                return t;
            }
            if (!metadata.startsWith("r2;")) {
                return fresh();
            }
            String[] p = metadata.split(";", -1);
            if (p.length != 6) {
                return fresh();
            }
            TreeSet<Long> out = ranges(committed, p[2]);
            TreeSet<Long> arm = ranges(committed, p[3]);
            Map<Long, Integer> counts = new HashMap<>();
            for (String x : p[4].isEmpty() ? new String[0] : p[4].split(",")) {
                int colon = x.indexOf(':');
                counts.put(committed + Long.parseLong(x.substring(0, colon)), Integer.parseInt(x.substring(colon + 1)));
            }
            long onProbation = p[5].isEmpty() ? -1 : committed + Long.parseLong(p[5]);
            // invariant 4: the crash is charged to every record that may have been running
            Set<Long> charged = new TreeSet<>(arm);
            if (onProbation >= 0) {
                charged.add(onProbation);
            }
            OffsetTracker t = new OffsetTracker(committed + Long.parseLong(p[1]), charged.size());
            t.outstanding.addAll(out);
            for (Map.Entry<Long, Integer> e : counts.entrySet()) {
                if (out.contains(e.getKey())) {
                    t.crashes.put(e.getKey(), e.getValue());
                }
            }
            for (long o : charged) {
                if (out.contains(o)) {
                    t.crashes.merge(o, 1, Integer::sum);
                }
            }
            return t;
        } catch (RuntimeException e) { // NumberFormatException, IndexOutOfBounds: not ours after all
            return fresh();
        }
    }

    private static TreeSet<Long> ranges(long base, String s) {
        TreeSet<Long> out = new TreeSet<>();
        if (s.isEmpty()) {
            return out;
        }
        for (String r : s.split(",")) {
            int dash = r.indexOf('-');
            long a = Long.parseLong(dash < 0 ? r : r.substring(0, dash));
            long b = dash < 0 ? a : Long.parseLong(r.substring(dash + 1));
            if (b < a || b - a > 10_000_000) {
                throw new IllegalArgumentException("bad range " + r);
            }
            for (long x = a; x <= b; x++) {
                out.add(base + x);
            }
        }
        return out;
    }

    /**
     * Records a fetched record, in offset order.
     *
     * @param offset the record's offset
     * @return {@link #DONE} if the record completed before (or was fetched already): skip it; else its crash
     *         count, 0 for a record that has been through no crash
     */
    int track(long offset) {
        if (offset <= fetchedHigh) {
            return DONE; // fetched again after a position reset: already tracked or completed
        }
        if (fetchedHigh < restoredHigh) {
            // restored offsets passed over were no records (transaction markers, compaction): forget them
            for (long gap : new ArrayList<>(outstanding.subSet(fetchedHigh + 1, true, Math.min(offset, restoredHigh + 1), false))) {
                outstanding.remove(gap);
                armed.remove(gap);
                crashes.remove(gap);
            }
        }
        fetchedHigh = offset;
        if (offset <= restoredHigh) {
            return outstanding.contains(offset) ? crashes.getOrDefault(offset, 0) : DONE;
        }
        outstanding.add(offset);
        return 0;
    }

    /**
     * Marks an outstanding record completed.
     *
     * @param offset the offset
     * @return false if it was not outstanding
     */
    boolean complete(long offset) {
        if (!outstanding.remove(offset)) {
            return false;
        }
        armed.remove(offset);
        crashes.remove(offset);
        if (probation == offset) {
            probation = -1;
        }
        return true;
    }

    /** Marks an outstanding record armed: the next commit names it as possibly handed out. */
    void arm(long offset) {
        if (outstanding.contains(offset)) {
            armed.add(offset);
        }
    }

    /** Un-arms a record that will not be handed out by this owner (dropped, held back on probation). */
    void disarm(long offset) {
        armed.remove(offset);
    }

    /** @param offset the outstanding record handed out alone on probation, or -1 for none */
    void probation(long offset) {
        this.probation = offset;
    }

    /** @return the record on probation, or -1 */
    long probation() {
        return probation;
    }

    /** @return whether the record is tracked and not completed */
    boolean isOutstanding(long offset) {
        return outstanding.contains(offset);
    }

    /** @return how many crashes a record has been through, 0 if none (or not outstanding) */
    int crashes(long offset) {
        return crashes.getOrDefault(offset, 0);
    }

    /** @return how many records the crash found at restore was charged to */
    int crashesCounted() {
        return crashesCounted;
    }

    /** @return how many outstanding records */
    int outstandingCount() {
        return outstanding.size();
    }

    /**
     * @return the offset to commit: the lowest outstanding one, or one past the highest record known; -1 if no
     *         record is known
     */
    long committable() {
        if (!outstanding.isEmpty()) {
            return outstanding.first();
        }
        long high = Math.max(restoredHigh, fetchedHigh);
        return high < 0 ? -1 : high + 1;
    }

    /**
     * The metadata of a commit of {@link #committable()}.
     *
     * @param maxChars the longest metadata the broker accepts
     * @param handedOut which armed records count as armed in this commit: all of them normally; only those a
     *        lease is open for while the queue hands out nothing else (probation); none at a graceful end
     * @return the metadata, empty if nothing is outstanding above the committable offset
     */
    String metadata(int maxChars, LongPredicate handedOut) {
        if (outstanding.isEmpty()) {
            return "";
        }
        long c = outstanding.first();
        long high = Math.max(restoredHigh, fetchedHigh);
        List<Long> arm = new ArrayList<>();
        for (long o : armed) {
            if (handedOut.test(o)) {
                arm.add(o);
            }
        }
        long prob = probation >= 0 && outstanding.contains(probation) ? probation : -1;
        if (outstanding.size() == 1 && arm.isEmpty() && crashes.isEmpty() && prob < 0 && high == c) {
            return ""; // only the committed record itself, nothing to remember
        }
        List<Map.Entry<Long, Integer>> counts = new ArrayList<>(crashes.entrySet());
        counts.sort((a, b) -> b.getValue() != a.getValue().intValue() ? b.getValue() - a.getValue() : Long.compare(a.getKey(), b.getKey()));
        String exact = encode(c, high, ranges(outstanding, c), ranges(arm, c), counts, counts.size(), prob);
        if (exact.length() <= maxChars) {
            return exact;
        }
        // coarser, never wrong: widen the sets to one range each, then leave out the lowest crash counts
        String outRange = "0-" + (high - c);
        String armRange = arm.isEmpty() ? "" : (arm.get(0) - c) + "-" + (arm.get(arm.size() - 1) - c);
        for (int keep = counts.size(); keep >= 0; keep--) {
            String coarse = encode(c, high, outRange, armRange, counts, keep, prob);
            if (coarse.length() <= maxChars) {
                return coarse;
            }
        }
        return "r2;" + (high - c) + ";" + outRange + ";" + armRange + ";;";
    }

    private static String encode(long c, long high, String out, String arm, List<Map.Entry<Long, Integer>> counts,
            int keep, long prob) {
        StringBuilder sb = new StringBuilder(32 + out.length() + arm.length() + 8 * keep).append("r2;").append(high - c)
                .append(';').append(out).append(';').append(arm).append(';');
        for (int i = 0; i < keep; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(counts.get(i).getKey() - c).append(':').append(counts.get(i).getValue());
        }
        sb.append(';');
        if (prob >= 0) {
            sb.append(prob - c);
        }
        return sb.toString();
    }

    private static String ranges(Iterable<Long> sorted, long base) {
        StringBuilder sb = new StringBuilder();
        Iterator<Long> it = sorted.iterator();
        long start = -1;
        long prev = -2;
        while (it.hasNext()) {
            long o = it.next() - base;
            if (o == prev + 1) {
                prev = o;
                continue;
            }
            if (start >= 0) {
                appendRange(sb, start, prev);
            }
            start = o;
            prev = o;
        }
        if (start >= 0) {
            appendRange(sb, start, prev);
        }
        return sb.toString();
    }

    private static void appendRange(StringBuilder sb, long a, long b) {
        if (sb.length() > 0) {
            sb.append(',');
        }
        sb.append(a);
        if (b > a) {
            sb.append('-').append(b);
        }
    }

    /** @return the outstanding offsets, ascending (a view; tests and diagnostics) */
    NavigableSet<Long> outstanding() {
        return java.util.Collections.unmodifiableNavigableSet(outstanding);
    }

    @Override
    public String toString() {
        return "OffsetTracker[committable=" + committable() + ", outstanding=" + outstanding.size() + ", armed="
                + armed.size() + ", crashes=" + crashes + (probation >= 0 ? ", probation=" + probation : "") + "]";
    }
}
