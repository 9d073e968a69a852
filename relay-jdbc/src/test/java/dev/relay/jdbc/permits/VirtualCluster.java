package dev.relay.jdbc.permits;

import dev.relay.jdbc.Dialect;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;

/**
 * Several relay processes sharing one permit table, in virtual time and without threads: each member is a
 * {@link JdbcSourcePermits} in manual mode with a {@link ProbeHolder}; the test runs their rounds and fence checks.
 * Each member's monotonic ticker and the database's clock have offsets of their own (only rates matter), and a
 * round's clock read may happen some time after the member read its ticker (the request travelling).
 *
 * <p>Not threadsafe: one test thread drives it.
 */
final class VirtualCluster {

    static final long LEASE_MS = 1_000;
    static final long MARGIN_MS = 200;

    final AtomicLong clockMs = new AtomicLong(1_000_000);
    final int total;
    private final Jdbi db;
    private final Dialect dialect;
    private final String table;
    private final long dbOffsetMs;
    private final List<Member> members = new ArrayList<>();
    private long delayMs;
    private int started;

    final class Member {
        final JdbcSourcePermits permits;
        final ProbeHolder holder;
        boolean frozen;
        boolean dead;

        Member(boolean giveBackAtOnce) {
            long tickerOffset = 7_919L * ++started;
            permits = JdbcSourcePermits.builder(db, dialect).table(table).permits(total)
                    .lease(Duration.ofMillis(LEASE_MS)).margin(Duration.ofMillis(MARGIN_MS))
                    .renewInterval(Duration.ofMillis(300)).revocationGrace(Duration.ZERO)
                    .memberId("member-" + started)
                    .ticker(() -> (clockMs.get() + tickerOffset) * 1_000_000L)
                    .databaseClock(h -> dbOffsetMs + clockMs.addAndGet(takeDelay()))
                    .manual().build();
            holder = new ProbeHolder(giveBackAtOnce);
            permits.start(holder);
        }

        /** @return the permits this member's engine may use now: granted and not yet fenced, lost or given back */
        Set<Integer> using() {
            return holder.held();
        }
    }

    VirtualCluster(DataSource db, Dialect dialect, int total, long dbOffsetMs) {
        this.db = Jdbi.create(db);
        this.dialect = dialect;
        this.total = total;
        this.table = TestDatabases.freshTable();
        this.dbOffsetMs = dbOffsetMs;
        JdbcSourcePermits.builder(this.db, dialect).table(table).permits(total).build().createTablesIfNotExists();
    }

    Member join(boolean giveBackAtOnce) {
        Member m = new Member(giveBackAtOnce);
        members.add(m);
        return m;
    }

    List<Member> members() {
        return members;
    }

    /** The next round's clock read happens this long after its ticker read. */
    void delayNextRound(long ms) {
        delayMs = ms;
    }

    private long takeDelay() {
        long d = delayMs;
        delayMs = 0;
        return d;
    }

    void advance(long ms) {
        clockMs.addAndGet(ms);
    }

    /** Runs the fence check of every member whose timer runs (not frozen, not dead). */
    void fenceAll() {
        for (Member m : members) {
            if (!m.frozen && !m.dead) {
                m.permits.leases().fenceDue();
            }
        }
    }

    /**
     * The safety property: after the timers of the running members fired, no permit is used by two of them, and
     * together they use at most {@code P}.
     */
    void checkSafety(String context) {
        fenceAll();
        Set<Integer> seen = new TreeSet<>();
        for (Member m : members) {
            if (m.frozen || m.dead) {
                continue;
            }
            for (int k : m.using()) {
                if (!seen.add(k)) {
                    throw new AssertionError("permit " + k + " used by two processes at " + clockMs.get() + " ms after "
                            + context + ": " + describe());
                }
            }
        }
    }

    String describe() {
        StringBuilder b = new StringBuilder();
        for (Member m : members) {
            b.append(m.permits.memberId()).append(m.dead ? " dead" : m.frozen ? " frozen" : "").append(' ')
                    .append(m.using()).append(' ').append(m.holder.events()).append("; ");
        }
        return b.toString();
    }
}
