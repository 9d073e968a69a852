package dev.relay.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A durable queue of tasks, one logical queue per lane.
 *
 * <p>{@link #offer(Task) offer} puts a task in its lane's queue; {@link #poll(String, int) poll} hands out
 * {@link Lease}s. Every lease ends in exactly one of {@link Lease#complete() complete},
 * {@link Lease#retry(java.time.Duration, String) retry after a delay}, {@link Lease#deadLetter(String)
 * dead-letter} or {@link Lease#release() release}; a lease its holder loses (crash, timeout, rebalance) comes
 * back with its attempt counted. Delivery is at least once: a task may be handed out again after a crash, so
 * sinks are idempotent on {@link Task#id()}.
 *
 * <p>{@code poll} never blocks waiting for tasks: the engine calls it from its single control thread and
 * learns that tasks may be available through the {@linkplain #setAvailabilityListener listener} or by polling
 * again later. Implementations are threadsafe: {@code offer} may be called from any thread, concurrently
 * with {@code poll} and with lease endings.
 */
public interface TaskQueue extends AutoCloseable {

    /**
     * Adds a task to the queue of {@link Task#lane() its lane}. When this returns, the task is durable as far
     * as the backend promises (the Kafka backend: acknowledged by all in-sync replicas).
     *
     * @param task the task
     * @throws QueueException if the task could not be stored; it was then not accepted
     * @throws IllegalArgumentException if the lane is unknown to a backend that requires known lanes
     */
    void offer(Task task);

    /**
     * Adds a batch of tasks, as {@link #offer} does each of them, but possibly with fewer round trips: the
     * Kafka backend sends the whole batch and waits once for all acknowledgements. When this returns, every
     * task of the batch was accepted.
     *
     * <p>The default implementation offers the tasks one by one, in order, and stops at the first task
     * refused ({@link QueueException}, or {@link IllegalArgumentException} for a lane the backend does not
     * know): that task and the ones after it are reported as not accepted, with the refusal as the cause.
     *
     * @param tasks the tasks, in order (the order of tasks of one lane is kept where the backend orders)
     * @throws TasksNotAcceptedException naming exactly the tasks that were not accepted; the others were
     * @throws IllegalArgumentException if a backend that checks the whole batch first finds a task of a lane it
     *         does not know; then none of the batch was accepted
     * @throws NullPointerException if the list or one of its tasks is null; then none of the batch was accepted
     */
    default void offerAll(List<Task> tasks) {
        Objects.requireNonNull(tasks, "tasks");
        for (int i = 0; i < tasks.size(); i++) {
            Objects.requireNonNull(tasks.get(i), "task " + i + " of the batch");
        }
        for (int i = 0; i < tasks.size(); i++) {
            try {
                offer(tasks.get(i));
            } catch (QueueException e) {
                throw new TasksNotAcceptedException(tasks.subList(i, tasks.size()), tasks.size(), e, e.retryable());
            } catch (IllegalArgumentException e) {
                throw new TasksNotAcceptedException(tasks.subList(i, tasks.size()), tasks.size(), e, false);
            }
        }
    }

    /**
     * Declares the lanes this consumer serves. The engine calls it before polling and whenever lanes are
     * added or removed. Backends that create resources per lane (topics) may do so here.
     *
     * @param lanes the lane names
     */
    void subscribe(Set<String> lanes);

    /**
     * Hands out up to {@code max} leases of ready tasks of one lane, oldest first as far as the backend
     * orders. Never blocks waiting for tasks.
     *
     * @param lane the lane
     * @param max at least 1
     * @return the leases, possibly none
     */
    List<Lease> poll(String lane, int max);

    /**
     * How many tasks of the lane wait: ready, delayed for a retry, and not yet fetched (lag). An estimate
     * where the backend cannot count exactly.
     *
     * @param lane the lane
     * @return the count, or -1 if unknown
     */
    long backlog(String lane);

    /**
     * The lanes this queue holds tasks for — ready, delayed or leased — whether or not a consumer serves them.
     * The engine compares them with the lanes it serves and reports the backlog of the others (a task offered to
     * a lane that no relay serves would otherwise wait unseen). An estimate where the backend cannot tell
     * exactly.
     *
     * <p>The default implementation cannot tell and returns empty.
     *
     * @return the names of the lanes that hold tasks, or empty if the backend cannot tell
     */
    default Optional<Set<String>> lanesWithTasks() {
        return Optional.empty();
    }

    /**
     * The dead letters of this queue's lanes: list, replay, purge (see {@link DeadLetters} for the semantics every
     * backend keeps). The in-memory and Kafka backends have them; the default implementation has none.
     *
     * @return the queue's dead letters, or empty if this backend cannot show them
     */
    default Optional<DeadLetters> deadLetters() {
        return Optional.empty();
    }

    /**
     * The queue's own condition, which the engine folds into the relay's {@link Health}: whether its clients reach
     * the broker or database, authenticate, are authorized, and find what they expect. The engine sees its own
     * failed polls already; this is for what only the backend knows (a failure on the backend's own threads, a
     * client other than the one polling, the cause behind a failure).
     *
     * <p>Called by the engine whenever someone asks the relay for its health (an operator, a health endpoint, a
     * meter scrape), from any thread, concurrently with everything else: it must be threadsafe, must not block and
     * must not do I/O — return what the backend's threads recorded when they last worked. Each issue's
     * {@linkplain HealthIssue#since() since} is when that condition began, kept across calls while it lasts.
     *
     * <p>The default implementation reports the queue healthy ({@link Health#up()}).
     *
     * @return the queue's health
     */
    default Health health() {
        return Health.up();
    }

    /**
     * Sets the listener called when tasks of some lane may have become available (a task offered, a retry
     * due, a lease expired, records fetched). It may be called from any thread and must return quickly; the
     * engine uses it to schedule a poll. A backend that cannot detect availability never calls it, and the
     * engine then polls periodically.
     *
     * @param listener the listener, or {@code null} to remove it
     */
    void setAvailabilityListener(Runnable listener);

    /** Releases resources. Leases not yet ended come back to the queue (no attempt counted where the backend can tell). */
    @Override
    void close();
}
