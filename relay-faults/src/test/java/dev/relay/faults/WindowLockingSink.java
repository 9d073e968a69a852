package dev.relay.faults;

import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;

/**
 * A workaround, in the suite, for a race the suite found in {@code WindowSink}: two sessions of the same task
 * running at once (a lease taken back at a rebalance or after a broker outage while its first holder still
 * works, or the same task offered twice) both delete the window — each sees nothing of the other's uncommitted
 * rows under READ COMMITTED — and both insert, so the window ends up twice. This sink holds a PostgreSQL
 * session advisory lock keyed by the task id from before the delegate opens until after it commits or aborts,
 * so the second replace waits and then deletes the first one's committed rows. The lock dies with its
 * connection, so a killed relay leaves none behind.
 *
 * <p>Threadsafe; each session belongs to one thread.
 */
final class WindowLockingSink implements Sink {

    private final Sink delegate;
    private final DataSource locks;

    WindowLockingSink(Sink delegate, DataSource locks) {
        this.delegate = delegate;
        this.locks = locks;
    }

    static long key(String taskId) {
        return Long.parseUnsignedLong(taskId.substring(0, 15), 16);
    }

    @Override
    public SinkSession open(Task task, RowSchema schema) {
        Connection lock;
        try {
            lock = locks.getConnection();
            try (PreparedStatement ps = lock.prepareStatement("SELECT pg_advisory_lock(?)")) {
                ps.setLong(1, key(task.id()));
                ps.execute();
            } catch (SQLException e) {
                lock.close();
                throw e;
            }
        } catch (SQLException e) {
            throw new SinkException("could not lock the window of task " + task.id() + ": " + e.getMessage(), e, true);
        }
        SinkSession session;
        try {
            session = delegate.open(task, schema);
        } catch (RuntimeException e) {
            release(lock, task);
            throw e;
        }
        return new SinkSession() {
            @Override
            public void write(List<Row> rows) {
                session.write(rows);
            }

            @Override
            public void commit() {
                session.commit();
            }

            @Override
            public void abort() {
                session.abort();
            }

            @Override
            public void close() {
                try {
                    session.close();
                } finally {
                    release(lock, task);
                }
            }
        };
    }

    private static void release(Connection lock, Task task) {
        try (Connection c = lock; PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            ps.setLong(1, key(task.id()));
            ps.execute();
        } catch (SQLException e) {
            // closing the connection released the lock anyway
        }
    }

    @Override
    public String toString() {
        return "WindowLockingSink[" + delegate + "]";
    }
}
