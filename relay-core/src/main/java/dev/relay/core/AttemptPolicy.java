package dev.relay.core;

import dev.relay.api.RelayException;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Task;
import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * The engine's failure handling as a pure function: from what an attempt came to, the task's attempt number, its
 * lane's {@link RetryPolicy} and whether the relay is stopping, the {@link Verdict} on its lease — complete, retry
 * after a delay, release, or dead-letter with a reason — and, from a lane's run of failures, whether to suspend
 * the lane and for how long. No threads, no clock, no queue: the jitter comes in as a number.
 *
 * <ul>
 *   <li>A success completes the lease (also if the attempt was withdrawn after it committed).
 *   <li>A failed withdrawn attempt (abandoned at shutdown, cancelled from outside) releases it: not the task's
 *       fault, no attempt counted.
 *   <li>A retryable failure — any exception except a {@link RelayException} that says it is not retryable;
 *       any {@link Error} but an {@link AssertionError} — is retried after the policy's jittered backoff while
 *       attempts are left; while the relay is stopping it is released instead (no retry is scheduled by a relay
 *       that is going away); after the last attempt it is dead-lettered.
 *   <li>A non-retryable failure is dead-lettered at once.
 *   <li>Retryable failures count toward the lane's run of failures; after {@code suspendAfterFailures} in a row the
 *       lane is suspended for the policy's backoff of the failures beyond that number.
 * </ul>
 *
 * <p>Immutable and threadsafe.
 */
final class AttemptPolicy {

    /** What happens to a lease. */
    enum Action {
        /** The sink committed and the ledger recorded the task: it is done. */
        COMPLETE,
        /** Hand it out again after {@link Verdict#delay()}, attempt counted. */
        RETRY,
        /** Give it back untouched, no attempt counted. */
        RELEASE,
        /** Move it to the dead letters with {@link Verdict#reason()}. */
        DEAD_LETTER
    }

    /**
     * The decision on one lease.
     *
     * @param action what to do
     * @param delay the backoff of a retry; zero otherwise
     * @param reason why it failed (retry, dead letter); null otherwise
     * @param failure whether it counts toward the lane's run of failures
     */
    record Verdict(Action action, Duration delay, String reason, boolean failure) {
        static final Verdict COMPLETE = new Verdict(Action.COMPLETE, Duration.ZERO, null, false);
        static final Verdict WITHDRAWN = new Verdict(Action.RELEASE, Duration.ZERO, null, false);

        Verdict {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(delay, "delay");
        }
    }

    private final int suspendAfterFailures;

    /**
     * @param suspendAfterFailures retryable failures in a row after which a lane is suspended; 0 never
     */
    AttemptPolicy(int suspendAfterFailures) {
        if (suspendAfterFailures < 0) {
            throw new IllegalArgumentException("suspendAfterFailures must not be negative but was " + suspendAfterFailures);
        }
        this.suspendAfterFailures = suspendAfterFailures;
    }

    /**
     * Whether a lease just taken from a lane's queue may run at all.
     *
     * @param task its task
     * @param lane the lane it was polled from
     * @param policy the lane's retry policy
     * @return null if it may run; else why it is dead-lettered without running
     */
    String refusal(Task task, String lane, RetryPolicy policy) {
        if (!task.lane().equals(lane)) {
            return "task of lane '" + task.lane() + "' arrived in lane '" + lane + "'";
        }
        if (task.attempt() > policy.maxAttempts()) {
            return "attempt " + task.attempt() + " exceeds the lane's " + policy.maxAttempts()
                    + " attempts (earlier deliveries were lost, e.g. the relay crashed while running it)";
        }
        return null;
    }

    /**
     * The verdict after an attempt.
     *
     * @param error what failed, or null if the attempt succeeded (sink committed, ledger recorded)
     * @param withdrawn whether the engine withdrew the attempt (shutdown, cancellation)
     * @param task the task, with the attempt that ran
     * @param policy its lane's retry policy
     * @param stopping whether the relay is shutting down
     * @param random uniform values in [0, 1) for the backoff's jitter; asked only for a retry
     * @return the verdict
     */
    Verdict afterAttempt(Throwable error, boolean withdrawn, Task task, RetryPolicy policy, boolean stopping,
            DoubleSupplier random) {
        if (error == null) {
            return Verdict.COMPLETE; // committed and recorded, even if withdrawn meanwhile: done is done
        }
        if (withdrawn) {
            return Verdict.WITHDRAWN;
        }
        boolean retryable = retryable(error);
        String reason = describe(error);
        if (retryable && stopping) {
            return new Verdict(Action.RELEASE, Duration.ZERO, reason, true);
        }
        if (retryable && policy.canRetry(task.attempt())) {
            return new Verdict(Action.RETRY, policy.delayAfter(task.attempt(), random.getAsDouble()), reason, true);
        }
        String why = (retryable ? "failed " + task.attempt() + " attempts; last: " : "not retryable: ") + reason;
        return new Verdict(Action.DEAD_LETTER, Duration.ZERO, why, retryable);
    }

    /**
     * @param consecutiveFailures the lane's retryable failures in a row, this one included
     * @param policy the lane's retry policy
     * @return how long to suspend the lane, or null to keep it running
     */
    Duration suspension(int consecutiveFailures, RetryPolicy policy) {
        if (suspendAfterFailures == 0 || consecutiveFailures < suspendAfterFailures) {
            return null;
        }
        return policy.delayAfter(1 + consecutiveFailures - suspendAfterFailures, 0.5);
    }

    /**
     * @param error an attempt's failure
     * @return whether another attempt could succeed
     */
    static boolean retryable(Throwable error) {
        if (error instanceof Error) {
            return !(error instanceof AssertionError); // e.g. OutOfMemoryError: not the task's fault
        }
        return !(error instanceof RelayException re) || re.retryable();
    }

    /**
     * @param t a failure
     * @return its class and message and those of up to three causes, at most 2,000 characters
     */
    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        Throwable c = t;
        for (int depth = 0; c != null && depth < 4; depth++, c = c.getCause()) {
            if (depth > 0) {
                sb.append(" <- ");
            }
            sb.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
        }
        return sb.length() > 2000 ? sb.substring(0, 2000) + "…" : sb.toString();
    }
}
