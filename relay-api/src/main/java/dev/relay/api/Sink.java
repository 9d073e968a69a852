package dev.relay.api;

import java.util.function.Supplier;

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

    /**
     * Opens a write session <em>before</em> the source is queried: the engine calls this, so that a sink that is
     * down fails an attempt without costing a source query. {@code schema} runs the task's query when asked (the
     * cursor's {@link RowCursor#schema()}) and returns the schema of its rows; an implementation first does what
     * can fail on the sink's side without the schema (connect, check the target), then asks for the schema and
     * opens the session with it. {@code schema} may be asked at most once; if it throws, the sink releases what
     * it opened and lets the exception through.
     *
     * <p>The default implementation asks for the schema first and then calls {@link #open(Task, RowSchema)}: the
     * source is queried before the sink is touched. Sinks that can connect first override it.
     *
     * @param task the task
     * @param schema queries the source and returns the schema of the rows to come
     * @return the session; the caller commits or aborts it
     * @throws SinkException if the sink cannot start (retryable unless it says otherwise)
     * @throws PullException if the source failed when the schema was asked for
     */
    default SinkSession openBeforePull(Task task, Supplier<RowSchema> schema) {
        return open(task, schema.get());
    }
}
