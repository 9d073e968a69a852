package dev.relay.core.pressure;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A {@link BrakeCheck} that runs a query against the source (JDK {@code java.sql}, no driver of its own) and
 * compares the one number it returns with a threshold: stop while it is above ({@link Builder#stopAbove}) or
 * below ({@link Builder#stopBelow}) the threshold. The query must return exactly one row of one column, a
 * number; anything else — no row, two rows, {@code NULL}, text — is an error that names what came back (the
 * {@link Brake}'s error policy decides; by default, stop). Use {@code COALESCE(SUM(…), 0)} over views that have
 * no row when nothing is going on (Oracle's {@code V$RSRC_CONSUMER_GROUP} lists only active groups).
 *
 * <h2>Queries</h2>
 * <ul>
 *   <li>PostgreSQL, active client sessions other than this one:
 *       {@code SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend'
 *       AND pid <> pg_backend_pid()} — or only a batch job's, with {@code AND application_name = 'nightly-batch'}
 *       or {@code AND usename = 'etl'}.
 *   <li>Oracle, active user sessions: {@code SELECT COUNT(*) FROM V$SESSION WHERE STATUS = 'ACTIVE' AND TYPE =
 *       'USER'} (needs {@code SELECT} on {@code V_$SESSION}).
 *   <li>Oracle Resource Manager, the batch consumer group's active sessions, or the sessions waiting for CPU
 *       across groups: {@code SELECT COALESCE(SUM(ACTIVE_SESSIONS), 0) FROM V$RSRC_CONSUMER_GROUP WHERE NAME =
 *       'BATCH_GROUP'}, {@code SELECT COALESCE(SUM(EXECUTION_WAITERS), 0) FROM V$RSRC_CONSUMER_GROUP} (needs
 *       {@code SELECT} on {@code V_$RSRC_CONSUMER_GROUP}).
 *   <li>A switch the DBA flips: {@code SELECT paused FROM relay_control} with {@code stopAbove(0)}.
 * </ul>
 *
 * <p>Each check takes a connection from the data source and closes it; pass a pool. The query runs with a
 * statement timeout. Immutable and threadsafe.
 */
public final class SqlBrakeCheck implements BrakeCheck {

    private final DataSource dataSource;
    private final String query;
    private final String label;
    private final double threshold;
    private final boolean stopAbove;
    private final int timeoutSeconds;

    private SqlBrakeCheck(Builder b) {
        this.dataSource = b.dataSource;
        this.query = b.query;
        this.label = b.label;
        this.threshold = b.threshold;
        this.stopAbove = b.stopAbove;
        this.timeoutSeconds = (int) Math.max(1, (b.timeout.toMillis() + 999) / 1000);
    }

    static Builder builder(DataSource dataSource, String query) {
        return new Builder(dataSource, query);
    }

    @Override
    public Verdict check() throws SQLException {
        double value;
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout(timeoutSeconds);
            try (ResultSet rs = s.executeQuery(query)) {
                int columns = rs.getMetaData().getColumnCount();
                if (columns != 1) {
                    throw new SQLException(label + " must return one column but returned " + columns);
                }
                if (!rs.next()) {
                    throw new SQLException(label + " returned no row; it must return one number (wrap it in "
                            + "COALESCE(SUM(...), 0) if the view may be empty)");
                }
                Object raw = rs.getObject(1);
                if (raw == null) {
                    throw new SQLException(label + " returned NULL; it must return one number");
                }
                if (!(raw instanceof Number n)) {
                    throw new SQLException(label + " returned '" + raw + "' (" + raw.getClass().getSimpleName()
                            + "); it must return one number");
                }
                value = n.doubleValue();
                if (rs.next()) {
                    throw new SQLException(label + " returned more than one row; it must return one number");
                }
            }
        }
        String shownValue = value == Math.rint(value) && Math.abs(value) < 1e15
                ? Long.toString((long) value) : String.format(Locale.ROOT, "%.3f", value);
        String shownThreshold = threshold == Math.rint(threshold) && Math.abs(threshold) < 1e15
                ? Long.toString((long) threshold) : String.format(Locale.ROOT, "%.3f", threshold);
        boolean stop = stopAbove ? value > threshold : value < threshold;
        String relation = stop ? (stopAbove ? " > " : " < ") : (stopAbove ? " ≤ " : " ≥ ");
        String reason = label + " " + shownValue + relation + shownThreshold;
        return stop ? Verdict.stop(reason) : Verdict.go(reason);
    }

    @Override
    public String toString() {
        return "SQL brake check '" + label + "' (stop " + (stopAbove ? "above " : "below ") + threshold + ")";
    }

    /** Builds a {@link SqlBrakeCheck}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private final DataSource dataSource;
        private final String query;
        private String label = "brake query";
        private double threshold = Double.NaN;
        private boolean stopAbove = true;
        private Duration timeout = Duration.ofSeconds(5);

        private Builder(DataSource dataSource, String query) {
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
            Objects.requireNonNull(query, "query");
            if (query.isBlank()) {
                throw new IllegalArgumentException("brake query must not be blank");
            }
            this.query = query;
        }

        /**
         * @param threshold stop new pulls while the query returns more than this (active sessions above 30, say)
         * @return this builder
         */
        public Builder stopAbove(double threshold) {
            return threshold(threshold, true);
        }

        /**
         * @param threshold stop new pulls while the query returns less than this (free sessions below 5, say)
         * @return this builder
         */
        public Builder stopBelow(double threshold) {
            return threshold(threshold, false);
        }

        private Builder threshold(double threshold, boolean above) {
            if (!Double.isFinite(threshold)) {
                throw new IllegalArgumentException("brake threshold must be a finite number but was " + threshold);
            }
            this.threshold = threshold;
            this.stopAbove = above;
            return this;
        }

        /**
         * @param label what the number is, for reasons and logs ("active sessions"); default "brake query"
         * @return this builder
         */
        public Builder label(String label) {
            Objects.requireNonNull(label, "label");
            if (label.isBlank()) {
                throw new IllegalArgumentException("brake query label must not be blank");
            }
            this.label = label;
            return this;
        }

        /**
         * @param timeout the statement timeout; within [1 s, 1 min], default 5 s
         * @return this builder
         */
        public Builder queryTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("brake query timeout must be within [1 s, 1 min] but was " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * @return the check
         * @throws IllegalStateException if no threshold was set
         */
        public SqlBrakeCheck build() {
            if (Double.isNaN(threshold)) {
                throw new IllegalStateException("brake query '" + label + "' needs a threshold: stopAbove(…) or stopBelow(…)");
            }
            return new SqlBrakeCheck(this);
        }
    }
}
