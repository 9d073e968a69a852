package dev.relay.core.pressure;

import java.util.Locale;

/**
 * Additive increase, multiplicative decrease — the default {@link LimitRule}, as in TCP's congestion avoidance
 * and Netflix's concurrency-limits {@code AIMDLimit}:
 * <ul>
 *   <li>a pull that timed out at the source, or whose normalised latency exceeds {@link #tolerance()} times its
 *       source's baseline, is <em>slow</em>: the limit becomes {@code limit · backoff};
 *   <li>a pull within the tolerance that ran while the limit was binding is <em>healthy</em>: the limit becomes
 *       {@code limit + increase};
 *   <li>anything else (a pull that could not be measured, or ran while permits idled) leaves the limit alone.
 * </ul>
 * It needs no window of samples: each fresh pull is a verdict, and {@link PressureControl} lets only pulls that
 * started under the limit in force judge it, so the limit moves at most one step per generation of pulls. With a
 * source that slows down above a knee {@code K} (pulls at {@code K + 1} slower than {@code tolerance} times the
 * baseline) the limit climbs from its floor at most one step per generation to {@code K + 1}, falls back to
 * {@code K} and probes {@code K + 1} again now and then: {@code P_eff} stays within {@code [K, K + 1]}. Where pulls
 * at {@code K + 1} are slower than unloaded but within the tolerance (a gentle knee), it settles where they are not:
 * the rule's target is the most concurrency whose pulls stay within the tolerance, never more than {@code P}.
 *
 * <p>Immutable and threadsafe.
 */
public final class AimdRule implements LimitRule {

    private final double tolerance;
    private final double backoff;
    private final double increase;

    private AimdRule(Builder b) {
        this.tolerance = b.tolerance;
        this.backoff = b.backoff;
        this.increase = b.increase;
    }

    /**
     * @return a builder with the defaults: tolerance 1.5, backoff 0.8, increase 0.5 — a step up takes two healthy pulls
     *     (one fast pull is not enough evidence), a slow generation takes a fifth off (a limit one above the knee
     *     falls back to it in one step)
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public double next(double limit, Signal signal) {
        if (signal.timeout() || (signal.measured() && signal.ratio() > tolerance)) {
            return limit * backoff;
        }
        if (signal.measured() && signal.atLimit()) {
            return limit + increase;
        }
        return limit;
    }

    /** @return how much slower than its baseline a pull may be and still count as healthy */
    public double tolerance() {
        return tolerance;
    }

    /** @return the factor applied to the limit after a slow pull or a timeout */
    public double backoff() {
        return backoff;
    }

    /** @return the permits added after a healthy pull at the limit */
    public double increase() {
        return increase;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "AIMD(tolerance %.2f, backoff %.2f, increase %.2f)", tolerance, backoff, increase);
    }

    /** Builds an {@link AimdRule}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private double tolerance = 1.5;
        private double backoff = 0.8;
        private double increase = 0.5;

        private Builder() {
        }

        /**
         * @param tolerance how much slower than its source's baseline a pull may be and still count as healthy;
         *     greater than 1 (default 1.5: noise of ±20 % in pull times never looks slow, a source 1.5 times slower
         *     than it is unloaded does)
         * @return this builder
         */
        public Builder tolerance(double tolerance) {
            if (!(tolerance > 1) || Double.isInfinite(tolerance)) {
                throw new IllegalArgumentException("tolerance must be a finite number greater than 1 but was " + tolerance);
            }
            this.tolerance = tolerance;
            return this;
        }

        /**
         * @param backoff the factor applied to the limit after a slow pull or a timeout; within (0, 1), default 0.8
         * @return this builder
         */
        public Builder backoff(double backoff) {
            if (!(backoff > 0 && backoff < 1)) {
                throw new IllegalArgumentException("backoff must be within (0, 1) but was " + backoff);
            }
            this.backoff = backoff;
            return this;
        }

        /**
         * @param increase the permits added after a healthy pull at the limit; positive and at most 64, default 0.5
         *     (fractions add up: 0.5 raises {@code P_eff} every second healthy pull)
         * @return this builder
         */
        public Builder increase(double increase) {
            if (!(increase > 0 && increase <= 64)) {
                throw new IllegalArgumentException("increase must be within (0, 64] but was " + increase);
            }
            this.increase = increase;
            return this;
        }

        /** @return the rule */
        public AimdRule build() {
            return new AimdRule(this);
        }
    }
}
