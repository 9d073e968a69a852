package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.InvalidTaskException;
import dev.relay.api.Names;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import javax.sql.DataSource;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A {@link Sink} that replaces a task's window in a table over plain JDBC (tested on PostgreSQL and H2): in one
 * transaction it deletes the rows of {@code [start, end)} (and, for {@linkplain Builder#taskColumn task columns},
 * of the task's parameter values), then batch-inserts the task's rows. Running a task twice, or once interrupted
 * and then again, leaves exactly one copy of its rows; nothing is visible before commit.
 *
 * <pre>{@code
 * Sink sink = WindowSink.builder(warehouse, Dialect.POSTGRESQL)
 *     .table("raw.vds30sec").timeColumn("SAMPLE_TIME")
 *     .taskColumn("DISTRICT", "district")     // DISTRICT = the task's "district" parameter
 *     .batchSize(1_000).build();
 * }</pre>
 *
 * <p>On PostgreSQL the session first takes a transaction-scoped advisory lock named after the table, window and
 * task column values, so a task delivered twice at once (a lease lost to a slow worker) is written one delivery
 * after the other and still leaves one copy. On other databases two concurrent sessions of the same window are
 * not serialised here (under READ COMMITTED both could insert): the engine's leases must prevent that.
 *
 * <p>Every row's time column must lie in the task's window (otherwise a later replace of another window would
 * leave it behind twice); a row outside fails the session without retry. Column names come from the row schema
 * (optionally renamed) and must be plain identifiers; values are always bound.
 *
 * <p>Task columns are bound as the column's type: the first session for a table reads the task columns' JDBC
 * types (a {@code SELECT} of those columns that returns no row) and each parameter value is converted to its
 * column's type (decimal digits for an {@code INTEGER}, ISO-8601 for a {@code DATE}, …). A value that is not of
 * its column's type, or a column type a parameter cannot fill, fails the session at {@code open} without retry
 * (a configuration error: the message names the parameter, its value, the column and its type), before anything
 * is deleted.
 *
 * <p>This class is threadsafe: its configuration is immutable, and the task columns' types, read once per table,
 * are kept in a concurrent map (a table altered afterwards needs a new sink). Each session belongs to one thread
 * (except its {@code abort}).
 */
public final class WindowSink implements Sink {

    private final Jdbi jdbi;
    private final Dialect dialect;
    private final TargetTable target;
    private final String timeColumn;
    private final Map<String, String> taskColumns;
    private final int batchSize;
    private final String description;
    /** The JDBC types of the task columns, in {@link #taskColumns} order, per rendered table; added once read. */
    private final ConcurrentMap<String, List<Integer>> taskColumnTypes = new ConcurrentHashMap<>();

    private WindowSink(Builder b) {
        this.jdbi = b.jdbi;
        this.dialect = b.dialect;
        this.target = b.target.build("WindowSink");
        this.timeColumn = b.timeColumn;
        this.taskColumns = Collections.unmodifiableMap(new LinkedHashMap<>(b.taskColumns));
        this.batchSize = b.batchSize;
        this.description = b.description;
    }

    /**
     * @param dataSource the warehouse's connections
     * @param dialect its dialect
     * @return a builder
     */
    public static Builder builder(DataSource dataSource, Dialect dialect) {
        Objects.requireNonNull(dataSource, "dataSource");
        return new Builder(Jdbi.create(dataSource), dialect, Redactor.redact(String.valueOf(dataSource)));
    }

    /**
     * @param jdbi a configured Jdbi over the warehouse
     * @param dialect its dialect
     * @return a builder
     */
    public static Builder builder(Jdbi jdbi, Dialect dialect) {
        return new Builder(Objects.requireNonNull(jdbi, "jdbi"), dialect, "jdbi sink");
    }

    @Override
    public SinkSession open(Task task, RowSchema schema) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(schema, "schema");
        Window window = task.window().orElseThrow(() -> new InvalidTaskException("task " + task.id()
                + " has scope " + task.scope() + " but a WindowSink writes window tasks only"));
        String table = target.render(task);
        List<Column> columns = target.targetColumns(schema, task, table);
        int timeIndex = -1;
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equalsIgnoreCase(timeColumn)) {
                timeIndex = i;
            }
        }
        if (timeIndex < 0) {
            throw new SinkException("task " + task.id() + ": the rows for " + table + " have no time column '"
                    + timeColumn + "' (columns " + columns + ")", null, false);
        }
        List<String> constants = new ArrayList<>();
        for (Map.Entry<String, String> e : taskColumns.entrySet()) {
            String value = task.parameters().get(e.getValue());
            if (value == null) {
                throw new InvalidTaskException("task " + task.id() + " lacks parameter '" + e.getValue()
                        + "' that fills column " + e.getKey() + " of " + table);
            }
            constants.add(value);
        }
        Handle handle;
        try {
            handle = jdbi.open();
        } catch (RuntimeException e) {
            throw new SinkException("cannot connect to the sink " + description + " for task " + task.id() + ": "
                    + Redactor.rootMessage(e), Redactor.sanitize(e), true);
        }
        Session session = new Session(task, table, handle, window, columns, timeIndex, constants);
        session.begin();
        return session;
    }

    /**
     * @param table the rendered table
     * @param window the window
     * @param constants the task column values
     * @return a 64-bit key naming this replace, for a database's advisory lock
     */
    static long lockKey(String table, Window window, List<String> constants) {
        StringBuilder sb = new StringBuilder(table.toUpperCase(Locale.ROOT)).append('\n').append(window);
        constants.forEach(c -> sb.append('\n').append(c.length()).append(':').append(c));
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(d).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }

    /**
     * @param connection a connection to the sink
     * @param task the task
     * @param table the rendered table
     * @param constants the task column values as the task carries them, in {@link #taskColumns} order
     * @return the values converted to their columns' types
     * @throws SQLException if the columns' types cannot be read
     * @throws SinkException (not retryable) if a value is not of its column's type
     */
    private List<Object> typedValues(Connection connection, Task task, String table, List<String> constants) throws SQLException {
        if (constants.isEmpty()) {
            return List.of();
        }
        List<Integer> types = taskColumnTypes.get(table);
        if (types == null) {
            List<Integer> read = new ArrayList<>();
            try (Statement s = connection.createStatement();
                 ResultSet rs = s.executeQuery("SELECT " + String.join(", ", taskColumns.keySet()) + " FROM " + table + " WHERE 1 = 0")) {
                ResultSetMetaData md = rs.getMetaData();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    read.add(md.getColumnType(i));
                }
            }
            types = List.copyOf(read);
            taskColumnTypes.putIfAbsent(table, types);
        }
        List<Object> values = new ArrayList<>(constants.size());
        int i = 0;
        for (Map.Entry<String, String> column : taskColumns.entrySet()) {
            String text = constants.get(i);
            int type = types.get(i);
            i++;
            try {
                values.add(TaskColumnValues.convert(text, type));
            } catch (IllegalArgumentException e) {
                throw new SinkException("task " + task.id() + ": parameter '" + column.getValue() + "' = '" + text
                        + "' cannot fill task column " + column.getKey() + " of " + table + ", of type "
                        + TaskColumnValues.name(type) + ": " + e.getMessage() + " (a configuration error: check "
                        + "taskColumn(\"" + column.getKey() + "\", \"" + column.getValue() + "\") against the table and "
                        + "the tasks' parameters)", e, false);
            }
        }
        return values;
    }

    @Override
    public String toString() {
        return "WindowSink[" + target.template() + " by " + timeColumn + " " + description + "]";
    }

    /** One task's replace of its window. See {@link AbstractJdbcSession} for the threading. */
    private final class Session extends AbstractJdbcSession {
        private final Window window;
        private final List<Column> columns;
        private final int timeIndex;
        private final List<String> constants;
        private BatchWriter writer;

        Session(Task task, String table, Handle handle, Window window, List<Column> columns, int timeIndex,
                List<String> constants) {
            super(task, table, handle);
            this.window = window;
            this.columns = columns;
            this.timeIndex = timeIndex;
            this.constants = constants;
        }

        void begin() {
            SinkException failed = null;
            lock.lock();
            try {
                handle.begin();
                List<Object> values = typedValues(handle.getConnection(), task, table, constants);
                String lock = dialect.windowLockSql();
                if (lock != null) {
                    // a redelivered task may run while its first delivery still writes: serialise the two, so the
                    // second's DELETE sees (and replaces) the first's committed rows instead of adding a copy
                    try (PreparedStatement ps = handle.getConnection().prepareStatement(lock)) {
                        publish(ps);
                        ps.setLong(1, lockKey(table, window, constants));
                        ps.execute();
                    }
                }
                StringBuilder delete = new StringBuilder("DELETE FROM ").append(table).append(" WHERE ")
                        .append(timeColumn).append(" >= ? AND ").append(timeColumn).append(" < ?");
                for (String c : taskColumns.keySet()) {
                    delete.append(" AND ").append(c).append(" = ?");
                }
                try (PreparedStatement ps = handle.getConnection().prepareStatement(delete.toString())) {
                    publish(ps);
                    ps.setObject(1, window.start());
                    ps.setObject(2, window.end());
                    for (int i = 0; i < values.size(); i++) {
                        ps.setObject(3 + i, values.get(i));
                    }
                    ps.executeUpdate();
                }
                writer = new BatchWriter(handle.getConnection(), table, columns, List.copyOf(taskColumns.keySet()),
                        values, batchSize, this::publish);
            } catch (SinkException e) {
                failed = e.retryable() ? failure("opening", e) : e;
            } catch (SQLException | RuntimeException e) {
                failed = failure("opening", e);
            } finally {
                lock.unlock();
            }
            if (failed != null) {
                abort();
                throw failed;
            }
        }

        @Override
        protected void writeRows(List<Row> rows) throws SQLException {
            for (Row row : rows) {
                Object t = row.get(timeIndex);
                if (!(t instanceof LocalDateTime time) || !window.contains(time)) {
                    throw new SinkException("task " + task.id() + ": a row for " + table + " has " + timeColumn + " = "
                            + t + ", outside the task's window [" + window.start() + ", " + window.end() + ")", null,
                            false);
                }
                writer.add(row);
            }
        }

        @Override
        protected void commitRows() throws SQLException {
            writer.flush();
            writer.close();
            handle.commit();
        }

        @Override
        protected void cleanUpAfterFailure() {
            if (writer != null) {
                writer.close();
            }
        }
    }

    /**
     * Builds a {@link WindowSink}. Not threadsafe; {@link #build()} copies the settings, so a builder may be
     * reused.
     */
    public static final class Builder {
        private final Jdbi jdbi;
        private final Dialect dialect;
        private final String description;
        private final TargetTable.Spec target = new TargetTable.Spec();
        private String timeColumn;
        private final Map<String, String> taskColumns = new LinkedHashMap<>();
        /** Rows per executed JDBC batch. */
        private int batchSize = 1_000;

        private Builder(Jdbi jdbi, Dialect dialect, String description) {
            this.jdbi = jdbi;
            this.dialect = Objects.requireNonNull(dialect, "dialect");
            this.description = description;
        }

        /**
         * @param table the target table, optionally qualified, may contain {@code ${key}} placeholders declared
         *              with {@link #identifier}
         * @return this builder
         */
        public Builder table(String table) {
            target.table(table);
            return this;
        }

        /**
         * @param key a placeholder of the table name, filled from the task parameter {@code key}
         * @param regex the values allowed, matched whole; values must also be plain identifiers
         * @return this builder
         */
        public Builder identifier(String key, String regex) {
            target.identifier(key, regex);
            return this;
        }

        /**
         * @param column the target column windows are over (e.g. {@code SAMPLE_TIME}); rows carry it as
         *               {@code LocalDateTime}
         * @return this builder
         */
        public Builder timeColumn(String column) {
            this.timeColumn = Identifiers.requireSimple(column, "time column");
            return this;
        }

        /**
         * @param column a target column filled with a task parameter's value and part of the replaced range
         * @param parameterKey the task parameter
         * @return this builder
         */
        public Builder taskColumn(String column, String parameterKey) {
            Identifiers.requireSimple(column, "task column");
            Names.requireParameter(parameterKey);
            if (taskColumns.putIfAbsent(column, parameterKey) != null) {
                throw new IllegalArgumentException("task column '" + column + "' is set twice");
            }
            return this;
        }

        /**
         * @param source a source column name (any case)
         * @param target the target column it is written to
         * @return this builder
         */
        public Builder rename(String source, String target) {
            this.target.rename(source, target);
            return this;
        }

        /**
         * @param rows rows per executed JDBC batch, at least 1 (default 1,000)
         * @return this builder
         */
        public Builder batchSize(int rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("batch size must be at least 1 but was " + rows);
            }
            this.batchSize = rows;
            return this;
        }

        /**
         * @return the sink
         * @throws IllegalStateException if the table or the time column is missing
         */
        public WindowSink build() {
            if (timeColumn == null) {
                throw new IllegalStateException("WindowSink needs the column windows are over: call timeColumn(…)");
            }
            return new WindowSink(this);
        }
    }
}
