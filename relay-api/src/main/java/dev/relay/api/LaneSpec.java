package dev.relay.api;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The specification of a lane: a named stream of tasks with a weight, optional dedicated source permits, an
 * in-flight cap, an optional rate limit, a prefetch buffer size and a retry policy.
 *
 * <ul>
 *   <li><b>weight</b> — among backlogged lanes, each receives source time in proportion to its weight.
 *   <li><b>dedicated permits</b> — source permits reserved for this lane out of the relay's total; a ready
 *       task of this lane starts within one dispatch while one of them is free.
 *   <li><b>max in flight</b> — at most this many of the lane's tasks run at once.
 *   <li><b>rate limit</b> — at most this many task starts per second (token bucket with a burst).
 *   <li><b>buffer</b> — at most this many leases of the lane are held by the engine waiting for a permit,
 *       so one lane's backlog never fills memory.
 *   <li><b>max task cost</b> (optional) — a declaration that no task of this lane costs more than this, in the
 *       relay's cost unit. The scheduler's starvation bound is a guarantee only over lanes that declare it (or
 *       whose in-flight cap leaves the others enough permits); see {@link #maxTaskCost()}.
 * </ul>
 *
 * <p>Immutable and threadsafe; build one with {@link #builder(String)}.
 */
public final class LaneSpec {

    /** The default number of leases a lane buffers ahead of dispatch. */
    public static final int DEFAULT_BUFFER = 32;

    private final String name;
    private final int weight;
    private final int dedicatedPermits;
    private final int maxInFlight;
    private final double ratePerSecond;
    private final int rateBurst;
    private final int buffer;
    private final RetryPolicy retryPolicy;
    private final long maxTaskCost;

    private LaneSpec(Builder b) {
        this.name = b.name;
        this.weight = b.weight;
        this.dedicatedPermits = b.dedicatedPermits;
        this.maxInFlight = b.maxInFlight;
        this.ratePerSecond = b.ratePerSecond;
        this.rateBurst = b.rateBurst;
        this.buffer = b.buffer;
        this.retryPolicy = b.retryPolicy;
        this.maxTaskCost = b.maxTaskCost;
    }

    /**
     * @param name the lane name, matching {@link Names#LANE}
     * @return a builder with weight 1, no dedicated permits, no in-flight cap, no rate limit
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * @param name the lane name
     * @return a lane with all defaults
     */
    public static LaneSpec of(String name) {
        return builder(name).build();
    }

    /** @return the lane name */
    public String name() {
        return name;
    }

    /** @return the weight, 1 to 10,000 */
    public int weight() {
        return weight;
    }

    /** @return source permits reserved for this lane */
    public int dedicatedPermits() {
        return dedicatedPermits;
    }

    /** @return the most tasks of this lane running at once; {@link Integer#MAX_VALUE} when uncapped */
    public int maxInFlight() {
        return maxInFlight;
    }

    /** @return task starts per second allowed, if rate limited */
    public OptionalDouble ratePerSecond() {
        return ratePerSecond > 0 ? OptionalDouble.of(ratePerSecond) : OptionalDouble.empty();
    }

    /** @return how many starts the rate limiter allows in a burst */
    public int rateBurst() {
        return rateBurst;
    }

    /** @return leases buffered ahead of dispatch */
    public int buffer() {
        return buffer;
    }

    /** @return the retry policy */
    public RetryPolicy retryPolicy() {
        return retryPolicy;
    }

    /**
     * The largest cost one task of this lane may have, as declared by the user, in the relay's cost unit:
     * nanoseconds of source time with the default cost measure, rows when the relay charges rows. The scheduler
     * does not stop a task that runs longer; it counts on the declaration for its starvation bound, and a lane
     * whose task overran its declaration gives no guaranteed bound until another maximum is declared for it.
     *
     * @return the declared maximum cost of one task, if declared
     */
    public OptionalLong maxTaskCost() {
        return maxTaskCost > 0 ? OptionalLong.of(maxTaskCost) : OptionalLong.empty();
    }

    /**
     * @return a builder holding this lane's settings, to derive a changed lane
     */
    public Builder toBuilder() {
        Builder b = new Builder(name);
        b.weight = weight;
        b.dedicatedPermits = dedicatedPermits;
        b.maxInFlight = maxInFlight;
        b.ratePerSecond = ratePerSecond;
        b.rateBurst = rateBurst;
        b.buffer = buffer;
        b.retryPolicy = retryPolicy;
        b.maxTaskCost = maxTaskCost;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LaneSpec l && l.name.equals(name) && l.weight == weight
                && l.dedicatedPermits == dedicatedPermits && l.maxInFlight == maxInFlight
                && Double.compare(l.ratePerSecond, ratePerSecond) == 0 && l.rateBurst == rateBurst
                && l.buffer == buffer && l.retryPolicy == retryPolicy && l.maxTaskCost == maxTaskCost;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, weight, dedicatedPermits, maxInFlight, ratePerSecond, rateBurst, buffer, maxTaskCost);
    }

    @Override
    public String toString() {
        return "Lane[" + name + " weight=" + weight + (dedicatedPermits > 0 ? " dedicated=" + dedicatedPermits : "")
                + (maxInFlight < Integer.MAX_VALUE ? " maxInFlight=" + maxInFlight : "")
                + (ratePerSecond > 0 ? " rate=" + ratePerSecond + "/s burst " + rateBurst : "")
                + (maxTaskCost > 0 ? " maxTaskCost=" + maxTaskCost : "") + " buffer=" + buffer + "]";
    }

    /** Builds a {@link LaneSpec}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private final String name;
        private int weight = 1;
        private int dedicatedPermits;
        private int maxInFlight = Integer.MAX_VALUE;
        private double ratePerSecond;
        private int rateBurst = 1;
        private int buffer = DEFAULT_BUFFER;
        private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
        private long maxTaskCost;

        private Builder(String name) {
            this.name = Names.requireLane(name);
        }

        /**
         * @param weight the share weight, 1 to 10,000
         * @return this builder
         */
        public Builder weight(int weight) {
            if (weight < 1 || weight > 10_000) {
                throw new IllegalArgumentException("weight of lane '" + name + "' must be within [1, 10000] but was " + weight);
            }
            this.weight = weight;
            return this;
        }

        /**
         * @param permits source permits reserved for this lane, 0 to 1,000
         * @return this builder
         */
        public Builder dedicatedPermits(int permits) {
            if (permits < 0 || permits > 1000) {
                throw new IllegalArgumentException("dedicatedPermits of lane '" + name + "' must be within [0, 1000] but was " + permits);
            }
            this.dedicatedPermits = permits;
            return this;
        }

        /**
         * @param maxInFlight at least 1
         * @return this builder
         */
        public Builder maxInFlight(int maxInFlight) {
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("maxInFlight of lane '" + name + "' must be at least 1 but was " + maxInFlight);
            }
            this.maxInFlight = maxInFlight;
            return this;
        }

        /**
         * @param perSecond task starts per second, positive and finite
         * @param burst starts allowed at once, at least 1
         * @return this builder
         */
        public Builder rateLimit(double perSecond, int burst) {
            if (!(perSecond > 0 && perSecond < 1e9)) {
                throw new IllegalArgumentException("rate of lane '" + name + "' must be positive and finite but was " + perSecond);
            }
            if (burst < 1) {
                throw new IllegalArgumentException("rate burst of lane '" + name + "' must be at least 1 but was " + burst);
            }
            this.ratePerSecond = perSecond;
            this.rateBurst = burst;
            return this;
        }

        /**
         * @param buffer leases buffered ahead of dispatch, 1 to 100,000
         * @return this builder
         */
        public Builder buffer(int buffer) {
            if (buffer < 1 || buffer > 100_000) {
                throw new IllegalArgumentException("buffer of lane '" + name + "' must be within [1, 100000] but was " + buffer);
            }
            this.buffer = buffer;
            return this;
        }

        /**
         * @param retryPolicy the retry policy
         * @return this builder
         */
        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
            return this;
        }

        /**
         * Declares the largest cost one task of this lane may have, in the relay's cost unit (nanoseconds of source
         * time by default, rows when the relay charges rows): see {@link LaneSpec#maxTaskCost()}. Not declared by
         * default.
         *
         * @param maxTaskCost the declared maximum, positive
         * @return this builder
         */
        public Builder maxTaskCost(long maxTaskCost) {
            if (maxTaskCost < 1) {
                throw new IllegalArgumentException("maxTaskCost of lane '" + name + "' must be positive but was " + maxTaskCost);
            }
            this.maxTaskCost = maxTaskCost;
            return this;
        }

        /**
         * Declares the longest source time one task of this lane may take: {@link #maxTaskCost(long)} in
         * nanoseconds, for a relay that charges source time (the default cost measure).
         *
         * @param maxTaskTime the declared maximum, positive
         * @return this builder
         */
        public Builder maxTaskTime(Duration maxTaskTime) {
            Objects.requireNonNull(maxTaskTime, "maxTaskTime");
            if (maxTaskTime.isNegative() || maxTaskTime.isZero()) {
                throw new IllegalArgumentException("maxTaskTime of lane '" + name + "' must be positive but was " + maxTaskTime);
            }
            long nanos;
            try {
                nanos = maxTaskTime.toNanos();
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("maxTaskTime of lane '" + name + "' is too long to count in nanoseconds: "
                        + maxTaskTime, e);
            }
            return maxTaskCost(nanos);
        }

        /**
         * @return the lane
         * @throws IllegalStateException if the dedicated permits exceed the in-flight cap
         */
        public LaneSpec build() {
            if (dedicatedPermits > maxInFlight) {
                throw new IllegalStateException("lane '" + name + "' has " + dedicatedPermits
                        + " dedicated permits but maxInFlight " + maxInFlight + ": the extra permits could never be used");
            }
            return new LaneSpec(this);
        }
    }
}
