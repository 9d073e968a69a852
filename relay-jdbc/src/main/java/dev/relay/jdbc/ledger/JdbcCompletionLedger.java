package dev.relay.jdbc.ledger;

import dev.relay.api.PlanningLedger;
import dev.relay.api.RelayException;
import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.List;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A {@link PlanningLedger} in one table of a relational database, over Jdbi.
 *
 * <p><b>Table.</b> One row per task id:
 * <pre>
 *   task_id       VARCHAR(32)   primary key ({@link Task#id()})
 *   series        VARCHAR(2000) {@link SeriesKey#canonical()}, e.g. vds30sec;district=7
 *   source        VARCHAR(128)  the task's source
 *   window_start  TIMESTAMP     source-local window start (null for snapshots)
 *   window_end    TIMESTAMP     source-local window end, excluded (null for snapshots)
 *   snapshot_day  DATE          the snapshot's day (null for windows)
 *   rows_written  NUMERIC(19)   rows the sink committed (null until completed)
 *   planned_at    TIMESTAMP     UTC, last time a planner marked the task planned (may be null)
 *   completed_at  TIMESTAMP     UTC, first completion (null until completed)
 *   index (series, window_start)
 * </pre>
 * {@link #createTableIfNotExists()} creates it on databases that know {@code CREATE TABLE IF NOT EXISTS}
 * (PostgreSQL, H2); {@link #ddl()} gives the statements to run by hand elsewhere (Oracle). The column types
 * are ANSI types that Oracle, PostgreSQL and H2 all accept (no {@code BIGINT}, which Oracle lacks). Source-local
 * times are bound as {@link LocalDateTime} ({@code setObject}), never through {@link java.sql.Timestamp}, so a
 * window inside the JVM zone's spring gap is stored as it is.
 *
 * <p><b>Idempotence without dialects.</b> {@link #recordCompleted} runs
 * {@code UPDATE … WHERE task_id = ? AND completed_at IS NULL}; if that changed no row and the task is not
 * completed already, it {@code INSERT}s, and if a concurrent writer inserted first (a unique-key violation,
 * SQLState class 23) it repeats the update, which then completes the other writer's row or finds it
 * completed. A row only ever goes from absent to present and from not completed to completed, and each
 * statement is atomic on its own, so any interleaving of writers leaves one row with the first completion. The same scheme serves
 * {@link #recordPlanned}, which keeps the latest mark.
 *
 * <p>Failures surface as retryable {@link RelayException}s naming the table and the task.
 *
 * <p>This class is threadsafe: it keeps no mutable state; each call uses its own Jdbi handle.
 */
public final class JdbcCompletionLedger implements PlanningLedger {

    /** The table name unless configured. */
    public static final String DEFAULT_TABLE = "relay_completion_ledger";

    /** Table names: an unquoted identifier, optionally schema-qualified, at most 63 characters each. */
    public static final Pattern TABLE_NAME = Pattern.compile("([A-Za-z_][A-Za-z0-9_]{0,62}\\.)?[A-Za-z_][A-Za-z0-9_]{0,62}");

    private final Jdbi jdbi;
    private final String table;
    private final String indexName;
    private final Clock clock;

    private JdbcCompletionLedger(Jdbi jdbi, String table, Clock clock) {
        this.jdbi = jdbi;
        this.table = table;
        int dot = table.indexOf('.');
        this.indexName = (dot < 0 ? table : table.substring(dot + 1)) + "_series";
        this.clock = clock;
    }

    /**
     * @param jdbi the Jdbi over the ledger's database
     * @return a builder with table {@value #DEFAULT_TABLE} and the system UTC clock
     */
    public static Builder builder(Jdbi jdbi) {
        return new Builder(jdbi);
    }

    /** @return the (validated) table name */
    public String table() {
        return table;
    }

    /**
     * The statements that create the table and its index, for databases without {@code IF NOT EXISTS}.
     *
     * @return the DDL, one statement per element, without trailing semicolons
     */
    public List<String> ddl() {
        return List.of("CREATE TABLE " + table + " (" + columns() + ")",
                "CREATE INDEX " + indexName + " ON " + table + " (series, window_start)");
    }

    /**
     * Creates the table and its index unless they exist (PostgreSQL, H2).
     *
     * @throws RelayException if the statements fail
     */
    public void createTableIfNotExists() {
        run("create the ledger table", h -> {
            h.execute("CREATE TABLE IF NOT EXISTS " + table + " (" + columns() + ")");
            h.execute("CREATE INDEX IF NOT EXISTS " + indexName + " ON " + table + " (series, window_start)");
            return null;
        });
    }

    private static String columns() {
        return "task_id VARCHAR(32) NOT NULL PRIMARY KEY, series VARCHAR(2000) NOT NULL, source VARCHAR(128) NOT NULL, "
                + "window_start TIMESTAMP, window_end TIMESTAMP, snapshot_day DATE, rows_written NUMERIC(19), "
                + "planned_at TIMESTAMP, completed_at TIMESTAMP";
    }

    @Override
    public void recordCompleted(Task task, long rows) {
        Objects.requireNonNull(task, "task");
        LocalDateTime now = utc(clock.instant());
        String update = "UPDATE " + table + " SET completed_at = :at, rows_written = :rows WHERE task_id = :id AND completed_at IS NULL";
        run("record " + task + " completed", h -> {
            if (h.createUpdate(update).bind("at", timestamp(now)).bind("rows", rows).bind("id", task.id()).execute() > 0) {
                return null;
            }
            if (completed(h, task.id())) {
                return null; // completed before: the first completion stands
            }
            try {
                insert(h, task, null, now, rows);
            } catch (UnableToExecuteStatementException e) {
                if (!isUniqueViolation(e)) {
                    throw e;
                }
                // a concurrent writer inserted the row first: complete it unless it is already completed
                h.createUpdate(update).bind("at", timestamp(now)).bind("rows", rows).bind("id", task.id()).execute();
            }
            return null;
        });
    }

    @Override
    public void recordPlanned(Task task, Instant at) {
        Objects.requireNonNull(task, "task");
        LocalDateTime when = utc(Objects.requireNonNull(at, "at"));
        String update = "UPDATE " + table + " SET planned_at = :at WHERE task_id = :id";
        run("record " + task + " planned", h -> {
            if (h.createUpdate(update).bind("at", timestamp(when)).bind("id", task.id()).execute() > 0) {
                return null;
            }
            try {
                insert(h, task, when, null, null);
            } catch (UnableToExecuteStatementException e) {
                if (!isUniqueViolation(e)) {
                    throw e;
                }
                h.createUpdate(update).bind("at", timestamp(when)).bind("id", task.id()).execute();
            }
            return null;
        });
    }

    /** The longest {@link SeriesKey#canonical()} the {@code series} column holds. */
    public static final int MAX_SERIES_LENGTH = 2000;

    private void insert(Handle h, Task task, LocalDateTime plannedAt, LocalDateTime completedAt, Long rows) {
        String series = SeriesKey.of(task).canonical();
        if (series.length() > MAX_SERIES_LENGTH) {
            // retrying would not help: fail the task for good, naming the series
            throw new RelayException("completion ledger (table " + table + ") cannot hold series key of " + series.length()
                    + " chars (at most " + MAX_SERIES_LENGTH + "): " + dev.relay.api.Names.printable(series), false);
        }
        Optional<Window> w = task.window();
        h.createUpdate("INSERT INTO " + table + " (task_id, series, source, window_start, window_end, snapshot_day, "
                        + "rows_written, planned_at, completed_at) VALUES (:id, :series, :source, :start, :end, :day, :rows, :planned, :completed)")
                .bind("id", task.id())
                .bind("series", series)
                .bind("source", task.source())
                .bind("start", timestamp(w.map(Window::start).orElse(null)))
                .bind("end", timestamp(w.map(Window::end).orElse(null)))
                .bind("day", date(task.snapshot().map(s -> s.asOf()).orElse(null)))
                .bind("rows", rows == null ? nullOf(Types.NUMERIC) : (p, st, c) -> st.setLong(p, rows))
                .bind("planned", timestamp(plannedAt))
                .bind("completed", timestamp(completedAt))
                .execute();
    }

    private boolean completed(Handle h, String taskId) {
        return h.createQuery("SELECT COUNT(*) FROM " + table + " WHERE task_id = :id AND completed_at IS NOT NULL")
                .bind("id", taskId).mapTo(Long.class).one() > 0;
    }

    @Override
    public boolean isCompleted(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return run("read task " + taskId, h -> completed(h, taskId));
    }

    @Override
    public NavigableSet<Window> completedWindows(SeriesKey series, Window range) {
        Objects.requireNonNull(series, "series");
        Objects.requireNonNull(range, "range");
        List<Window> windows = run("read completed windows of " + series + " in " + range, h -> h.createQuery(
                        "SELECT window_start, window_end FROM " + table + " WHERE series = :series AND completed_at IS NOT NULL"
                                + " AND window_start >= :from AND window_start < :to ORDER BY window_start, window_end")
                .bind("series", series.canonical())
                .bind("from", timestamp(range.start()))
                .bind("to", timestamp(range.end()))
                .map((rs, ctx) -> new Window(rs.getObject(1, LocalDateTime.class), rs.getObject(2, LocalDateTime.class)))
                .list());
        return Collections.unmodifiableNavigableSet(new TreeSet<>(windows));
    }

    @Override
    public long countCompleted(SeriesKey series, Window range) {
        Objects.requireNonNull(series, "series");
        Objects.requireNonNull(range, "range");
        return run("count completed windows of " + series + " in " + range, h -> h.createQuery(
                        "SELECT COUNT(*) FROM " + table + " WHERE series = :series AND completed_at IS NOT NULL"
                                + " AND window_start >= :from AND window_start < :to")
                .bind("series", series.canonical())
                .bind("from", timestamp(range.start()))
                .bind("to", timestamp(range.end()))
                .mapTo(Long.class).one());
    }

    @Override
    public Optional<Instant> plannedAt(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return run("read task " + taskId, h -> h.createQuery("SELECT planned_at FROM " + table + " WHERE task_id = :id")
                .bind("id", taskId)
                .map((rs, ctx) -> Optional.ofNullable(rs.getObject(1, LocalDateTime.class)))
                .findOne()
                .flatMap(Function.identity())
                .map(t -> t.toInstant(ZoneOffset.UTC)));
    }

    private <T> T run(String what, Function<Handle, T> body) {
        try {
            return jdbi.withHandle(body::apply);
        } catch (JdbiException e) {
            throw new RelayException("completion ledger (table " + table + ") could not " + what + ": " + e.getMessage(), e, true);
        }
    }

    static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("23")) {
                return true;
            }
        }
        return false;
    }

    private static LocalDateTime utc(Instant instant) {
        return LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    private static Argument timestamp(LocalDateTime value) {
        return value == null ? nullOf(Types.TIMESTAMP) : (p, st, c) -> st.setObject(p, value);
    }

    private static Argument date(LocalDate value) {
        return value == null ? nullOf(Types.DATE) : (p, st, c) -> st.setObject(p, value);
    }

    private static Argument nullOf(int sqlType) {
        return (p, st, c) -> st.setNull(p, sqlType);
    }

    @Override
    public String toString() {
        return "JdbcCompletionLedger[" + table + "]";
    }

    /** Builds a {@link JdbcCompletionLedger}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private final Jdbi jdbi;
        private String table = DEFAULT_TABLE;
        private Clock clock = Clock.systemUTC();

        private Builder(Jdbi jdbi) {
            this.jdbi = Objects.requireNonNull(jdbi, "jdbi");
        }

        /**
         * @param table the table name, matching {@link #TABLE_NAME} (e.g. {@code relay.completion_ledger})
         * @return this builder
         * @throws IllegalArgumentException naming the value if it is not a plain identifier
         */
        public Builder table(String table) {
            Objects.requireNonNull(table, "table");
            if (!TABLE_NAME.matcher(table).matches()) {
                throw new IllegalArgumentException("ledger table name '" + dev.relay.api.Names.printable(table)
                        + "' is not an unquoted identifier (optionally schema-qualified) matching " + TABLE_NAME.pattern());
            }
            this.table = table;
            return this;
        }

        /**
         * @param clock the clock that stamps completions and planned marks; {@link Clock#systemUTC()} unless set
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** @return the ledger (the table is not touched until used or {@link #createTableIfNotExists()}) */
        public JdbcCompletionLedger build() {
            return new JdbcCompletionLedger(jdbi, table, clock);
        }
    }
}
