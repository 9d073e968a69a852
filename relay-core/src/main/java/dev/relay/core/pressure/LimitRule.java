package dev.relay.core.pressure;

/**
 * How the effective limit {@code P_eff} moves after a completed pull: a pure function from the current limit and
 * what the pull showed to the next limit. {@link PressureControl} calls it, clamps the result to
 * {@code [floor, P]} and takes {@code P_eff = ⌊limit⌋}; the limit is a {@code double} so that a rule may move in
 * fractions of a permit.
 *
 * <p>A rule sees only <em>fresh</em> pulls: those that started after {@code P_eff} last changed, so each limit
 * is judged by pulls that ran under it, and one slow generation of pulls is one decrease, not one per pull
 * (as TCP cuts its window once per round trip). It never sees a pull that failed for another reason than the
 * source timing out.
 *
 * <p>Implementations must be deterministic, fast and non-blocking: they run on the engine's control thread. The
 * built-in rules ({@link #aimd()}, {@link #none()}) are immutable and threadsafe; a rule that keeps state of its
 * own belongs to one relay.
 */
@FunctionalInterface
public interface LimitRule {

    /**
     * @param limit the limit in force, within {@code [floor, P]}
     * @param signal what a fresh pull showed
     * @return the next limit; it is clamped to {@code [floor, P]}, and must be finite
     */
    double next(double limit, Signal signal);

    /**
     * The limit a relay starts with, before any pull completed.
     *
     * @param floor the lowest limit allowed
     * @param ceiling {@code P}
     * @return the starting limit; by default {@code floor}: a relay starts gently and learns its source's
     *     baseline at low concurrency, then raises the limit while pulls stay healthy ("slow start")
     */
    default double initial(int floor, int ceiling) {
        return floor;
    }

    /**
     * What one fresh pull showed.
     *
     * @param ratio the pull's latency normalised by its cost ({@link CostBasis}), divided by its source's
     *     baseline: 1 is as fast as the source has recently been, 2 twice as slow; {@code NaN} when it cannot be
     *     measured (the first pull of a source, a pull too small for the cost basis, a timeout)
     * @param timeout whether the pull ended in a source timeout
     * @param atLimit whether the limit was binding when it started ({@link PullSample#atLimit()})
     */
    record Signal(double ratio, boolean timeout, boolean atLimit) {

        /** @return whether {@link #ratio} is a measurement */
        public boolean measured() {
            return !Double.isNaN(ratio);
        }
    }

    /** @return AIMD with its defaults ({@link AimdRule#builder()}) */
    static LimitRule aimd() {
        return AimdRule.builder().build();
    }

    /**
     * A rule that never moves: the relay runs at {@code P} (for a brake without adaptation).
     *
     * @return the rule
     */
    static LimitRule none() {
        return NoRule.INSTANCE;
    }

    /** The rule of {@link LimitRule#none()}. */
    enum NoRule implements LimitRule {
        INSTANCE;

        @Override
        public double next(double limit, Signal signal) {
            return limit;
        }

        @Override
        public double initial(int floor, int ceiling) {
            return ceiling;
        }

        @Override
        public String toString() {
            return "fixed at P";
        }
    }
}
