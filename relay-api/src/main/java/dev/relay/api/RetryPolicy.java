package dev.relay.api;

import java.time.Duration;
import java.util.Objects;

/**
 * How a lane retries a failed task: up to {@link #maxAttempts()} attempts in all, waiting an exponentially
 * growing, jittered delay between them. After the last attempt the task is dead-lettered, so a poison task
 * never blocks its lane. A retry waits in the queue, holding no source permit.
 *
 * <p>Immutable and threadsafe; build one with {@link #builder()}.
 */
public final class RetryPolicy {

    /** The default: 5 attempts, 1 s doubling to at most 5 min, ±20 % jitter. */
    public static final RetryPolicy DEFAULT = builder().build();

    private final int maxAttempts;
    private final Duration initialDelay;
    private final Duration maxDelay;
    private final double multiplier;
    private final double jitter;

    private RetryPolicy(Builder b) {
        this.maxAttempts = b.maxAttempts;
        this.initialDelay = b.initialDelay;
        this.maxDelay = b.maxDelay;
        this.multiplier = b.multiplier;
        this.jitter = b.jitter;
    }

    /** @return a builder with the defaults of {@link #DEFAULT} */
    public static Builder builder() {
        return new Builder();
    }

    /** @return attempts in all, including the first; 1 means never retry */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** @return the delay before the second attempt, before jitter */
    public Duration initialDelay() {
        return initialDelay;
    }

    /** @return the largest delay, before jitter */
    public Duration maxDelay() {
        return maxDelay;
    }

    /** @return the factor by which each delay grows */
    public double multiplier() {
        return multiplier;
    }

    /** @return the jitter as a fraction: a delay d becomes uniformly one of [d(1-j), d(1+j)] */
    public double jitter() {
        return jitter;
    }

    /**
     * @param failedAttempt the attempt that just failed, from 1
     * @return whether another attempt is allowed
     */
    public boolean canRetry(int failedAttempt) {
        return failedAttempt < maxAttempts;
    }

    /**
     * The delay after a failed attempt.
     *
     * @param failedAttempt the attempt that just failed, from 1
     * @param random a uniform value in [0, 1) that picks the jitter (inject it for determinism)
     * @return the delay, never negative
     */
    public Duration delayAfter(int failedAttempt, double random) {
        double base = initialDelay.toNanos() * Math.pow(multiplier, Math.max(0, failedAttempt - 1));
        double capped = Math.min(base, (double) maxDelay.toNanos());
        double jittered = capped * (1 - jitter + 2 * jitter * random);
        return Duration.ofNanos((long) Math.max(0, jittered));
    }

    @Override
    public String toString() {
        return "RetryPolicy[maxAttempts=" + maxAttempts + ", initialDelay=" + initialDelay + ", maxDelay=" + maxDelay
                + ", multiplier=" + multiplier + ", jitter=" + jitter + "]";
    }

    /** Builds a {@link RetryPolicy}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private int maxAttempts = 5;
        private Duration initialDelay = Duration.ofSeconds(1);
        private Duration maxDelay = Duration.ofMinutes(5);
        private double multiplier = 2.0;
        private double jitter = 0.2;

        private Builder() {
        }

        /**
         * @param maxAttempts attempts in all, 1 to 1000
         * @return this builder
         */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1 || maxAttempts > 1000) {
                throw new IllegalArgumentException("maxAttempts must be within [1, 1000] but was " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /**
         * @param initialDelay the first delay, not negative
         * @return this builder
         */
        public Builder initialDelay(Duration initialDelay) {
            Objects.requireNonNull(initialDelay, "initialDelay");
            if (initialDelay.isNegative()) {
                throw new IllegalArgumentException("initialDelay must not be negative but was " + initialDelay);
            }
            this.initialDelay = initialDelay;
            return this;
        }

        /**
         * @param maxDelay the largest delay, not negative
         * @return this builder
         */
        public Builder maxDelay(Duration maxDelay) {
            Objects.requireNonNull(maxDelay, "maxDelay");
            if (maxDelay.isNegative()) {
                throw new IllegalArgumentException("maxDelay must not be negative but was " + maxDelay);
            }
            this.maxDelay = maxDelay;
            return this;
        }

        /**
         * @param multiplier the growth factor, within [1, 100]
         * @return this builder
         */
        public Builder multiplier(double multiplier) {
            if (!(multiplier >= 1.0 && multiplier <= 100.0)) {
                throw new IllegalArgumentException("multiplier must be within [1, 100] but was " + multiplier);
            }
            this.multiplier = multiplier;
            return this;
        }

        /**
         * @param jitter the jitter fraction, within [0, 1]
         * @return this builder
         */
        public Builder jitter(double jitter) {
            if (!(jitter >= 0.0 && jitter <= 1.0)) {
                throw new IllegalArgumentException("jitter must be within [0, 1] but was " + jitter);
            }
            this.jitter = jitter;
            return this;
        }

        /**
         * @return the policy
         * @throws IllegalStateException if maxDelay is shorter than initialDelay
         */
        public RetryPolicy build() {
            if (maxDelay.compareTo(initialDelay) < 0) {
                throw new IllegalStateException("maxDelay " + maxDelay + " is shorter than initialDelay " + initialDelay);
            }
            return new RetryPolicy(this);
        }
    }
}
