package dev.relay.core.pressure;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Each source's baseline: the lowest normalised latency its pulls showed within a sliding window of time — the
 * source's speed when it is not loaded, as TCP Vegas and BBR take the minimum round-trip time. A minimum needs no
 * sample count to be meaningful: one pull gives a baseline, and any later faster pull lowers it.
 *
 * <p>The window is kept as {@value #BUCKETS} buckets of {@code window / BUCKETS}, each holding the minimum of
 * the pulls that completed in it, so memory per source is constant and a sample older than the window is
 * forgotten: a source that stays slower for longer than the window (its data grew, it moved to slower disks)
 * becomes the new normal. A window longer than the source's usual slow spells (a nightly batch job) keeps the
 * relay backed off through them. At most {@value #MAX_SOURCES} sources are remembered, the least recently used
 * forgotten first.
 *
 * <p>Not threadsafe: owned by one {@link PressureControl}.
 */
final class Baselines {

    /** Buckets per window: the window slides in steps of one eighth. */
    static final int BUCKETS = 8;
    /** The most sources remembered. */
    static final int MAX_SOURCES = 1024;

    private final long bucketMillis;
    private final Map<String, Ring> bySource = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Ring> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    /**
     * @param window how long a pull's latency is remembered, at least {@value #BUCKETS} ms
     */
    Baselines(Duration window) {
        this.bucketMillis = Math.max(1, window.toMillis() / BUCKETS);
    }

    /**
     * @param source the source
     * @param now the time now
     * @return the source's baseline, or {@code NaN} if none of its pulls completed within the window
     */
    double baseline(String source, Instant now) {
        Ring r = bySource.get(source);
        return r == null ? Double.NaN : r.min(Math.floorDiv(now.toEpochMilli(), bucketMillis));
    }

    /**
     * @param source the source
     * @param now the time the pull completed
     * @param value its normalised latency, finite and not negative
     */
    void add(String source, Instant now, double value) {
        bySource.computeIfAbsent(source, s -> new Ring()).add(Math.floorDiv(now.toEpochMilli(), bucketMillis), value);
    }

    /**
     * @param now the time now
     * @return each remembered source's baseline (sources without one left out), sorted by name
     */
    Map<String, Double> all(Instant now) {
        Map<String, Double> out = new TreeMap<>();
        long bucket = Math.floorDiv(now.toEpochMilli(), bucketMillis);
        bySource.forEach((source, ring) -> {
            double b = ring.min(bucket);
            if (!Double.isNaN(b)) {
                out.put(source, b);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    /** One source's buckets: slot {@code b mod BUCKETS} holds bucket {@code b}'s minimum. */
    private static final class Ring {
        private final long[] bucket = new long[BUCKETS];
        private final double[] min = new double[BUCKETS];

        Ring() {
            Arrays.fill(bucket, Long.MIN_VALUE);
        }

        void add(long b, double value) {
            int slot = (int) Math.floorMod(b, (long) BUCKETS);
            if (bucket[slot] != b) {
                bucket[slot] = b;
                min[slot] = value;
            } else if (value < min[slot]) {
                min[slot] = value;
            }
        }

        double min(long current) {
            double m = Double.NaN;
            for (int i = 0; i < BUCKETS; i++) {
                if (bucket[i] > current - BUCKETS && bucket[i] <= current && (Double.isNaN(m) || min[i] < m)) {
                    m = min[i];
                }
            }
            return m;
        }
    }
}
