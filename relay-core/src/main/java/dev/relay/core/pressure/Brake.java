package dev.relay.core.pressure;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * A brake that the source's owners control: a {@link BrakeCheck} polled at an interval; while its last verdict is
 * stop, the relay starts no new pull (its effective limit is 0, dedicated permits included) and pulls in flight
 * finish. A relay with a brake starts braked and asks the check first, so that a relay started during a batch job
 * adds no load before it knows.
 *
 * <h2>Polling</h2>
 * The first check runs when the relay starts, each next one {@link #interval()} after the previous one answered
 * (fixed delay: a slow check is never run twice at once). Checks run on the brake's {@link Builder#executor
 * executor}; their verdicts reach the engine's control thread as a turn, and the timing follows the engine's
 * clock and control executor, so a brake runs in the deterministic simulation as it does in production. A check
 * that fails (throws) gives the verdict of {@link #stopOnError()}: stop by default — an unreachable check is
 * not a permission to press on the source.
 *
 * <p>Immutable and threadsafe; build one with {@link #builder(BrakeCheck)}.
 */
public final class Brake {

    private final BrakeCheck check;
    private final Duration interval;
    private final boolean stopOnError;
    private final Executor executor;

    private Brake(Builder b) {
        this.check = b.check;
        this.interval = b.interval;
        this.stopOnError = b.stopOnError;
        this.executor = b.executor;
    }

    /**
     * @param check the check to poll
     * @return a builder
     */
    public static Builder builder(BrakeCheck check) {
        return new Builder(check);
    }

    /** @return the check */
    public BrakeCheck check() {
        return check;
    }

    /** @return the delay between one check's answer and the next check */
    public Duration interval() {
        return interval;
    }

    /** @return whether a check that fails stops new pulls (otherwise it lets them go) */
    public boolean stopOnError() {
        return stopOnError;
    }

    /** @return the executor the checks run on, if one was given (otherwise each relay starts one daemon thread) */
    public Optional<Executor> executor() {
        return Optional.ofNullable(executor);
    }

    @Override
    public String toString() {
        return "Brake[" + check + " every " + interval + (stopOnError ? ", stop on error" : ", go on error") + "]";
    }

    /** Builds a {@link Brake}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private final BrakeCheck check;
        private Duration interval = Duration.ofSeconds(5);
        private boolean stopOnError = true;
        private Executor executor;

        private Builder(BrakeCheck check) {
            this.check = Objects.requireNonNull(check, "check");
        }

        /**
         * @param interval the delay between one check's answer and the next check; within [10 ms, 1 h], default 5 s
         * @return this builder
         */
        public Builder interval(Duration interval) {
            Objects.requireNonNull(interval, "interval");
            if (interval.compareTo(Duration.ofMillis(10)) < 0 || interval.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("brake interval must be within [10 ms, 1 h] but was " + interval);
            }
            this.interval = interval;
            return this;
        }

        /**
         * @param stopOnError whether a check that fails (an unreachable endpoint, a query error) stops new pulls;
         *     default true
         * @return this builder
         */
        public Builder stopOnError(boolean stopOnError) {
            this.stopOnError = stopOnError;
            return this;
        }

        /**
         * @param executor where the checks run (they may block); by default each relay starts one daemon thread,
         *     {@code relay-brake}, and stops it at shutdown. The simulation passes its worker executor.
         * @return this builder
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** @return the brake */
        public Brake build() {
            return new Brake(this);
        }
    }
}
