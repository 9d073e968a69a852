package dev.relay.core;

import dev.relay.api.Task;
import java.time.Duration;
import java.time.Instant;

/**
 * Observes a {@link Relay}'s decisions, for reports, simulations and tests. Every method has an empty default.
 *
 * <p>Methods are called on the engine's control thread, one at a time, and must return quickly and not call
 * back into the relay synchronously.
 */
public interface RelayListener {

    /** A listener that ignores everything (the default). */
    RelayListener NONE = new RelayListener() {
        @Override
        public String toString() {
            return "RelayListener.NONE";
        }
    };

    /**
     * A task reached the head of its lane's buffer: it is the next of its lane to start, and from now on its wait
     * is bounded by the scheduler's starvation bound. Overriding this costs the engine the evaluation of the bound
     * (O(lanes)) at every change of a lane's head; it is not evaluated for listeners that do not override it.
     *
     * @param task the task
     * @param at when
     * @param bound the task's guaranteed start bound from now ({@link FairScheduler#startBound}), in the relay's
     *     {@link CostMeasure}; {@link FairScheduler#UNBOUNDED} where no guarantee follows; 0 with a free dedicated
     *     permit
     */
    default void reachedHead(Task task, Instant at, long bound) {
    }

    /**
     * A task got a source permit and was handed to a worker.
     *
     * @param task the task
     * @param at when
     * @param waited from the task becoming ready in its queue until now
     * @param permitsInUse permits in use after this start
     */
    default void started(Task task, Instant at, Duration waited, int permitsInUse) {
    }

    /**
     * A task's sink committed and its lease was completed.
     *
     * @param task the task
     * @param at when
     * @param service from start to completion
     * @param rows rows written
     */
    default void completed(Task task, Instant at, Duration service, long rows) {
    }

    /**
     * A task failed and will be retried after a delay.
     *
     * @param task the task, with the attempt that failed
     * @param at when
     * @param delay the backoff before the next attempt
     * @param error what failed
     */
    default void retried(Task task, Instant at, Duration delay, Throwable error) {
    }

    /**
     * A task was dead-lettered.
     *
     * @param task the task
     * @param at when
     * @param reason why
     */
    default void deadLettered(Task task, Instant at, String reason) {
    }

    /**
     * The queue refused the subscription to the relay's lanes (credentials refused, an ACL missing, no answer from the
     * cluster): nothing of them is consumed until it works. Told once when the refusals begin; the relay tries again at
     * every housekeeping turn and reports the failure in {@link Relay#health()} meanwhile.
     *
     * @param lanes the lanes the relay serves
     * @param at when
     * @param error what the queue threw
     */
    default void subscriptionFailed(java.util.Set<String> lanes, Instant at, Throwable error) {
    }

    /**
     * The queue accepted the subscription to the relay's lanes after refusing it ({@link #subscriptionFailed}).
     *
     * @param lanes the lanes the relay serves
     * @param at when
     */
    default void subscribed(java.util.Set<String> lanes, Instant at) {
    }
}
