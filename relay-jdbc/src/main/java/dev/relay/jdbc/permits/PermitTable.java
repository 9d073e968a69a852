package dev.relay.jdbc.permits;

import dev.relay.jdbc.Dialect;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.jdbi.v3.core.Handle;

/**
 * The SQL of the lease rows: one row per permit and one per member, over a {@link Handle} in a transaction that the
 * caller opens and commits. All times are milliseconds of the <em>database's</em> clock, read by {@link #now} and
 * bound as numbers, so that every process compares leases on one clock (and tests can bind virtual time).
 *
 * <pre>
 *   permits:  permit_no NUMERIC(10) primary key, holder VARCHAR(200) (null when free),
 *             token NUMERIC(19) (incremented by every grant), lease_until NUMERIC(19)
 *   members:  member_id VARCHAR(200) primary key, lease_until NUMERIC(19)
 * </pre>
 * A permit is free when its holder is null or its lease ran out ({@code lease_until <= now}). Every statement that
 * changes a held row names the holder <em>and</em> the token it was granted with, so a process acts only on its own
 * grant of a permit, never on a later grant of the same permit to itself or to another process.
 *
 * <p>Immutable and threadsafe (no state beyond the validated names).
 */
final class PermitTable {

    private final Dialect dialect;
    private final String permits;
    private final String members;

    PermitTable(Dialect dialect, String permits, String members) {
        this.dialect = dialect;
        this.permits = permits;
        this.members = members;
    }

    String permitsTable() {
        return permits;
    }

    String membersTable() {
        return members;
    }

    List<String> ddl() {
        return List.of("CREATE TABLE " + permits + " (" + permitColumns() + ")",
                "CREATE TABLE " + members + " (" + memberColumns() + ")");
    }

    List<String> ddlIfNotExists() {
        return List.of("CREATE TABLE IF NOT EXISTS " + permits + " (" + permitColumns() + ")",
                "CREATE TABLE IF NOT EXISTS " + members + " (" + memberColumns() + ")");
    }

    private static String permitColumns() {
        return "permit_no NUMERIC(10) NOT NULL PRIMARY KEY, holder VARCHAR(200), token NUMERIC(19) NOT NULL, "
                + "lease_until NUMERIC(19) NOT NULL";
    }

    private static String memberColumns() {
        return "member_id VARCHAR(200) NOT NULL PRIMARY KEY, lease_until NUMERIC(19) NOT NULL";
    }

    /** The statement that reads the database's clock. */
    String clockSql() {
        switch (dialect) {
            case POSTGRESQL:
                return "SELECT clock_timestamp()";
            case ORACLE:
                return "SELECT SYSTIMESTAMP FROM DUAL";
            default:
                return "SELECT CURRENT_TIMESTAMP";
        }
    }

    /** @return the database's clock in epoch milliseconds */
    long now(Handle h) {
        OffsetDateTime t = h.createQuery(clockSql()).map((rs, ctx) -> rs.getObject(1, OffsetDateTime.class)).one();
        return t.toInstant().toEpochMilli();
    }

    /**
     * @return the statement that selects and locks up to {@code :n} free permits below {@code :total}, skipping
     *     rows another transaction locked. PostgreSQL applies the limit after skipping; Oracle locks rows as they
     *     are fetched with {@code SKIP LOCKED}, so the caller reads only {@code n}; H2 applies a limit before
     *     skipping, so it gets none and the caller reads only {@code n} of the rows it locked
     */
    String acquireSql() {
        String select = "SELECT permit_no, token FROM " + permits + " WHERE permit_no < :total AND (holder IS NULL OR lease_until <= :now)";
        if (dialect == Dialect.POSTGRESQL) {
            return select + " ORDER BY permit_no LIMIT :n FOR UPDATE SKIP LOCKED";
        }
        return select + " FOR UPDATE SKIP LOCKED";
    }

    /** Inserts the missing permit rows {@code 0 … total − 1}, each in its own statement; a concurrent insert wins. */
    void ensureRows(Handle h, int total) {
        for (int k = 0; k < total; k++) {
            boolean present = h.createQuery("SELECT COUNT(*) FROM " + permits + " WHERE permit_no = :k").bind("k", k)
                    .mapTo(Long.class).one() > 0;
            if (!present) {
                try {
                    h.createUpdate("INSERT INTO " + permits + " (permit_no, holder, token, lease_until) VALUES (:k, NULL, 0, 0)")
                            .bind("k", k).execute();
                } catch (RuntimeException e) {
                    if (!JdbcSourcePermits.isUniqueViolation(e)) {
                        throw e;
                    }
                }
            }
        }
    }

