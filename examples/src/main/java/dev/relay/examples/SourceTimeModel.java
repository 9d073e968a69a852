package dev.relay.examples;

import dev.relay.api.Task;
import java.time.Duration;
import java.util.Map;

/**
 * How long each task would hold the production source, in the compressed scenario: the embedded H2 answers in
 * milliseconds, so the simulation charges each task the source time the real Oracle took (figures from the
 * incident): a recent 10-minute district window, still in the buffer cache, 2–5 s; an old one (backfill) 18–22 s;
 * a config snapshot 10–60 s, growing with the table's real size. The choice within a range is a deterministic
 * function of the seed and the task id, so a run with the same seed is the same run.
 *
 * <p>The lane weights and the scheduler's quantum are here too, because the stated bound is computed from them.
 *
 * <p>Immutable and threadsafe.
 */
final class SourceTimeModel {

    /** The scheduler's base quantum: a lane of weight w may start about w · 1 s of source time per round. */
    static final Duration QUANTUM = Duration.ofSeconds(1);
    /** Weight of the backfill lane. */
    static final int W_BACKFILL = 1;
    /** Weight of the realtime lane. */
    static final int W_REALTIME = 4;
    /** Weight of the config lane. */
    static final int W_CONFIG = 8;

    /** Source time of a recent window (buffer cache hot), shortest. */
    static final long HOT_MIN_MS = 2_000;
    /** Source time of a recent window, longest. */
    static final long HOT_MAX_MS = 5_000;
    /** Source time of an old window (backfill), shortest. */
    static final long COLD_MIN_MS = 18_000;
    /** Source time of an old window, longest. */
    static final long COLD_MAX_MS = 22_000;
    /** Source time of the smallest config snapshot. */
    static final long CONFIG_MIN_MS = 10_000;
    /** Source time of the largest config snapshot (DETECTOR_CONFIG_LOG, 5.6 million rows). */
    static final long CONFIG_MAX_MS = 60_000;

    private final long seed;

    SourceTimeModel(long seed) {
        this.seed = seed;
    }

    /**
     * @param task a task
     * @return how long it holds the source
     */
    Duration sourceTime(Task task) {
        double u = uniform(task.id(), task.attempt());
        if (task.snapshot().isPresent()) {
            String table = task.parameter(IncidentScenario.TABLE_PARAMETER).orElse("");
            long realRows = PemsSource.CONFIG_TABLES.getOrDefault(table, 0L);
            double largest = PemsSource.CONFIG_TABLES.values().stream().mapToLong(Long::longValue).max().orElse(1);
            double base = CONFIG_MIN_MS + (CONFIG_MAX_MS - CONFIG_MIN_MS) * 0.9 * (realRows / largest);
            return Duration.ofMillis(Math.min(CONFIG_MAX_MS, Math.round(base * (0.95 + 0.1 * u))));
        }
        boolean hot = !IncidentScenario.BACKFILL.equals(task.lane());
        long min = hot ? HOT_MIN_MS : COLD_MIN_MS;
        long max = hot ? HOT_MAX_MS : COLD_MAX_MS;
        return Duration.ofMillis(min + Math.round((max - min) * u));
    }

    /**
     * The scheduler's stated bound (see {@code FairScheduler}) on the wait of a task reaching the head of an idle
     * config lane: {@code r + S_backfill + S_realtime}, with {@code r} at most the longest task of another lane and
     * {@code S_j = ⌈Q_j / m_j⌉ · C_j} what lane j can start in one visit.
     *
     * @return the bound
     */
    static Duration configHeadBound() {
        long q = QUANTUM.toMillis();
        long sBackfill = ceilDiv(W_BACKFILL * q, Math.min(W_BACKFILL * q, COLD_MIN_MS)) * COLD_MAX_MS;
        long sRealtime = ceilDiv(W_REALTIME * q, Math.min(W_REALTIME * q, HOT_MIN_MS)) * HOT_MAX_MS;
        long r = Math.max(COLD_MAX_MS, HOT_MAX_MS);
        return Duration.ofMillis(r + sBackfill + sRealtime);
    }

    /** @return the lane weights, for the report */
    static Map<String, Integer> weights() {
        return Map.of(IncidentScenario.BACKFILL, W_BACKFILL, IncidentScenario.REALTIME, W_REALTIME,
                IncidentScenario.CONFIG, W_CONFIG);
    }

    private double uniform(String id, int attempt) {
        long h = seed * 0x9E3779B97F4A7C15L + attempt;
        for (int i = 0; i < id.length(); i++) {
            h = (h ^ id.charAt(i)) * 0x100000001B3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (h >>> 11) / (double) (1L << 53);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
