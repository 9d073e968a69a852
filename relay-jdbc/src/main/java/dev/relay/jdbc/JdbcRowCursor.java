package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.PullException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Task;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.result.ResultIterator;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.StatementCustomizer;
import org.jdbi.v3.core.statement.TemplateEngine;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The cursor of one pull. Owned by one thread, except {@link #cancel()}: the owner thread runs the query
 * lazily (first {@code schema()} or {@code next()}), reads chunks and closes; {@code cancel} only sets a
 * volatile flag and calls {@link Statement#cancel()} on the statement published by the owner thread, which
 * JDBC allows from another thread.
 */
final class JdbcRowCursor implements RowCursor {

    private final Task task;
    private final String taskDescription;
    private final String sourceDescription;
    private final Dialect dialect;
    private final Handle handle;
    private final SourceQuery.Rendered rendered;
    private final int fetchSize;
    private final int chunkSize;
    private final int queryTimeoutSeconds;

    /** Published by the owner thread just before execution, read by {@link #cancel()}. */
    private volatile Statement statement;
    private volatile boolean cancelled;

    // owner-thread state
    private ResultIterator<Row> rows;
    private RowSchema schema;
    private boolean exhausted;
    private boolean closed;
    private boolean inTransaction;

    JdbcRowCursor(Task task, String taskDescription, String sourceDescription, Dialect dialect, Handle handle,
                  SourceQuery.Rendered rendered, int fetchSize, int chunkSize, int queryTimeoutSeconds) {
        this.task = task;
        this.taskDescription = taskDescription;
        this.sourceDescription = sourceDescription;
        this.dialect = dialect;
        this.handle = handle;
        this.rendered = rendered;
        this.fetchSize = fetchSize;
        this.chunkSize = chunkSize;
        this.queryTimeoutSeconds = queryTimeoutSeconds;
    }

    @Override
    public RowSchema schema() {
        start();
        return schema;
    }

    @Override
    public List<Row> next() {
        start();
        if (exhausted) {
            return List.of();
        }
        List<Row> chunk = new ArrayList<>(Math.min(chunkSize, 1024));
        try {
            while (chunk.size() < chunkSize && rows.hasNext()) {
                chunk.add(rows.next());
            }
        } catch (RuntimeException e) {
            throw failure("reading", e);
        }
        if (cancelled) {
            throw cancelledException(null);
        }
        if (chunk.isEmpty()) {
            exhausted = true;
            releaseStatement();
            return List.of();
        }
        return Collections.unmodifiableList(chunk);
    }

    private void start() {
        if (closed) {
            throw new IllegalStateException("cursor of task " + taskDescription + " is closed");
        }
        if (cancelled) {
            throw cancelledException(null);
        }
        if (rows != null) {
            return;
        }
        try {
            if (dialect.streamsOnlyWithoutAutocommit()) {
                handle.setReadOnly(true);
                handle.begin();
                inTransaction = true;
            }
            Query query = handle.createQuery(rendered.sql());
            query.setTemplateEngine(TemplateEngine.NOP);
            for (Map.Entry<String, Object> bind : rendered.binds().entrySet()) {
                query.bind(bind.getKey(), bind.getValue());
            }
            query.setFetchSize(fetchSize);
            if (queryTimeoutSeconds > 0) {
                query.setQueryTimeout(queryTimeoutSeconds);
            }
            query.addCustomizer(new StatementCustomizer() {
                @Override
                public void beforeExecution(PreparedStatement stmt, StatementContext ctx) throws SQLException {
                    statement = stmt;
                    if (cancelled) {
                        throw new SQLException("cancelled before execution");
                    }
                }
            });
            rows = query.map(new Mapper()).iterator();
        } catch (RuntimeException e) {
            throw failure("running the query of", e);
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        Statement s = statement;
        if (s != null) {
            try {
                s.cancel();
            } catch (SQLException | RuntimeException ignored) {
                // the statement may be finished or closed already; the flag makes next() fail either way
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        releaseStatement();
        try {
            if (inTransaction) {
                handle.rollback();
                handle.setReadOnly(false);
            }
        } catch (RuntimeException ignored) {
            // the connection may be broken; closing it below is all that is left to do
        }
        try {
            handle.close();
        } catch (RuntimeException ignored) {
            // never throws, by contract
        }
    }

    private void releaseStatement() {
        statement = null;
        if (rows != null) {
            try {
                rows.close();
            } catch (RuntimeException ignored) {
                // closing a broken statement
            }
        }
    }

    private PullException failure(String doing, RuntimeException e) {
        if (cancelled) {
            return cancelledException(e);
        }
        SQLException sql = Redactor.sqlException(e);
        boolean timeout = sql instanceof SQLTimeoutException
                || (sql != null && "57014".equals(sql.getSQLState()) && queryTimeoutSeconds > 0);
        String what = timeout
                ? "timed out after the query timeout of " + queryTimeoutSeconds + " s while " + doing
                : "failed while " + doing;
        return new PullException("pull of task " + taskDescription + " from " + sourceDescription + " " + what
                + " it: " + Redactor.rootMessage(e), Redactor.sanitize(e));
    }

    private PullException cancelledException(RuntimeException cause) {
        return new PullException("pull of task " + taskDescription + " was cancelled",
                cause == null ? null : Redactor.sanitize(cause));
    }

    /** Maps rows to {@link Row}; specialised once per result set with the schema and column readers. */
    private final class Mapper implements RowMapper<Row> {
        private ColumnReader[] readers;
        private RowSchema rowSchema;

        @Override
        public RowMapper<Row> specialize(ResultSet rs, StatementContext ctx) throws SQLException {
            ResultSetMetaData md = rs.getMetaData();
            int n = md.getColumnCount();
            List<Column> columns = new ArrayList<>(n);
            readers = new ColumnReader[n];
            for (int i = 1; i <= n; i++) {
                Column column = new Column(md.getColumnLabel(i), dialect.columnType(md, i));
                columns.add(column);
                readers[i - 1] = ColumnReader.forType(column.type());
            }
            rowSchema = RowSchema.of(columns);
            schema = rowSchema;
            return this;
        }

        @Override
        public Row map(ResultSet rs, StatementContext ctx) throws SQLException {
            ColumnReader[] r = readers;
            Object[] values = new Object[r.length];
            for (int i = 0; i < r.length; i++) {
                values[i] = r[i].read(rs, i + 1);
            }
            return Row.wrap(rowSchema, values);
        }
    }

    @Override
    public String toString() {
        return "JdbcRowCursor[" + task.id() + "]";
    }
}
