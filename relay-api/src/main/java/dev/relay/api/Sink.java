package dev.relay.api;

/**
 * Writes the rows of tasks to the warehouse.
 *
 * <p>Each task is written in its own {@link SinkSession}. A sink is idempotent on the task id: running the
 * whole session for the same task twice (a retry, a redelivery after a crash) leaves the same result as
 * running it once — by replacing the task's window, by MERGE on keys, by deterministic staged file names,
 * or by swapping in a snapshot. Implementations are threadsafe: sessions of different tasks run at once.
 */
public interface Sink {

    /**
     * Opens a write session for one task.
     *
     * @param task the task
     * @param schema the schema of the rows to come
     * @return the session; the caller commits or aborts it
     * @throws SinkException if the sink cannot start (retryable unless it says otherwise)
     */
    SinkSession open(Task task, RowSchema schema);
}
