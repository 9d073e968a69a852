package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.InvalidTaskException;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;

/**
 * A {@link Sink} for snapshot tasks (daily config tables): it loads the rows into a staging table named after
 * the task id, checks that the staging table holds exactly the rows the source handed over (and at least
 * {@linkplain Builder#minimumRows the minimum}), then swaps it in for the target.
 *
 * <pre>{@code
 * Sink configs = SnapshotSink.builder(warehouse, Dialect.POSTGRESQL)
 *     .table("pems.${table}").identifier("table", "(CONTROLLER|DETECTOR|STATION)_CONFIG(_LOG)?")
 *     .minimumRows(1).build();
 * }</pre>
 *
 * <p>A load that fails, is aborted or fails its row-count check leaves the previous table untouched, and a
 * staging table left behind by a crashed attempt is dropped, never appended to: a re-run can never multiply
 * rows. The swap is a rename: in one transaction on PostgreSQL (atomic); on H2 and Oracle, whose DDL commits
 * by itself, the renames run back to back, so a reader may briefly find the table missing but never half
 * loaded. The staging table copies the target's columns ({@code LIKE}) when the target exists and is created
 * from the row schema otherwise. Indexes, grants and constraints beyond what {@code LIKE} copies are not
 * carried over.
 *
 * <p>This class is immutable and threadsafe; each session belongs to one thread (except its {@code abort}).
 */
public final class SnapshotSink implements Sink {

    /** Hex characters of the task id in staging table names (48 bits: collisions are not a concern). */
    static final int ID_CHARS = 12;

    private final Jdbi jdbi;
    private final Dialect dialect;
    private final TargetTable target;
    private final int batchSize;
    private final long minimumRows;
    private final String description;

    private SnapshotSink(Builder b) {
        this.jdbi = b.jdbi;
        this.dialect = b.dialect;
        this.target = b.target.build("SnapshotSink");
        this.batchSize = b.batchSize;
        this.minimumRows = b.minimumRows;
        this.description = b.description;
    }

    /**
     * @param dataSource the warehouse's connections
     * @param dialect its dialect (PostgreSQL, H2 or Oracle)
     * @return a builder
     */
    public static Builder builder(DataSource dataSource, Dialect dialect) {
        Objects.requireNonNull(dataSource, "dataSource");
        return new Builder(Jdbi.create(dataSource), dialect, Redactor.redact(String.valueOf(dataSource)));
    }

    /**
     * @param jdbi a configured Jdbi over the warehouse
     * @param dialect its dialect (PostgreSQL, H2 or Oracle)
     * @return a builder
     */
    public static Builder builder(Jdbi jdbi, Dialect dialect) {
        return new Builder(Objects.requireNonNull(jdbi, "jdbi"), dialect, "jdbi sink");
    }

    /**
     * @param table the qualified target table
     * @param taskId the task id
     * @param tag "RS" for the staging table, "RO" for the old table during a swap
     * @return the helper table's qualified name, in the target's schema
     */
    static String helperTable(String table, String taskId, String tag) {
        String name = table + "_" + tag + "_" + taskId.substring(0, ID_CHARS);
        if (Dialect.unqualified(name).length() > 63) {
            throw new IllegalArgumentException("table name '" + Dialect.unqualified(table) + "' is too long for a "
                    + "staging table name (at most " + (63 - ID_CHARS - 4) + " characters)");
        }
        return name;
    }

