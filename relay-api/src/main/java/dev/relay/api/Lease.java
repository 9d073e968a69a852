package dev.relay.api;

import java.time.Duration;
import java.time.Instant;

/**
 * The right to run one delivery of a task. A lease ends in exactly one of four ways:
 * <ul>
 *   <li>{@link #complete()} — the task is done (its sink committed); it is never handed out again;
 *   <li>{@link #retry(Duration, String)} — hand it out again after a delay, with the attempt counted;
 *   <li>{@link #deadLetter(String)} — move it to the lane's dead letters with a reason;
 *   <li>{@link #release()} — give it back untouched, no attempt counted (shutdown, lane removal).
 * </ul>
 * Ending a lease a second time throws {@link IllegalStateException}. A lease the backend took back (timed
 * out, partition revoked, queue closed) throws {@link LeaseLostException} instead: the task will be handed
 * out again, and the idempotent sink makes the repeat harmless.
 *
 * <p>Implementations are threadsafe: a lease may be ended from any thread.
 */
public interface Lease {

    /** @return the task, with {@link Task#attempt()} the number of this delivery */
    Task task();

    /** @return when the task became ready to run (offered, or its retry delay ended) */
    Instant readySince();

    /** Marks the task done. */
    void complete();

    /**
     * Hands the task out again no earlier than after {@code delay}, with its attempt incremented.
     *
     * @param delay the delay, not negative
     * @param reason why the attempt failed (kept for diagnosis)
     */
    void retry(Duration delay, String reason);

    /**
     * Moves the task to the lane's dead letters.
     *
     * @param reason why, recorded with the dead letter
     */
    void deadLetter(String reason);

    /** Gives the task back for immediate redelivery without counting an attempt. */
    void release();
}
