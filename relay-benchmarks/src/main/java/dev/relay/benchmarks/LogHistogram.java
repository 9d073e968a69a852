package dev.relay.benchmarks;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A log-bucketed histogram of non-negative nanosecond values: 16 buckets per power of two (values within ±3 %),
 * up to about 2^62 ns; the maximum is exact. Threadsafe: one writer records while other threads read (atomic
 * counters; a reader may see a record half-applied, off by one count).
 */
final class LogHistogram {

    private static final int SUB_BITS = 4;
    private static final int SUB = 1 << SUB_BITS;
    private static final int BUCKETS = (64 - SUB_BITS) * SUB;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong max = new AtomicLong();

    void record(long nanos) {
        long v = Math.max(0, nanos);
        counts.incrementAndGet(bucket(v));
        total.incrementAndGet();
        if (v > max.get()) {
            max.set(v); // one writer
        }
    }

    static int bucket(long v) {
        if (v < SUB) {
            return (int) v;
        }
        int exp = 63 - Long.numberOfLeadingZeros(v); // >= SUB_BITS
        int sub = (int) ((v >>> (exp - SUB_BITS)) & (SUB - 1));
        return (exp - SUB_BITS + 1) * SUB + sub;
    }

    /** Upper edge of a bucket. */
    static long upper(int b) {
        if (b < SUB) {
            return b;
        }
        int exp = b / SUB + SUB_BITS - 1;
        int sub = b % SUB;
        return ((long) (SUB + sub + 1) << (exp - SUB_BITS)) - 1;
    }

    /**
     * @param p a quantile in (0, 1]
     * @return the upper edge of the bucket holding it (never above the maximum), 0 if empty
     */
    long percentile(double p) {
        long n = total.get();
        if (n == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(p * n);
        long seen = 0;
        for (int b = 0; b < BUCKETS; b++) {
            seen += counts.get(b);
            if (seen >= rank) {
                return Math.min(upper(b), max.get());
            }
        }
        return max.get();
    }

    long max() {
        return max.get();
    }

    long count() {
        return total.get();
    }
}
