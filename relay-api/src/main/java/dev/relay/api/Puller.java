package dev.relay.api;

/**
 * Pulls the rows of a task from the source.
 *
 * <p>{@link #open(Task)} resolves the task's registered {@link Task#source() source} (a task never carries
 * SQL), binds the window and parameters, and returns a cursor that streams the rows in bounded chunks, so
 * a large window never sits whole in memory. Implementations are threadsafe: the engine opens cursors from
 * several worker threads at once (at most its number of source permits).
 */
public interface Puller {

    /**
     * Starts pulling a task.
     *
     * @param task the task
     * @return a cursor over its rows; the caller closes it. Should not block on the query itself: run it on the
     *     cursor's first {@code schema()} or {@code next()}, where {@link RowCursor#cancel()} can stop it
     * @throws InvalidTaskException if the task names an unknown source or lacks a parameter (never retried)
     * @throws PullException if the source failed (retryable unless it says otherwise)
     */
    RowCursor open(Task task);
}
