package dev.relay.jdbc;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.Names;
import dev.relay.api.PullException;
import dev.relay.api.Puller;
import dev.relay.api.RowCursor;
import dev.relay.api.Task;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import javax.sql.DataSource;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A {@link Puller} over JDBC (through Jdbi) that streams the rows of registered {@link SourceQuery source
 * queries} in bounded chunks.
 *
 * <pre>{@code
 * Puller puller = JdbcPuller.builder(oracleDataSource, Dialect.ORACLE)
 *     .query(SourceQuery.window("vds30sec",
 *             "SELECT * FROM ${district}.VDS30SEC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end")
 *         .identifier("district", "D(3|4|5|6|7|8|10|11|12)").build())
 *     .fetchSize(5_000).chunkSize(1_000).queryTimeout(Duration.ofMinutes(5))
 *     .build();
 * }</pre>
 *
 * <p>Each {@link #open(Task) open} takes one connection from the data source and holds it until the cursor is
 * closed; the query runs on the cursor's first {@link RowCursor#schema() schema()} or
 * {@link RowCursor#next() next()} call, so a {@link RowCursor#cancel() cancel} from another thread can stop
 * even a query that has not returned its first row. Memory per cursor is bounded by the fetch size (rows the
 * driver holds) plus the chunk size (rows handed out at once). With {@link Dialect#POSTGRESQL} the pull runs in
 * a read-only transaction, because only then does that driver honour the fetch size.
 *
 * <p>Errors: an unknown source, a scope of the wrong kind, a missing or malformed parameter or identifier is an
 * {@link InvalidTaskException}; a source failure, a timeout or a cancellation is a retryable
 * {@link PullException} naming the task. Messages and attached causes never carry credentials: driver messages
 * and the data source's description are redacted.
 *
 * <p>This class is immutable and threadsafe; each cursor is used by one thread (except its {@code cancel}).
 */
public final class JdbcPuller implements Puller {

    private final Jdbi jdbi;
    private final Dialect dialect;
    private final Map<String, SourceQuery> queries;
    private final int fetchSize;
    private final int chunkSize;
    private final int queryTimeoutSeconds;
    private final String description;

    private JdbcPuller(Builder b) {
        this.jdbi = b.jdbi;
        this.dialect = b.dialect;
        this.queries = Collections.unmodifiableMap(new LinkedHashMap<>(b.queries));
        this.fetchSize = b.fetchSize;
        this.chunkSize = b.chunkSize;
        this.queryTimeoutSeconds = (int) b.queryTimeout.toSeconds();
        this.description = b.description;
    }

    /**
     * @param dataSource where the source's connections come from
     * @param dialect the source's dialect
     * @return a builder
     */
    public static Builder builder(DataSource dataSource, Dialect dialect) {
        Objects.requireNonNull(dataSource, "dataSource");
        return new Builder(Jdbi.create(dataSource), dialect, Redactor.redact(String.valueOf(dataSource)));
    }

    /**
     * @param jdbi a configured Jdbi over the source
     * @param dialect the source's dialect
     * @return a builder
     */
    public static Builder builder(Jdbi jdbi, Dialect dialect) {
        Objects.requireNonNull(jdbi, "jdbi");
        return new Builder(jdbi, dialect, "jdbi source");
    }

    @Override
    public RowCursor open(Task task) {
        Objects.requireNonNull(task, "task");
        SourceQuery query = queries.get(task.source());
        if (query == null) {
            throw new InvalidTaskException("task " + task.id() + " names source '" + Names.printable(task.source())
                    + "', which is not registered (registered: " + queries.keySet() + ")");
        }
        SourceQuery.Rendered rendered = query.render(task);
        Handle handle;
        try {
            handle = jdbi.open();
        } catch (RuntimeException e) {
            throw new PullException("cannot connect to the source " + description + " for task " + describe(task)
                    + ": " + Redactor.rootMessage(e), Redactor.sanitize(e));
        }
        return new JdbcRowCursor(task, describe(task), description, dialect, handle, rendered, fetchSize, chunkSize,
                queryTimeoutSeconds);
    }

    private static String describe(Task task) {
        return task.id() + " (" + task.source() + " " + task.scope() + ")";
    }

    /** @return the registered source names */
    public Set<String> sources() {
        return queries.keySet();
    }

    @Override
    public String toString() {
        return "JdbcPuller[" + dialect + " " + description + " " + queries.keySet() + "]";
    }

    /**
     * Builds a {@link JdbcPuller}. Not threadsafe; {@link #build()} copies the settings, so a builder may be
     * reused.
     */
    public static final class Builder {
        private final Jdbi jdbi;
        private final Dialect dialect;
        private final String description;
        private final Map<String, SourceQuery> queries = new LinkedHashMap<>();
        /** Rows the driver fetches per round trip; bounds the driver's buffer. */
        private int fetchSize = 1_000;
        /** Rows per {@code next()} chunk; bounds what the caller holds at once. */
        private int chunkSize = 1_000;
        /** Longest a single query may run; zero for no limit. */
        private Duration queryTimeout = Duration.ofMinutes(10);

        private Builder(Jdbi jdbi, Dialect dialect, String description) {
            this.jdbi = jdbi;
            this.dialect = Objects.requireNonNull(dialect, "dialect");
            this.description = description;
        }

        /**
         * @param query a query to register under its name
         * @return this builder
         */
        public Builder query(SourceQuery query) {
            Objects.requireNonNull(query, "query");
            if (queries.putIfAbsent(query.name(), query) != null) {
                throw new IllegalArgumentException("source '" + query.name() + "' is registered twice");
            }
            return this;
        }

        /**
         * @param rows rows the driver fetches per round trip, at least 1 (default 1,000)
         * @return this builder
         */
        public Builder fetchSize(int rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("fetch size must be at least 1 but was " + rows);
            }
            this.fetchSize = rows;
            return this;
        }

        /**
         * @param rows the most rows one {@code next()} returns, at least 1 (default 1,000)
         * @return this builder
         */
        public Builder chunkSize(int rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("chunk size must be at least 1 but was " + rows);
            }
            this.chunkSize = rows;
            return this;
        }

        /**
         * @param timeout the longest one query may run, whole seconds, or zero for none (default 10 minutes)
         * @return this builder
         */
        public Builder queryTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "queryTimeout");
            if (timeout.isNegative() || timeout.toSeconds() > Integer.MAX_VALUE
                    || timeout.getNano() != 0) {
                throw new IllegalArgumentException("query timeout must be zero or a positive whole number of seconds"
                        + " but was " + timeout);
            }
            this.queryTimeout = timeout;
            return this;
        }

        /**
         * @return the puller
         * @throws IllegalStateException if no query is registered
         */
        public JdbcPuller build() {
            if (queries.isEmpty()) {
                throw new IllegalStateException("a JdbcPuller needs at least one registered query");
            }
            return new JdbcPuller(this);
        }
    }
}
