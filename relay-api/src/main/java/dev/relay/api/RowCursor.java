package dev.relay.api;

import java.util.List;

/**
 * The rows of one task, in bounded chunks.
 *
 * <p>Not threadsafe, except {@link #cancel()}, which any thread may call (for example the engine abandoning
 * a task at shutdown) and which makes a pending or later {@link #next()} fail with a {@link PullException}.
 */
public interface RowCursor extends AutoCloseable {

    /** @return the schema of the rows */
    RowSchema schema();

    /**
     * @return the next chunk of at most the puller's chunk size rows; an empty list at the end
     * @throws PullException if the source failed, timed out or the cursor was cancelled
     */
    List<Row> next();

    /** Cancels the pull from any thread; the running query is asked to stop. */
    void cancel();

    /** Releases the source resources (statement, connection). Never throws. */
    @Override
    void close();
}
