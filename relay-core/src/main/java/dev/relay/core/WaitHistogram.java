package dev.relay.core;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A log-bucketed histogram of durations for whole-run percentiles: 8 buckets per power of two of
 * microseconds (±5 % precision), from 1 µs to about 36 days. Threadsafe for one writer (the control turn), which
 * records with ordered stores and no atomic read-modify-write, while any thread reads; a reader may see a record
 * half-applied, off by one count.
 */
final class WaitHistogram {

    private static final int SUB = 8;
    private static final int BUCKETS = 42 * SUB;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong maxMicros = new AtomicLong();

    void record(Duration d) {
        record(d.toNanos());
    }

    void record(long nanos) {
        long micros = Math.max(0, nanos / 1000);
        int b = bucket(micros);
        counts.lazySet(b, counts.get(b) + 1);
        total.lazySet(total.get() + 1);
        if (micros > maxMicros.get()) {
            maxMicros.lazySet(micros);
        }
    }

    static int bucket(long micros) {
        if (micros < SUB) {
            return (int) micros;
        }
        int exp = 63 - Long.numberOfLeadingZeros(micros); // >= 3
        int sub = (int) ((micros >>> (exp - 3)) & (SUB - 1));
        int b = (exp - 2) * SUB + sub;
        return Math.min(b, BUCKETS - 1);
    }

    /** Upper edge of a bucket in micros. */
    static long upper(int b) {
        if (b < SUB) {
            return b;
        }
        int exp = b / SUB + 2;
        int sub = b % SUB;
        return ((long) (SUB + sub + 1) << (exp - 3)) - 1;
    }

    Duration percentile(double p) {
        long n = total.get();
        if (n == 0) {
            return Duration.ZERO;
        }
        long rank = (long) Math.ceil(p * n);
        long seen = 0;
        for (int b = 0; b < BUCKETS; b++) {
            seen += counts.get(b);
            if (seen >= rank) {
                return Duration.ofNanos(Math.min(upper(b), maxMicros.get()) * 1000);
            }
        }
        return max();
    }

    Duration max() {
        return Duration.ofNanos(maxMicros.get() * 1000);
    }

    long count() {
        return total.get();
    }
}
