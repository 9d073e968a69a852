package dev.relay.api;

import java.time.Instant;
import java.util.NavigableSet;
import java.util.Optional;

/**
 * A {@link CompletionLedger} that planners can query: which tasks and windows are completed, and which tasks
 * were planned when. The planners of {@code relay-core} (realtime ticker, snapshot schedule, backfill planner,
 * gap detector) need one; the engine needs only the {@link CompletionLedger} part, so one instance serves both.
 *
 * <p>Recording the same task twice is harmless: the first completion is kept.
 *
 * <p>Entries are keyed by {@link Task#id()} and filed under the task's {@link SeriesKey} (source and
 * parameters) with its window or snapshot day, so a planner can ask which windows of a series are done.
 * A ledger also keeps an optional <em>planned</em> mark per task ({@link #recordPlanned}), which planners
 * use to plan a task at most once (the daily snapshot after a restart) without relying on the queue.
 *
 * <p>Implementations are threadsafe.
 */
public interface PlanningLedger extends CompletionLedger {

    /**
     * {@inheritDoc}
     *
     * <p>Idempotent: a second record of the same task id keeps the first. The record is filed under the task's
     * {@link SeriesKey} with its window or snapshot day.
     */
    @Override
    void recordCompleted(Task task, long rows);

    /**
     * @param taskId a task id
     * @return whether that task was recorded completed
     * @throws RelayException if the ledger could not be read
     */
    boolean isCompleted(String taskId);

    /**
     * The completed windows of a series whose start lies in {@code range} (half-open), ordered by start.
     *
     * @param series the series
     * @param range the range of window starts, in the source's local time
     * @return the windows, sorted; a snapshot of the ledger, not a live view
     * @throws RelayException if the ledger could not be read
     */
    NavigableSet<Window> completedWindows(SeriesKey series, Window range);

    /**
     * How many completed windows of a series start in {@code range}; equal to
     * {@code completedWindows(series, range).size()}, which implementations may compute more cheaply.
     *
     * @param series the series
     * @param range the range of window starts
     * @return the count
     * @throws RelayException if the ledger could not be read
     */
    default long countCompleted(SeriesKey series, Window range) {
        return completedWindows(series, range).size();
    }

    /**
     * Marks a task as planned (offered to its queue) at an instant, replacing an earlier mark. Planners call it
     * <em>after</em> a successful offer, so a crash in between leads to a harmless second offer of the same
     * id, never to a task marked planned that no queue holds.
     *
     * @param task the task offered
     * @param at when it was offered
     * @throws RelayException if the mark could not be stored
     */
    void recordPlanned(Task task, Instant at);

    /**
     * @param taskId a task id
     * @return when the task was last marked planned, if ever
     * @throws RelayException if the ledger could not be read
     */
    Optional<Instant> plannedAt(String taskId);
}
