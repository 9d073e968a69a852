package dev.relay.kafka;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * The offsets of one partition that were fetched and not yet completed, and from them the offset that is
 * safe to commit.
 *
 * <p>Records complete out of order (the scheduler, not the partition order, decides what runs). The
 * committable offset is the lowest offset still outstanding — every record below it completed — or, when
 * nothing is outstanding, one past the highest offset fetched. Offsets need not be contiguous: transaction
 * markers and compaction leave gaps, which is why the tracker keeps the outstanding set rather than a bitmap
 * of completed offsets from the last commit.
 *
 * <h2>Commit metadata</h2>
 * A commit of offset {@code c} alone would, after a crash, re-deliver every record from {@code c} on —
 * including the ones that completed out of order above it. So each commit also carries, in the offset's
 * metadata string, the offsets above {@code c} that are still outstanding and the highest offset tracked:
 * {@code r1;<highest - c>;<o1 - c>,<o2 - c>,…}. The next owner of the partition
 * {@linkplain #restore(long, String) restores} it and skips the records in {@code (c, highest]} that are not
 * in the list: a restart re-delivers exactly the records that were not completed. When the list would not
 * fit the broker's metadata limit it is left out, which only costs re-deliveries.
 *
 * <p>Not threadsafe: owned by the consumer thread.
 */
final class OffsetTracker {

    private final TreeSet<Long> outstanding = new TreeSet<>();
    private long highestTracked = -1;

    /**
     * Records a fetched offset, higher than every offset tracked before.
     *
     * @param offset the record's offset
     * @throws IllegalArgumentException if not higher than the last one tracked
     */
    void track(long offset) {
        if (offset <= highestTracked) {
            throw new IllegalArgumentException("offset " + offset + " tracked after " + highestTracked);
        }
        highestTracked = offset;
        outstanding.add(offset);
    }

    /**
     * Marks a tracked offset completed.
     *
     * @param offset the offset
     * @return false if it was not outstanding (never tracked, or already completed)
     */
    boolean complete(long offset) {
        return outstanding.remove(offset);
    }

    /** @return whether the offset is tracked and not completed */
    boolean isOutstanding(long offset) {
        return outstanding.contains(offset);
    }

    /**
     * @return the offset to commit: the lowest outstanding one, or one past the highest tracked; -1 if nothing
     *         was tracked
     */
    long committable() {
        if (!outstanding.isEmpty()) {
            return outstanding.first();
        }
        return highestTracked < 0 ? -1 : highestTracked + 1;
    }

    /**
     * @param maxChars the longest metadata allowed
     * @return the commit metadata for {@link #committable()}: what completed above it; empty if nothing did
     *         or it would be longer than {@code maxChars}
     */
    String commitMetadata(int maxChars) {
        if (outstanding.size() <= 1 && (outstanding.isEmpty() || outstanding.first() == highestTracked)) {
            return ""; // nothing completed above the committable offset
        }
        long c = outstanding.first();
        StringBuilder sb = new StringBuilder(16 + 6 * outstanding.size()).append("r1;").append(highestTracked - c).append(';');
        boolean first = true;
        for (long o : outstanding.tailSet(c, false)) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(o - c);
            if (sb.length() > maxChars) {
                return "";
            }
        }
        return sb.toString();
    }

    /**
     * Reads commit metadata written by {@link #commitMetadata}.
     *
     * @param committed the committed offset
     * @param metadata its metadata, possibly null or foreign
     * @return which offsets above {@code committed} already completed; none if the metadata is not ours
     */
    static Completed restore(long committed, String metadata) {
        if (metadata == null || !metadata.startsWith("r1;")) {
            return Completed.NONE;
        }
        try {
            String[] parts = metadata.split(";", -1);
            if (parts.length != 3) {
                return Completed.NONE;
            }
            long highest = committed + Long.parseLong(parts[1]);
            long[] open = parts[2].isEmpty() ? new long[0]
                    : Arrays.stream(parts[2].split(",")).mapToLong(x -> committed + Long.parseLong(x)).sorted().toArray();
            return new Completed(committed, highest, open);
        } catch (NumberFormatException e) {
            return Completed.NONE;
        }
    }

    /** Offsets known to have completed above a committed offset. Immutable. */
    static final class Completed {
        static final Completed NONE = new Completed(0, -1, new long[0]);
        private final long committed;
        private final long highest;
        private final long[] outstanding;

        Completed(long committed, long highest, long[] outstanding) {
            this.committed = committed;
            this.highest = highest;
            this.outstanding = outstanding;
        }

        /**
         * @param offset a record's offset
         * @return whether the record completed before the commit and must not be delivered again
         */
        boolean isDone(long offset) {
            return offset > committed && offset <= highest && Arrays.binarySearch(outstanding, offset) < 0;
        }
    }

    /** @return how many tracked offsets are not completed */
    int outstandingCount() {
        return outstanding.size();
    }
}
