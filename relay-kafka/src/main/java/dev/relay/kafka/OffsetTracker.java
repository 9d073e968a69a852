package dev.relay.kafka;

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

    /** @return how many tracked offsets are not completed */
    int outstandingCount() {
        return outstanding.size();
    }
}