    /** @return the highest permit number in the table, or -1 when empty */
    long highestPermit(Handle h) {
        Long max = h.createQuery("SELECT MAX(permit_no) FROM " + permits).mapTo(Long.class).one();
        return max == null ? -1 : max;
    }

    /** A permit this process was granted: its number and the token of the grant. */
    record Grant(int permit, long token) {
    }

    /**
     * Renews one grant while its lease still runs at the database.
     *
     * @return whether the row is still this grant and was renewed
     */
    boolean renew(Handle h, String member, Grant g, long now, long until) {
        return h.createUpdate("UPDATE " + permits + " SET lease_until = :until WHERE permit_no = :k AND holder = :m"
                        + " AND token = :token AND lease_until > :now")
                .bind("until", until).bind("k", g.permit()).bind("m", member).bind("token", g.token()).bind("now", now)
                .execute() == 1;
    }

    /**
     * Grants up to {@code n} free permits to the member.
     *
     * @return the grants, with their new tokens
     */
    List<Grant> acquire(Handle h, String member, int total, int n, long now, long until) {
        List<Grant> free = new ArrayList<>(n);
        var query = h.createQuery(acquireSql()).bind("total", total).bind("now", now).setFetchSize(n);
        if (dialect == Dialect.POSTGRESQL) {
            query.bind("n", n);
        }
        try (var rows = query.map((rs, ctx) -> new Grant(rs.getInt(1), rs.getLong(2))).stream()) {
            rows.limit(n).forEach(free::add);
        }
        List<Grant> granted = new ArrayList<>(free.size());
        for (Grant g : free) {
            int changed = h.createUpdate("UPDATE " + permits + " SET holder = :m, token = :next, lease_until = :until"
                            + " WHERE permit_no = :k AND token = :token")
                    .bind("m", member).bind("next", g.token() + 1).bind("until", until).bind("k", g.permit())
                    .bind("token", g.token()).execute();
            if (changed == 1) {
                granted.add(new Grant(g.permit(), g.token() + 1));
            }
        }
        return granted;
    }

    /** Frees the permit if it is still this grant. */
    boolean release(Handle h, String member, Grant g) {
        return h.createUpdate("UPDATE " + permits + " SET holder = NULL, lease_until = 0 WHERE permit_no = :k"
                        + " AND holder = :m AND token = :token")
                .bind("k", g.permit()).bind("m", member).bind("token", g.token()).execute() == 1;
    }

    /** Marks the member alive until {@code until}. */
    void heartbeat(Handle h, String member, long until) {
        int changed = h.createUpdate("UPDATE " + members + " SET lease_until = :until WHERE member_id = :m")
                .bind("until", until).bind("m", member).execute();
        if (changed == 0) {
            h.createUpdate("INSERT INTO " + members + " (member_id, lease_until) VALUES (:m, :until)")
                    .bind("m", member).bind("until", until).execute();
        }
    }

    /** @return the members alive at {@code now}, sorted */
    List<String> liveMembers(Handle h, long now) {
        return h.createQuery("SELECT member_id FROM " + members + " WHERE lease_until > :now ORDER BY member_id")
                .bind("now", now).mapTo(String.class).list();
    }

    /** Deletes members whose lease ran out before {@code before}. */
    void forgetMembers(Handle h, long before) {
        h.createUpdate("DELETE FROM " + members + " WHERE lease_until < :before").bind("before", before).execute();
    }

    /** Removes the member at once (it leaves). */
    void leave(Handle h, String member) {
        h.createUpdate("DELETE FROM " + members + " WHERE member_id = :m").bind("m", member).execute();
    }

    /**
     * A member's fair share: {@code P} permits spread evenly over the live members in their sorted order, the first
     * {@code P mod N} getting one more.
     *
     * @return the number of permits {@code member} should hold
     */
    static int share(int total, List<String> live, String member) {
        int n = live.size();
        int rank = live.indexOf(member);
        if (n == 0 || rank < 0) {
            return 0;
        }
        return total / n + (rank < total % n ? 1 : 0);
    }
}
