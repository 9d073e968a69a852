package dev.relay.jdbc;

import dev.relay.api.Row;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import org.jdbi.v3.core.Handle;

import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The common life cycle of a JDBC sink session: one Jdbi handle (one connection) owned by the worker thread;
 * {@code write} and {@code commit} hold {@link #lock}; {@link #abort()} may come from another thread: it sets
 * {@link #aborted}, cancels the statement that is running (published in {@link #running}) so a long batch stops,
 * then takes the lock, rolls back, cleans up and closes the handle. The connection is always closed once the
 * session ends (committed, aborted, closed, or a failed write or commit).
 */
abstract class AbstractJdbcSession implements SinkSession {

    /** Guards the handle and every field below that is not volatile. */
    protected final ReentrantLock lock = new ReentrantLock();
    protected final Task task;
    protected final String table;
    protected final Handle handle;
    private volatile boolean aborted;
    private volatile Statement running;
    /** Guarded by {@link #lock}. */
    private boolean finished;

    AbstractJdbcSession(Task task, String table, Handle handle) {
        this.task = task;
        this.table = table;
        this.handle = handle;
    }

    /** @param statement the statement now running, cancelled by an abort from another thread */
    protected final void publish(Statement statement) {
        running = statement;
    }

    @Override
    public final void write(List<Row> rows) {
        lock.lock();
        try {
            requireOpen("write");
            try {
                writeRows(rows);
            } catch (SQLException | RuntimeException e) {
                if (e instanceof SinkException s && !(s.getCause() instanceof SQLException)) {
                    end(false);
                    throw s;
                }
                end(false);
                throw failure("writing to", e);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public final void commit() {
        lock.lock();
        try {
            requireOpen("commit");
            try {
                commitRows();
                end(true);
            } catch (SinkException e) {
                end(false);
                throw e;
            } catch (SQLException | RuntimeException e) {
                end(false);
                throw failure("committing to", e);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public final void abort() {
        aborted = true;
        Statement s = running;
        if (s != null) {
            try {
                s.cancel();
            } catch (SQLException | RuntimeException ignored) {
                // already finished or closed
            }
        }
        lock.lock();
        try {
            end(false);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public final void close() {
        abort();
    }

    private void requireOpen(String what) {
        if (aborted && !finished) {
            end(false);
        }
        if (finished) {
            throw new SinkException("cannot " + what + ": the session of task " + task.id() + " into " + table
                    + (aborted ? " was aborted" : " has ended"), null, true);
        }
    }

    /** Ends the session once; must hold the lock. */
    private void end(boolean committed) {
        if (finished) {
            return;
        }
        finished = true;
        running = null;
        try {
            if (!committed) {
                try {
                    if (handle.isInTransaction()) {
                        handle.rollback();
                    }
                } catch (RuntimeException ignored) {
                    // a broken connection rolls back on its own
                }
                cleanUpAfterFailure();
            }
        } finally {
            try {
                handle.close();
            } catch (RuntimeException ignored) {
                // nothing more can be done
            }
        }
    }

    /**
     * @param what "writing to" or "committing to"
     * @param e the failure
     * @return the exception to throw
     */
    protected final SinkException failure(String what, Throwable e) {
        if (aborted) {
            return new SinkException("session of task " + task.id() + " into " + table + " was aborted", null, true);
        }
        return new SinkException("sink failed " + what + " " + table + " for task " + task.id() + " ("
                + task.source() + " " + task.scope() + "): " + Redactor.rootMessage(e), Redactor.sanitize(e), true);
    }

    /**
     * @param rows rows to write, in the schema given at open
     * @throws SQLException if the database fails
     */
    protected abstract void writeRows(List<Row> rows) throws SQLException;

    /**
     * Flushes, checks and commits; the session ends afterwards either way.
     *
     * @throws SQLException if the database fails
     */
    protected abstract void commitRows() throws SQLException;

    /** Best-effort cleanup after an abort or failure (the transaction is already rolled back). */
    protected void cleanUpAfterFailure() {
    }
}
