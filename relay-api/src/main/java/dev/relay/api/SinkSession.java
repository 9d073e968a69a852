package dev.relay.api;

import java.util.List;

/**
 * One task's write to a sink: {@link #write(List) write} chunks, then {@link #commit()} or {@link #abort()}.
 * Nothing written becomes visible before {@code commit} returns, and an aborted or crashed session leaves
 * the target as it was.
 *
 * <p>Not threadsafe: one worker thread owns a session, except {@link #abort()}, which may be called from
 * another thread to stop it.
 */
public interface SinkSession extends AutoCloseable {

    /**
     * @param rows the next chunk of rows, in the session's schema
     * @throws SinkException if the write failed
     */
    void write(List<Row> rows);

    /**
     * Makes the session's rows visible and durable, replacing any earlier write of the same task. The engine
     * commits only after the task's cursor reported its end (an empty chunk), so the rows written are all the
     * rows the source returned for the task.
     *
     * @throws SinkException if the commit failed; then nothing of this session is visible
     */
    void commit();

    /** Rolls back what this session wrote. Idempotent, never throws. */
    void abort();

    /** Aborts unless committed. Never throws. */
    @Override
    void close();
}
