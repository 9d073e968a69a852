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

import javax.sql.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A {@link Sink} into Snowflake through a stage: a session writes its rows to gzip-compressed CSV files in a
 * local spool directory ({@code part-00000.csv.gz}, …; see {@link CsvGzipWriter} for the format), and its commit
 * uploads them with {@code PUT} to {@code @STAGE/<prefix>/<table>/<task id>/} and loads them. Three modes:
 *
 * <ul>
 *   <li>{@link Builder#append() append} (default): {@code COPY INTO table … FILES = (…)}. The file names are
 *       derived from the task id and the files' bytes from the rows, so a retried task stages the same files
 *       under the same names; Snowflake's load history (64 days) skips a file it already loaded, and
 *       {@code PUT … OVERWRITE = FALSE} never replaces a staged file. A retry therefore cannot duplicate rows —
 *       provided the task's rows are the same on every attempt, as they are for closed windows of PeMS raw data.
 *       (If they may change, use {@link Builder#merge merge}.)</li>
 *   <li>{@link Builder#merge(String...) merge(keys)}: COPY into a session-scoped temporary table, then
 *       {@code MERGE INTO table USING it ON keys}: idempotent for keyed tables whatever the files.</li>
 *   <li>{@link Builder#snapshot() snapshot}: COPY into a staging table named after the task, check its row count
 *       against the rows the source handed over (and {@linkplain Builder#minimumRows the minimum}), then
 *       {@code ALTER TABLE … SWAP WITH table} (atomic); a failed load leaves the table untouched.</li>
 * </ul>
 *
 * <pre>{@code
 * Sink raw = SnowflakeSink.builder(snowflake)
 *     .table("RAW.DB96.VDS30SEC").stage("@RAW.DB96.RELAY_STAGE").spoolDirectory(Path.of("/var/spool/relay"))
 *     .filenameColumn("FILENAME").rename("LOOP1_VOL", "VOLUME_1")   // …
 *     .build();
 * }</pre>
 *
 * <p>The driver (snowflake-jdbc) is an optional dependency: this class speaks plain JDBC over the given data
 * source. A session holds no connection while rows are written; its commit takes one and returns it. This class
 * is immutable and threadsafe; each session belongs to one thread (except its {@code abort}).
 */
public final class SnowflakeSink implements Sink {

    /** A stage: {@code @name}, {@code @db.schema.name} or the user stage {@code @~}. */
    private static final Pattern STAGE = Pattern.compile("@(~|" + Identifiers.QUALIFIED.pattern() + ")");
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-]{1,64}){0,7}");

    enum Mode { APPEND, MERGE, SNAPSHOT }

    private final DataSource dataSource;
    private final TargetTable target;
    private final String stage;
    private final String prefix;
    private final Path spool;
    private final int rowsPerFile;
    private final String filenameColumn;
    private final Mode mode;
    private final List<String> keys;
    private final long minimumRows;
    private final String description;

    private SnowflakeSink(Builder b) {
        this.dataSource = b.dataSource;
        this.target = b.target.build("SnowflakeSink");
        this.stage = b.stage;
        this.prefix = b.prefix;
        this.spool = b.spool;
        this.rowsPerFile = b.rowsPerFile;
        this.filenameColumn = b.filenameColumn;
        this.mode = b.mode;
        this.keys = List.copyOf(b.keys);
        this.minimumRows = b.minimumRows;
        this.description = Redactor.redact(String.valueOf(b.dataSource));
    }

    /**
     * @param dataSource Snowflake connections (snowflake-jdbc)
     * @return a builder
     */
    public static Builder builder(DataSource dataSource) {
        return new Builder(Objects.requireNonNull(dataSource, "dataSource"));
    }

    @Override
    public SinkSession open(Task task, RowSchema schema) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(schema, "schema");
        if (mode == Mode.SNAPSHOT && task.snapshot().isEmpty()) {
            throw new InvalidTaskException("task " + task.id() + " has scope " + task.scope()
                    + " but this SnowflakeSink loads snapshots only");
        }
        String table = target.render(task);
        List<Column> columns = target.targetColumns(schema, task, table);
        for (String key : keys) {
            if (columns.stream().noneMatch(c -> c.name().equalsIgnoreCase(key))) {
                throw new SinkException("task " + task.id() + ": merge key " + key + " is not among the columns "
                        + columns + " of the rows for " + table, null, false);
            }
        }
        String stagePath = prefix + "/" + Dialect.unqualified(table).toLowerCase(Locale.ROOT) + "/" + task.id() + "/";
        SnowflakeStatements sql = new SnowflakeStatements(table, stage, stagePath, columns, filenameColumn);
        Path dir;
        try {
            Files.createDirectories(spool);
            dir = Files.createDirectory(spool.resolve(task.id() + "-" + UUID.randomUUID()));
        } catch (IOException e) {
            throw new SinkException("task " + task.id() + ": cannot create a spool directory under " + spool + ": "
                    + e, e, true);
        }
        return new Session(task, table, sql, dir);
    }

    @Override
    public String toString() {
        return "SnowflakeSink[" + mode + " " + target.template() + " via " + stage + " " + description + "]";
    }

    /**
     * One task's files and load. The worker thread writes files and commits under {@link #lock}; {@link #abort()}
     * from another thread sets the flag, cancels a running statement, then cleans up under the lock.
     */
    final class Session implements SinkSession {
        private final ReentrantLock lock = new ReentrantLock();
        private final Task task;
        private final String table;
        private final SnowflakeStatements sql;
        private final Path directory;
        private final CsvGzipWriter writer;
        private final List<String> executed = new ArrayList<>();
        private volatile boolean aborted;
        private volatile Statement running;
        /** Guarded by {@link #lock}. */
        private boolean finished;

        Session(Task task, String table, SnowflakeStatements sql, Path directory) {
            this.task = task;
            this.table = table;
            this.sql = sql;
            this.directory = directory;
            this.writer = new CsvGzipWriter(directory, rowsPerFile);
        }

        /** @return the statements run so far (for tests and diagnostics) */
        List<String> executed() {
            return List.copyOf(executed);
        }

        /** @return the session's local directory of part files */
        Path directory() {
            return directory;
        }

        @Override
        public void write(List<Row> rows) {
            lock.lock();
            try {
                requireOpen("write");
                for (Row row : rows) {
                    writer.write(row);
                }
            } catch (IOException e) {
                end();
                throw new SinkException("task " + task.id() + ": cannot write a part file under " + directory + ": "
                        + e, e, true);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void commit() {
            lock.lock();
            try {
                requireOpen("commit");
                List<CsvGzipWriter.StagedFile> files = writer.finish();
                try (Connection c = dataSource.getConnection()) {
                    load(c, files);
                } catch (SinkException e) {
                    throw e;
                } catch (SQLException | RuntimeException e) {
                    if (aborted) {
                        throw new SinkException("session of task " + task.id() + " into " + table + " was aborted",
                                null, true);
                    }
                    throw new SinkException("Snowflake load of task " + task.id() + " (" + task.source() + " "
                            + task.scope() + ") into " + table + " via " + sql.location() + " failed: "
                            + Redactor.rootMessage(e), Redactor.sanitize(e), true);
                }
            } catch (IOException e) {
                throw new SinkException("task " + task.id() + ": cannot finish a part file under " + directory + ": "
                        + e, e, true);
            } finally {
                end();
                lock.unlock();
            }
        }

        private void load(Connection c, List<CsvGzipWriter.StagedFile> files) throws SQLException {
            long rows = writer.rows();
            if (mode == Mode.SNAPSHOT && rows < minimumRows) {
                throw new SinkException("task " + task.id() + ": the snapshot has " + rows + " rows, fewer than the "
                        + minimumRows + " required for " + table + "; " + table + " is left as it was", null, false);
            }
            if (files.isEmpty() && mode != Mode.SNAPSHOT) {
                return; // an empty window: nothing to load
            }
            List<String> names = files.stream().map(CsvGzipWriter.StagedFile::name).toList();
            if (!files.isEmpty()) {
                execute(c, sql.put(directory));
            }
            switch (mode) {
                case APPEND:
                    for (String copy : sql.copies(table, names, false)) {
                        verify(execute(c, copy), files, false);
                    }
                    break;
                case MERGE: {
                    String temp = SnapshotSink.helperTable(table, task.id(), "RM");
                    try {
                        execute(c, sql.createTemporaryLike(temp));
                        for (String copy : sql.copies(temp, names, true)) {
                            verify(execute(c, copy), files, true);
                        }
                        execute(c, sql.merge(temp, keys));
                    } finally {
                        dropQuietly(c, temp);
                    }
                    break;
                }
                default: {
                    String stageTable = SnapshotSink.helperTable(table, task.id(), "RS");
                    boolean swapped = false;
                    try {
                        boolean exists = SnapshotSink.tableExists(c, Dialect.SNOWFLAKE, table);
                        execute(c, sql.createStage(stageTable, exists));
                        for (String copy : sql.copies(stageTable, names, true)) {
                            verify(execute(c, copy), files, true);
                        }
                        long staged = count(c, stageTable);
                        if (staged != rows) {
                            throw new SinkException("task " + task.id() + ": staging table " + stageTable + " holds "
                                    + staged + " rows but the source handed over " + rows + "; " + table
                                    + " is left as it was", null, true);
                        }
                        for (String s : Dialect.SNOWFLAKE.swap(stageTable, table, exists, null)) {
                            execute(c, s);
                        }
                        swapped = true;
                    } finally {
                        if (!swapped) {
                            dropQuietly(c, stageTable);
                        }
                    }
                }
            }
        }

        private List<Map<String, Object>> execute(Connection c, String statement) throws SQLException {
            if (aborted) {
                throw new SinkException("session of task " + task.id() + " into " + table + " was aborted", null, true);
            }
            executed.add(statement);
            try (Statement s = c.createStatement()) {
                running = s;
                List<Map<String, Object>> rows = new ArrayList<>();
                if (s.execute(statement)) {
                    try (ResultSet rs = s.getResultSet()) {
                        ResultSetMetaData md = rs.getMetaData();
                        while (rs.next()) {
                            Map<String, Object> row = new HashMap<>();
                            for (int i = 1; i <= md.getColumnCount(); i++) {
                                row.put(md.getColumnLabel(i).toLowerCase(Locale.ROOT), rs.getObject(i));
                            }
                            rows.add(row);
                        }
                    }
                }
                return rows;
            } finally {
                running = null;
            }
        }

        private long count(Connection c, String table) throws SQLException {
            List<Map<String, Object>> rows = execute(c, SnowflakeStatements.count(table));
            return ((Number) rows.get(0).values().iterator().next()).longValue();
        }

        /**
         * Checks COPY's per-file report. Files the report leaves out were skipped by the load history (loaded by
         * an earlier attempt); with FORCE every file must be reported.
         */
        private void verify(List<Map<String, Object>> report, List<CsvGzipWriter.StagedFile> files, boolean all) {
            Map<String, Long> expected = new HashMap<>();
            files.forEach(f -> expected.put(f.name(), f.rows()));
            int reported = 0;
            for (Map<String, Object> row : report) {
                Object file = row.get("file");
                if (file == null) {
                    continue; // "Copy executed with 0 files processed."
                }
                String name = file.toString().substring(file.toString().lastIndexOf('/') + 1);
                Object status = row.get("status");
                Object loaded = row.get("rows_loaded");
                Long want = expected.get(name);
                if (want == null || !"LOADED".equals(String.valueOf(status)) || !(loaded instanceof Number n)
                        || n.longValue() != want) {
                    throw new SinkException("task " + task.id() + ": COPY into " + table + " reported " + file + " as "
                            + status + " with " + loaded + " rows (expected LOADED with " + want + "): "
                            + Redactor.redact(String.valueOf(row.get("first_error"))), null, true);
                }
                reported++;
            }
            if (all && reported != files.size()) {
                throw new SinkException("task " + task.id() + ": COPY into " + table + " loaded " + reported + " of "
                        + files.size() + " files", null, true);
            }
        }

        private void dropQuietly(Connection c, String table) {
            try {
                execute(c, SnowflakeStatements.drop(table));
            } catch (SQLException | RuntimeException ignored) {
                // best effort; a temporary table ends with the session, a staging table is replaced next time
            }
        }

        @Override
        public void abort() {
            aborted = true;
            Statement s = running;
            if (s != null) {
                try {
                    s.cancel();
                } catch (SQLException | RuntimeException ignored) {
                    // finished already
                }
            }
            lock.lock();
            try {
                end();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
            abort();
        }

        private void requireOpen(String what) {
            if (finished || aborted) {
                end();
                throw new SinkException("cannot " + what + ": the session of task " + task.id() + " into " + table
                        + (aborted ? " was aborted" : " has ended"), null, true);
            }
        }

        /** Ends the session once and deletes its local files; must hold the lock. */
        private void end() {
            if (finished) {
                return;
            }
            finished = true;
            writer.close();
            try (Stream<Path> paths = Files.walk(directory)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (IOException | UncheckedIOException ignored) {
                // a leftover spool directory is harmless; the next session uses a new one
            }
        }
    }

    /**
     * Builds a {@link SnowflakeSink}. Not threadsafe; {@link #build()} copies the settings, so a builder may be
     * reused.
     */
    public static final class Builder {
        private final DataSource dataSource;
        private final TargetTable.Spec target = new TargetTable.Spec();
        private String stage;
        private String prefix = "relay";
        private Path spool;
        /** Rows per staged file; Snowflake loads files in parallel, 100-250 MB compressed is its sweet spot. */
        private int rowsPerFile = 500_000;
        private String filenameColumn;
        private Mode mode = Mode.APPEND;
        private final List<String> keys = new ArrayList<>();
        private long minimumRows;

        private Builder(DataSource dataSource) {
            this.dataSource = dataSource;
        }

        /**
         * @param table the target table, optionally qualified ({@code DB.SCHEMA.TABLE}), may contain
         *              {@code ${key}} placeholders declared with {@link #identifier}
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
         * @param target the target column it is loaded into
         * @return this builder
         */
        public Builder rename(String source, String target) {
            this.target.rename(source, target);
            return this;
        }

        /**
         * @param stage a named stage ({@code @DB.SCHEMA.STAGE}) or {@code @~}
         * @return this builder
         */
        public Builder stage(String stage) {
            Objects.requireNonNull(stage, "stage");
            String s = stage.startsWith("@") ? stage : "@" + stage;
            if (!STAGE.matcher(s).matches()) {
                throw new IllegalArgumentException("stage '" + Names.printable(stage) + "' is not @~ or a plain, "
                        + "optionally qualified stage name");
            }
            this.stage = s;
            return this;
        }

        /**
         * @param prefix the directory on the stage under which each table and task gets its own (default
         *               {@code relay}); letters, digits, '_', '-' and '/'
         * @return this builder
         */
        public Builder stagePrefix(String prefix) {
            Objects.requireNonNull(prefix, "stagePrefix");
            if (!PREFIX.matcher(prefix).matches()) {
                throw new IllegalArgumentException("stage prefix '" + Names.printable(prefix) + "' must match "
                        + PREFIX.pattern());
            }
            this.prefix = prefix;
            return this;
        }

        /**
         * @param directory a local directory for the part files of open sessions (created if missing); each
         *                  session uses its own subdirectory and deletes it when it ends
         * @return this builder
         */
        public Builder spoolDirectory(Path directory) {
            Objects.requireNonNull(directory, "spoolDirectory");
            String text = directory.toAbsolutePath().toString();
            if (text.contains("'") || text.chars().anyMatch(ch -> ch < 0x20)) {
                throw new IllegalArgumentException("spool directory '" + Names.printable(text)
                        + "' must not contain quotes or control characters (it appears in PUT)");
            }
            this.spool = directory.toAbsolutePath();
            return this;
        }

        /**
         * @param rows the most rows per staged file, at least 1 (default 500,000)
         * @return this builder
         */
        public Builder rowsPerFile(int rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("rows per file must be at least 1 but was " + rows);
            }
            this.rowsPerFile = rows;
            return this;
        }

        /**
         * @param column a target column that receives the staged file's name ({@code METADATA$FILENAME}), like
         *               {@code RAW.DB96.VDS30SEC.FILENAME}
         * @return this builder
         */
        public Builder filenameColumn(String column) {
            this.filenameColumn = Identifiers.requireSimple(column, "file name column");
            return this;
        }

        /** @return this builder, loading with COPY and relying on the load history (the default) */
        public Builder append() {
            this.mode = Mode.APPEND;
            this.keys.clear();
            return this;
        }

        /**
         * @param keyColumns the target's key columns
         * @return this builder, loading with MERGE on the keys
         */
        public Builder merge(String... keyColumns) {
            if (keyColumns.length == 0) {
                throw new IllegalArgumentException("merge needs at least one key column");
            }
            keys.clear();
            for (String k : keyColumns) {
                keys.add(Identifiers.requireSimple(k, "merge key"));
            }
            this.mode = Mode.MERGE;
            return this;
        }

        /** @return this builder, replacing the whole table with each snapshot task (staging table and SWAP) */
        public Builder snapshot() {
            this.mode = Mode.SNAPSHOT;
            this.keys.clear();
            return this;
        }

        /**
         * @param rows for {@link #snapshot()}: the fewest rows a snapshot must have to replace the table
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
         * @throws IllegalStateException if the table, the stage or the spool directory is missing
         */
        public SnowflakeSink build() {
            if (stage == null) {
                throw new IllegalStateException("SnowflakeSink needs a stage: call stage(\"@DB.SCHEMA.STAGE\")");
            }
            if (spool == null) {
                throw new IllegalStateException("SnowflakeSink needs a local spool directory: call spoolDirectory(…)");
            }
            if (minimumRows > 0 && mode != Mode.SNAPSHOT) {
                throw new IllegalStateException("minimumRows(" + minimumRows + ") applies to snapshot() only");
            }
            return new SnowflakeSink(this);
        }
    }
}
