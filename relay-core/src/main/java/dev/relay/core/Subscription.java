package dev.relay.core;

import dev.relay.api.HealthIssue;
import dev.relay.api.TaskQueue;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's subscription to its queue's lanes ({@link TaskQueue#subscribe}), and what happens when the queue
 * refuses it: a broker that refuses the credentials, a missing ACL, a cluster that does not answer. A refusal is
 * never only logged (issue 19): it is published for {@link Relay#health()} (and so the snapshot), told to the
 * {@link RelayListener}, and the subscription is tried again after a capped backoff, so that the relay subscribes by
 * itself once the cause is fixed (an ACL granted) — no restart.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>After the n-th refusal in a row, the next attempt is {@code min(}{@value #MAX_RETRY_MILLIS}{@code ms,
 *       }{@value #FIRST_RETRY_MILLIS}{@code ms·2^(n-1))} later; at most one retry is scheduled at a time; a success, or
 *       a newer subscription that succeeds, ends the failure.
 *   <li>A failure is logged when it begins, then at most once per {@value #LOG_INTERVAL_MILLIS} ms with how often it
 *       recurred; its end once.
 *   <li>{@link #failure()} is the failure as of the last attempt, or null after a success.
 * </ol>
 *
 * <p>Not threadsafe, except {@link #failure()}: {@link #subscribe} and {@link #retry} run in control turns.
 */
final class Subscription {

    private static final Logger LOG = LoggerFactory.getLogger(Subscription.class);

    /**
     * The wait after the first refusal: refusals are mostly credentials or ACLs, which a person fixes, and every attempt
     * costs the Kafka client a dozen log lines.
     */
    static final long FIRST_RETRY_MILLIS = 5_000;
    /** The longest wait between attempts: a fixed cause is picked up within a minute. */
    static final long MAX_RETRY_MILLIS = 60_000;
    /** How often a lasting refusal is logged again. */
    static final long LOG_INTERVAL_MILLIS = 60_000;

    /**
     * A refused subscription, published for the health check.
     *
     * @param lanes the lanes the relay wants
     * @param message the refusal's message
     * @param since the first refusal in a row
     * @param failures refusals in a row
     * @param nextAttempt when it is tried again
     */
    record Failure(Set<String> lanes, String message, Instant since, int failures, Instant nextAttempt) {

        /** @return the health issue: nothing is consumed while the subscription is refused */
        HealthIssue issue() {
            return HealthIssue.down(HealthIssue.QUEUE, HealthIssue.Kind.QUEUE_UNREACHABLE, "the queue refused the "
                    + "subscription to lanes " + lanes + " (" + failures + " time(s) in a row, tried again at " + nextAttempt
                    + "): " + message, since);
        }
    }

    private final TaskQueue queue;
    private final Clock clock;
    private final ControlExecutor control;
    private final Notifier notify;
    private final Runnable retryTurn;

    // ---- owned by the control turns ----
    private Set<String> wanted = Set.of();
    private boolean retryScheduled;
    private long lastLogged = Long.MIN_VALUE;
    private int unlogged;

    private volatile Failure failure;

    /**
     * @param retryTurn a turn that calls {@link #retry} (and pumps)
     */
    Subscription(TaskQueue queue, Clock clock, ControlExecutor control, Notifier notify, Runnable retryTurn) {
        this.queue = queue;
        this.clock = clock;
        this.control = control;
        this.notify = notify;
        this.retryTurn = retryTurn;
    }

    /** Subscribes to these lanes (in a turn); a refusal is recorded and retried. */
    void subscribe(Set<String> lanes) {
        wanted = Set.copyOf(lanes);
        attempt();
    }

    /** The retry turn's body: tries again if the last attempt failed. */
    void retry() {
        retryScheduled = false;
        if (failure != null) {
            attempt();
        }
    }

    /** @return the current refusal, or null (any thread) */
    Failure failure() {
        return failure;
    }

    private void attempt() {
        Failure before = failure;
        try {
            queue.subscribe(wanted);
        } catch (RuntimeException e) {
            refused(before, e);
            return;
        }
        if (before != null) {
            failure = null;
            LOG.info("subscribed to lanes {} after {} refusal(s) since {}", wanted, before.failures(), before.since());
        }
        notify.subscribed(wanted);
    }

    private void refused(Failure before, RuntimeException e) {
        long now = clock.millis();
        int failures = before == null ? 1 : before.failures() + 1;
        long delay = failures > 20 ? MAX_RETRY_MILLIS : Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << (failures - 1));
        String message = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
        Instant since = before == null ? Instant.ofEpochMilli(now) : before.since();
        failure = new Failure(wanted, message, since, failures, Instant.ofEpochMilli(now + delay));
        if (lastLogged == Long.MIN_VALUE || before == null || now - lastLogged >= LOG_INTERVAL_MILLIS) {
            LOG.error("the queue refused the subscription to lanes {}{}; trying again in {} ms: {}", wanted,
                    unlogged == 0 ? "" : " (" + unlogged + " more refusal(s) since the last report)", delay, message);
            lastLogged = now;
            unlogged = 0;
        } else {
            unlogged++;
        }
        notify.subscriptionFailed(wanted, Duration.ofMillis(delay), e);
        if (!retryScheduled) {
            retryScheduled = true;
            control.schedule(Duration.ofMillis(delay), retryTurn);
        }
    }
}
