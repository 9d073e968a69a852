package dev.relay.core.pressure;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One completed pull, as the engine reports it to {@link PressureControl#record(PullSample)}: what was pulled,
 * when it started, how long it held the source, and how it ended.
 *
 * <p>Immutable and threadsafe.
 *
 * @param source the task's source (its registered query name): latency is compared against this source's own
 *     baseline, so a 5-million-row config snapshot is never measured against a 10-minute window
 * @param started when the pull took its permit
 * @param duration how long it held the source (its permit), not negative
 * @param rows the rows it read, not negative
 * @param window the length of the task's window, {@link Duration#ZERO} for a snapshot task
 * @param outcome how it ended
 * @param atLimit whether the limit was binding when it started: right after it took its permit no shared permit
 *     was free. Only such pulls are evidence that the source copes with the limit in force (a pull that ran
 *     while permits idled says nothing about running more)
 */
public record PullSample(String source, Instant started, Duration duration, long rows, Duration window, Outcome outcome,
        boolean atLimit) {

    /** How a pull ended. */
    public enum Outcome {
        /** The rows were read (whatever the sink did with them afterwards). */
        SUCCESS,
        /** The source did not answer within its time limit: a query timeout, a statement cancelled by the server. */
        SOURCE_TIMEOUT,
        /**
         * Any other failure, or a pull cancelled by the relay itself (shutdown): no evidence about the source's
         * load, ignored by the rule.
         */
        FAILED
    }

    /**
     * @throws NullPointerException if a reference is null
     * @throws IllegalArgumentException if a duration or the row count is negative
     */
    public PullSample {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(started, "started");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(outcome, "outcome");
        if (duration.isNegative()) {
            throw new IllegalArgumentException("pull duration must not be negative but was " + duration);
        }
        if (rows < 0) {
            throw new IllegalArgumentException("rows must not be negative but were " + rows);
        }
        if (window.isNegative()) {
            throw new IllegalArgumentException("window length must not be negative but was " + window);
        }
    }
}
