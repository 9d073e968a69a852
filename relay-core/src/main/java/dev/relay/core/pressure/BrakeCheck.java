package dev.relay.core.pressure;

import java.net.URI;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A check that the source's owners control and that says whether relay may start new pulls now: an HTTP endpoint
 * ({@link #http(URI)}: 200 is go) or a query against the source ({@link #sql(DataSource, String)}: a number
 * against a threshold, such as active sessions). A {@link Brake} polls it at an interval; while it says stop, no
 * new pull starts and pulls in flight finish.
 *
 * <p>{@link #check()} runs on the brake's executor, never on the engine's control thread, one call at a time; it
 * may block, but must bound its own time (both built-in checks have a timeout), since the next poll waits for it.
 * Implementations need not be threadsafe beyond that.
 */
@FunctionalInterface
public interface BrakeCheck {

    /**
     * @return go or stop, with the reason
     * @throws Exception if the check could not be made: the brake then applies its
     *     {@linkplain Brake.Builder#stopOnError(boolean) error policy}
     */
    Verdict check() throws Exception;

    /**
     * An HTTP check: {@code GET uri}; status 200 means go, anything else — another status, a refused
     * connection, a timeout — means stop (like gh-ost's {@code --throttle-http}).
     *
     * @param uri an {@code http} or {@code https} URI
     * @return a builder
     */
    static HttpBrakeCheck.Builder http(URI uri) {
        return HttpBrakeCheck.builder(uri);
    }

    /**
     * A SQL check: a query against the source that returns one number (one row, one column), compared with a
     * threshold ({@link SqlBrakeCheck.Builder#stopAbove(double)}). For example, PostgreSQL's active sessions:
     * <pre>{@code
     * SELECT count(*) FROM pg_stat_activity
     *  WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
     * }</pre>
     * or the sessions of Oracle's batch consumer group (Resource Manager):
     * <pre>{@code
     * SELECT COALESCE(SUM(ACTIVE_SESSIONS), 0) FROM V$RSRC_CONSUMER_GROUP WHERE NAME = 'BATCH_GROUP'
     * }</pre>
     *
     * @param dataSource where to run it (a connection is taken and closed per check)
     * @param query the query
     * @return a builder
     */
    static SqlBrakeCheck.Builder sql(DataSource dataSource, String query) {
        return SqlBrakeCheck.builder(dataSource, query);
    }

    /**
     * A check's answer.
     *
     * @param go whether new pulls may start
     * @param reason what the check saw, for logs and snapshots ("HTTP 503 from …", "active sessions 42 &gt; 30")
     */
    record Verdict(boolean go, String reason) {

        /** @throws NullPointerException if {@code reason} is null */
        public Verdict {
            Objects.requireNonNull(reason, "reason");
        }

        /**
         * @param reason what the check saw
         * @return a verdict that lets pulls start
         */
        public static Verdict go(String reason) {
            return new Verdict(true, reason);
        }

        /**
         * @param reason what the check saw
         * @return a verdict that stops new pulls
         */
        public static Verdict stop(String reason) {
            return new Verdict(false, reason);
        }
    }
}
