package dev.relay.api;

import java.util.List;

/**
 * The rows of one task, in bounded chunks.
 *
 * <p>Not threadsafe, except {@link #cancel()}, which any thread may call (for example the engine abandoning
 * a task at shutdown) and which makes a pending or later {@link #next()} fail with a {@link PullException}.
 */
public interface RowCursor extends AutoCloseable {

    /**
     * The schema of the rows. May run the query and block until the source answers (a puller may defer the
     * query from {@link Puller#open} to here, so that {@link #cancel()} can stop it).
     *
     * @return the schema of the rows
     * @throws PullException if the source failed, timed out or the cursor was cancelled
     */
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

    /**
     * A cursor over rows already in memory, handed out in chunks of at most {@code chunkSize}: for tests, examples
     * and small in-memory sources.
     *
     * @param schema the rows' schema
     * @param rows the rows
     * @param chunkSize the largest chunk, at least 1
     * @return the cursor
     */
    static RowCursor of(RowSchema schema, List<Row> rows, int chunkSize) {
        java.util.Objects.requireNonNull(schema, "schema");
        List<Row> copy = List.copyOf(rows);
        if (chunkSize < 1) {
            throw new IllegalArgumentException("chunkSize must be at least 1 but was " + chunkSize);
        }
        return new RowCursor() {
            private int next;
            private volatile boolean cancelled;

            @Override
            public RowSchema schema() {
                return schema;
            }

            @Override
            public List<Row> next() {
                if (cancelled) {
                    throw new PullException("cursor was cancelled", null);
                }
                int end = Math.min(copy.size(), next + chunkSize);
                List<Row> chunk = copy.subList(next, end);
                next = end;
                return chunk;
            }

            @Override
            public void cancel() {
                cancelled = true;
            }

            @Override
            public void close() {
            }
        };
    }
}