    @Override
    public SinkSession open(Task task, RowSchema schema) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(schema, "schema");
        if (task.snapshot().isEmpty()) {
            throw new InvalidTaskException("task " + task.id() + " has scope " + task.scope()
                    + " but a SnapshotSink writes snapshot tasks only");
        }
        String table = target.render(task);
        String stage;
        String old;
        try {
            stage = helperTable(table, task.id(), "RS");
            old = helperTable(table, task.id(), "RO");
        } catch (IllegalArgumentException e) {
            throw new InvalidTaskException("task " + task.id() + ": " + e.getMessage(), e);
        }
        List<Column> columns = target.targetColumns(schema, task, table);
        Handle handle;
        try {
            handle = jdbi.open();
        } catch (RuntimeException e) {
            throw new SinkException("cannot connect to the sink " + description + " for task " + task.id() + ": "
                    + Redactor.rootMessage(e), Redactor.sanitize(e), true);
        }
        Session session = new Session(task, table, handle, stage, old, columns);
        session.begin();
        return session;
    }

    /**
     * @param connection a connection
     * @param dialect its dialect
     * @param qualified a possibly qualified table name
     * @return whether the table exists
     * @throws SQLException if the catalog cannot be read
     */
    static boolean tableExists(Connection connection, Dialect dialect, String qualified) throws SQLException {
        String schema = Dialect.qualifier(qualified);
        String catalog = schema == null ? null : Dialect.qualifier(schema);
        String name = dialect.fold(Dialect.unqualified(qualified));
        String schemaPattern = schema == null ? connection.getSchema() : dialect.fold(Dialect.unqualified(schema));
        DatabaseMetaData md = connection.getMetaData();
        try (ResultSet rs = md.getTables(catalog == null ? null : dialect.fold(catalog), escape(schemaPattern, md),
                escape(name, md), null)) {
            while (rs.next()) {
                if (name.equals(rs.getString("TABLE_NAME"))) {
                    return true;
                }
            }
            return false;
        }
    }

    private static String escape(String pattern, DatabaseMetaData md) throws SQLException {
        if (pattern == null) {
            return null;
        }
        String esc = md.getSearchStringEscape();
        return esc == null || esc.isEmpty() ? pattern : pattern.replace("_", esc + "_");
    }

    @Override
    public String toString() {
        return "SnapshotSink[" + target.template() + " " + description + "]";
    }

    /** One task's staged load and swap. See {@link AbstractJdbcSession} for the threading. */
    private final class Session extends AbstractJdbcSession {
        private final String stage;
        private final String old;
        private final List<Column> columns;
        private BatchWriter writer;
        private boolean targetExists;

        Session(Task task, String table, Handle handle, String stage, String old, List<Column> columns) {
            super(task, table, handle);
            this.stage = stage;
            this.old = old;
            this.columns = columns;
        }

        void begin() {
            SinkException failed = null;
            lock.lock();
            try {
                Connection c = handle.getConnection();
                // a staging table of an earlier, crashed attempt of this task is dropped, never appended to
                execute(c, dialect.dropTableIfExists(stage));
                targetExists = tableExists(c, dialect, table);
                execute(c, targetExists ? dialect.createTableLike(stage, table) : createFromSchema());
                handle.begin();
                writer = new BatchWriter(c, stage, columns, List.of(), List.of(), batchSize, this::publish);
            } catch (SQLException | RuntimeException e) {
                failed = failure("creating the staging table " + stage + " for", e);
            } finally {
                lock.unlock();
            }
            if (failed != null) {
                abort();
                throw failed;
            }
        }

        private String createFromSchema() {
            StringBuilder sql = new StringBuilder("CREATE TABLE ").append(stage).append(" (");
            for (int i = 0; i < columns.size(); i++) {
                Column c = columns.get(i);
                sql.append(i == 0 ? "" : ", ").append(c.name()).append(' ').append(dialect.sqlType(c));
            }
            return sql.append(')').toString();
        }

        private void execute(Connection c, String sql) throws SQLException {
            try (Statement s = c.createStatement()) {
                publish(s);
                s.execute(sql);
            }
        }

        @Override
        protected void writeRows(List<Row> rows) throws SQLException {
            for (Row row : rows) {
                writer.add(row);
            }
        }

        @Override
        protected void commitRows() throws SQLException {
            writer.flush();
            writer.close();
            handle.commit();
            Connection c = handle.getConnection();
            long staged;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + stage)) {
                rs.next();
                staged = rs.getLong(1);
            }
            if (staged != writer.rows()) {
                throw new SinkException("task " + task.id() + ": staging table " + stage + " holds " + staged
                        + " rows but the source handed over " + writer.rows() + "; " + table + " is left as it was",
                        null, true);
            }
            if (staged < minimumRows) {
                throw new SinkException("task " + task.id() + ": the snapshot has " + staged + " rows, fewer than the "
                        + minimumRows + " required for " + table + "; " + table + " is left as it was", null, false);
            }
            List<String> swap = dialect.swap(stage, table, targetExists, old);
            if (dialect.transactionalDdl()) {
                handle.begin();
            } else if (targetExists) {
                execute(c, dialect.dropTableIfExists(old));
            }
            for (String sql : swap) {
                execute(c, sql);
            }
            if (dialect.transactionalDdl()) {
                handle.commit();
            }
        }

        @Override
        protected void cleanUpAfterFailure() {
            if (writer != null) {
                writer.close();
            }
            try (Statement s = handle.getConnection().createStatement()) {
                Connection c = handle.getConnection();
                if (!c.getAutoCommit()) {
                    c.setAutoCommit(true);
                }
                if (!dialect.transactionalDdl() && targetExists && !tableExists(c, dialect, table)
                        && tableExists(c, dialect, old)) {
                    // a swap of non-transactional DDL failed between its renames: put the old table back
                    s.execute("ALTER TABLE " + old + " RENAME TO " + Dialect.unqualified(table));
                }
                s.execute(dialect.dropTableIfExists(stage));
            } catch (SQLException | RuntimeException ignored) {
                // best effort: the next attempt of this task drops the staging table before loading
            }
        }
    }

    /**
     * Builds a {@link SnapshotSink}. Not threadsafe; {@link #build()} copies the settings, so a builder may be
     * reused.
     */
    public static final class Builder {
        private final Jdbi jdbi;
        private final Dialect dialect;
        private final String description;
        private final TargetTable.Spec target = new TargetTable.Spec();
        /** Rows per executed JDBC batch. */
        private int batchSize = 1_000;
        /** Fewest rows a snapshot may have to replace the table. */
        private long minimumRows;

        private Builder(Jdbi jdbi, Dialect dialect, String description) {
            this.jdbi = jdbi;
            this.dialect = Objects.requireNonNull(dialect, "dialect");
            this.description = description;
        }

        /**
         * @param table the target table, optionally qualified, may contain {@code ${key}} placeholders
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
         * @param rows the fewest rows a snapshot must have to replace the table, at least 0 (default 0); a
         *             smaller snapshot fails without retry and leaves the table as it was
         * @return this builder
         */
        public Builder minimumRows(long rows) {
            if (rows < 0) {
                throw new IllegalArgumentException("minimum rows must be at least 0 but was " + rows);
            }
            this.minimumRows = rows;
            return this;
        }

        /**
         * @return the sink
         * @throws IllegalStateException if the table is missing
         * @throws IllegalArgumentException if the dialect is Snowflake (use {@link SnowflakeSink})
         */
        public SnapshotSink build() {
            if (dialect == Dialect.SNOWFLAKE) {
                throw new IllegalArgumentException("SnapshotSink speaks JDBC DML; for Snowflake use SnowflakeSink"
                        + " with snapshot()");
            }
            return new SnapshotSink(this);
        }
    }
}
