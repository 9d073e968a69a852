package dev.relay.jdbc.permits;

import dev.relay.api.PermitHolder;
import dev.relay.api.PermitLeases;
import dev.relay.api.PermitStatus;
import dev.relay.api.RelayException;
import dev.relay.api.SourcePermits;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.permits.PermitTable.Grant;
import java.lang.management.ManagementFactory;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.SqlStatements;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster-wide source permits as lease rows in a database that every relay process reaches (PostgreSQL, Oracle, H2):
 * for deployments without Kafka. {@code P} rows, one per permit; a process holds a permit while the row names it and
 * its lease, renewed every {@code renewInterval}, has not run out on the database's clock.
 *
 * <h2>Design</h2>
 * One renewer thread per process runs a <em>round</em> every {@code renewInterval}, in one transaction:
 * <ol>
 *   <li>frees the rows of permits the engine gave back;
 *   <li>renews every row it holds ({@code UPDATE … WHERE holder = me AND token = my grant's token AND lease_until >
 *       now}); a row that no longer matches is lost;
 *   <li>renews its member row and reads the live members (unexpired member rows): its fair share is
 *       {@code ⌊P / N⌋}, plus one for the first {@code P mod N} members in id order;
 *   <li>below its share, takes free rows ({@code holder IS NULL OR lease_until <= now}) with
 *       {@code SELECT … FOR UPDATE SKIP LOCKED}, so concurrent rounds never wait on each other nor take the same row.
 * </ol>
 * After the commit the grants reach the engine; above its share, the process revokes its surplus from the engine and
 * frees the rows once the engine gave them back (their queries ended or were cancelled). The database's clock is
 * read in the transaction ({@code clock_timestamp()}, {@code SYSTIMESTAMP}, {@code CURRENT_TIMESTAMP}) and leases
 * are stored as its epoch milliseconds, so every process compares them on one clock.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>At any database time at most one row names a process with an unexpired lease for each permit; a row changes
 *       hands only when free or expired, under its row lock, with a new token.
 *   <li>This process treats a permit as held only until {@code sentAt + lease − margin}, where {@code sentAt} is its
 *       monotonic time before the round's transaction began (so before the database read its clock): the row's lease
 *       runs to at least {@code sentAt + lease}. The fence timer, a thread apart from the renewer, tells the engine
 *       {@code lost} at that moment if no renewal succeeded ({@link PermitLeases}), whatever the renewer is blocked on.
 *   <li>A permit being revoked keeps its row, renewed, until the engine gave it back; only then is it freed.
 *   <li>A crashed process's rows become free when their lease runs out: nothing leaks. Its member row expires too,
 *       and the shares of the others grow.
 * </ol>
 *
 * <h2>What holds</h2>
 * <b>Cooperative</b>: at most {@code P} queries on the source at any time, except while a holder is frozen (SIGSTOP,
 * swap, a long pause) past its lease: a frozen holder cannot cancel its queries, its rows expire after
 * {@code lease}, and others take them; then at most {@code P} plus the frozen holders' queries (at most the permits
 * each held), until each resumes and fences itself (its fence timer is overdue and runs first). A process that is
 * alive but cannot renew (database unreachable) cancels its queries by {@code lease − margin} after its last good
 * renewal, before any other process can take its rows. With the defaults (lease 30 s, renewal every 5 s, margin
 * 6 s), a permit is fenced after about 19–24 s without a successful renewal. The database server's clock must not
 * be stepped by more than the margin. A killed holder's queries stop when the source notices the closed connection
 * (PostgreSQL at its next write to the client, or with {@code client_connection_check_interval}; Oracle with dead
 * connection detection); keep the lease longer than that.
 * <br><b>Source-enforced</b>: see {@link SourcePermits} and the README.
 *
 * <p>The tables are created by {@link #createTablesIfNotExists()} (PostgreSQL, H2) or by hand from {@link #ddl()}
 * (Oracle); {@link #start} inserts the {@code P} permit rows that are missing and refuses a table that holds permits
 * numbered {@code P} or higher (another configuration of {@code P}: delete them to lower {@code P}).
 *
 * <p>This class is threadsafe. Its renewer thread and fence timer come from the configured thread factory
 * (daemon threads by default); {@link #close()} stops them and frees the rows.
 */
public final class JdbcSourcePermits implements SourcePermits {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcSourcePermits.class);

    /** The permits table's name unless configured; the members table is the same name with {@code _members}. */
    public static final String DEFAULT_TABLE = "relay_permits";

    /** Table names: an unquoted identifier, optionally schema-qualified, at most 55 characters each. */
    public static final Pattern TABLE_NAME = Pattern.compile("([A-Za-z_][A-Za-z0-9_]{0,62}\\.)?[A-Za-z_][A-Za-z0-9_]{0,54}");

    /** Every this many rounds, member rows expired for ten leases are deleted. */
    private static final int FORGET_EVERY = 16;

    /** The longest a single statement of a round may run, in seconds, whatever the renew interval. */
    private static final int MAX_STATEMENT_SECONDS = 30;

    private final Jdbi jdbi;
    private final PermitTable table;
    private final int total;
    private final String member;
    private final long leaseMillis;
    private final Duration renewInterval;
    private final Duration revocationGrace;
    private final DatabaseClock clock;
    private final PermitLeases leases;
    private final ThreadFactory threadFactory;
    private final ScheduledExecutorService ownTimer;
    private final int statementSeconds;
    private final boolean manual;

    /** Permits whose revocation completed, for the renewer to free. */
    private final LinkedBlockingQueue<Integer> givenBack = new LinkedBlockingQueue<>();

    // owned by the renewer (or by the caller of round() in manual mode)
    private final Map<Integer, Grant> grants = new TreeMap<>();
    private int lastShare = -1;
    private long rounds;

    // guarded by this
    private boolean started;
    private boolean closed;
    private Thread renewer;

    private JdbcSourcePermits(Builder b, Duration margin, Duration renewInterval) {
        this.jdbi = b.jdbi;
        this.table = new PermitTable(b.dialect, b.table, b.table + "_members");
        this.total = b.permits;
        this.member = b.memberId != null ? b.memberId : defaultMemberId();
        this.leaseMillis = b.lease.toMillis();
        this.renewInterval = renewInterval;
        this.manual = b.manual;
        this.revocationGrace = b.revocationGrace;
        this.clock = b.clock != null ? b.clock : table::now;
        this.threadFactory = b.threadFactory;
        this.ownTimer = b.manual || b.timer != null ? null : Executors.newSingleThreadScheduledExecutor(named("relay-permits-fence"));
        PermitLeases.Builder lb = PermitLeases.builder(b.permits, b.lease).margin(margin).ticker(b.ticker);
        if (!b.manual) {
            lb.timer(b.timer != null ? b.timer : ownTimer);
        }
        this.leases = lb.build();
        this.statementSeconds = (int) Math.max(1, Math.min(MAX_STATEMENT_SECONDS, renewInterval.toSeconds() + 1));
    }

    /**
     * @param dataSource the database every relay process reaches (a pool is best: a round borrows one connection)
     * @param dialect its dialect: {@link Dialect#POSTGRESQL}, {@link Dialect#ORACLE} or {@link Dialect#H2}
     * @return a builder with table {@value #DEFAULT_TABLE}, lease 30 s, renewal every 5 s, margin 6 s, revocation
     *     grace 10 s
     */
    public static Builder builder(DataSource dataSource, Dialect dialect) {
        return new Builder(Jdbi.create(Objects.requireNonNull(dataSource, "dataSource")), dialect);
    }

    /**
     * @param jdbi the Jdbi over the database every relay process reaches
     * @param dialect its dialect: {@link Dialect#POSTGRESQL}, {@link Dialect#ORACLE} or {@link Dialect#H2}
     * @return a builder with the defaults of {@link #builder(DataSource, Dialect)}
     */
    public static Builder builder(Jdbi jdbi, Dialect dialect) {
        return new Builder(Objects.requireNonNull(jdbi, "jdbi"), dialect);
    }

    /**
     * The statements that create the two tables, for databases without {@code CREATE TABLE IF NOT EXISTS} (Oracle).
     *
     * @return the DDL, one statement per element, without trailing semicolons
     */
    public List<String> ddl() {
        return table.ddl();
    }

    /**
     * Creates the two tables unless they exist (PostgreSQL, H2).
     *
     * @throws RelayException if the statements fail
     */
    public void createTablesIfNotExists() {
        try (Handle h = jdbi.open()) {
            for (String sql : table.ddlIfNotExists()) {
                h.execute(sql);
            }
        } catch (RuntimeException e) {
            throw new RelayException("could not create the permit tables " + table.permitsTable() + " and "
                    + table.membersTable() + ": " + e.getMessage(), e, true);
        }
    }

    @Override
    public int total() {
        return total;
    }

    /** @return this process's member id in the members table */
    public String memberId() {
        return member;
    }

    /**
     * Inserts the missing permit rows, runs the first round (so permits may be granted before this returns) and
     * starts the renewer.
     */
    @Override
    public void start(PermitHolder holder) {
        Objects.requireNonNull(holder, "holder");
        synchronized (this) {
            if (started || closed) {
                throw new IllegalStateException("the JDBC permits " + table.permitsTable() + " were " + (closed ? "closed" : "started already"));
            }
            started = true;
        }
        try (Handle h = jdbi.open()) {
            table.ensureRows(h, total);
            long highest = table.highestPermit(h);
            if (highest >= total) {
                throw new RelayException("the permit table " + table.permitsTable() + " holds permit " + highest
                        + ", but this relay is configured for " + total + " permits (numbered 0 to " + (total - 1)
                        + "): another process uses a larger P; delete the rows numbered " + total + " and up to lower P",
                        null, false);
            }
        } catch (RuntimeException e) {
            synchronized (this) {
                started = false;
            }
            if (e instanceof RelayException r) {
                throw r;
            }
            throw new RelayException("could not prepare the permit table " + table.permitsTable() + ": " + e.getMessage(), e, true);
        }
        leases.start(holder);
        if (manual) {
            return; // the caller runs round()
        }
        round();
        Thread t = threadFactory.newThread(this::renewLoop);
        synchronized (this) {
            renewer = t;
        }
        t.start();
    }

    private void renewLoop() {
        long next = System.nanoTime() + renewInterval.toNanos();
        while (!Thread.currentThread().isInterrupted()) {
            try {
                long wait = next - System.nanoTime();
                Integer k = wait > 0 ? givenBack.poll(wait, TimeUnit.NANOSECONDS) : null;
                if (k != null) {
                    givenBack.add(k); // the round frees it
                } else {
                    next = System.nanoTime() + renewInterval.toNanos();
                }
                round();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) { // round() handles database failures; anything else must not end the loop
                LOG.error("permit round failed unexpectedly on {}", table.permitsTable(), e);
            }
        }
    }

    /**
     * One round: frees given-back permits, renews held ones and the member row, takes free rows up to the fair share
     * and revokes the surplus. The renewer runs it; in manual mode (tests) the caller does.
     *
     * @return whether the round's transaction committed
     */
    boolean round() {
        synchronized (this) {
            if (closed) {
                return false;
            }
        }
        List<Grant> toFree = new ArrayList<>();
        for (Integer k; (k = givenBack.poll()) != null; ) {
            Grant g = grants.get(k);
            if (g != null && !leases.renewable().contains(k)) {
                toFree.add(g);
            }
        }
        List<Grant> toRenew = new ArrayList<>();
        Set<Integer> renewable = leases.renewable();
        for (Grant g : grants.values()) {
            if (renewable.contains(g.permit()) && !toFree.contains(g)) {
                toRenew.add(g);
            }
        }
        long sentAt = leases.now();
        List<Grant> renewed = new ArrayList<>();
        List<Grant> lost = new ArrayList<>();
        List<Grant> acquired = new ArrayList<>();
        int share;
        try (Handle h = open()) {
            h.begin();
            try {
                long now = clock.millis(h);
                long until = now + leaseMillis;
                for (Grant g : toFree) {
                    table.release(h, member, g);
                }
                for (Grant g : toRenew) {
                    (table.renew(h, member, g, now, until) ? renewed : lost).add(g);
                }
                table.heartbeat(h, member, until);
                if (++rounds % FORGET_EVERY == 0) {
                    table.forgetMembers(h, now - 10 * leaseMillis);
                }
                share = PermitTable.share(total, table.liveMembers(h, now), member);
                int want = share - renewed.size();
                if (want > 0) {
                    acquired.addAll(table.acquire(h, member, total, want, now, until));
                }
                h.commit();
            } catch (RuntimeException e) {
                rollbackQuietly(h);
                throw e;
            }
        } catch (RuntimeException e) {
            leases.renewalFailed();
            // the freed permits are freed again next round (or expire); lost nothing here: the fence timer decides
            toFree.forEach(g -> givenBack.add(g.permit()));
            LOG.warn("renewing source permits in {} failed (lease {} ms; permits held {}): {}", table.permitsTable(),
                    leaseMillis, leases.held(), e.toString());
            return false;
        }
        for (Grant g : toFree) {
            grants.remove(g.permit());
        }
        for (Grant g : lost) {
            grants.remove(g.permit());
            leases.lost(g.permit());
        }
        List<Integer> renewedPermits = new ArrayList<>(renewed.size());
        renewed.forEach(g -> renewedPermits.add(g.permit()));
        leases.renewed(renewedPermits, sentAt);
        for (Grant g : acquired) {
            grants.put(g.permit(), g);
            leases.granted(g.permit(), sentAt);
        }
        if (share != lastShare) {
            LOG.info("source permits in {}: this process's share is {} of {} (member {})", table.permitsTable(), share,
                    total, member);
            lastShare = share;
        }
        revokeSurplus(share);
        return true;
    }

    /**
     * Revokes the highest-numbered permits above the share from the engine (a fenced one is dropped at once: nothing
     * runs on it); their rows are freed once given back.
     */
    private void revokeSurplus(int share) {
        List<Integer> candidates = new ArrayList<>();
        for (int k : leases.renewable()) {
            if (!leases.revoking(k)) {
                candidates.add(k);
            }
        }
        for (int i = candidates.size() - 1, surplus = candidates.size() - share; i >= 0 && surplus > 0; i--, surplus--) {
            int k = candidates.get(i);
            leases.revoke(k, revocationGrace).thenRun(() -> givenBack.add(k));
        }
    }

    /** @return a handle whose statements time out after {@link #statementSeconds} */
    private Handle open() {
        Handle h = jdbi.open();
        h.getConfig(SqlStatements.class).setQueryTimeout(statementSeconds);
        return h;
    }

    private static void rollbackQuietly(Handle h) {
        try {
            h.rollback();
        } catch (RuntimeException suppressed) {
            // the connection is broken; closing the handle discards it
        }
    }

    /** @return the client-side leases, for tests in manual mode (they run {@code fenceDue()} themselves) */
    PermitLeases leases() {
        return leases;
    }

    /** @return the grants this process holds rows for, for tests */
    Map<Integer, Grant> grants() {
        return Collections.unmodifiableMap(grants);
    }

    @Override
    public PermitStatus status() {
        return leases.status();
    }

    /**
     * Stops the renewer, frees every row this process holds and removes its member row (best effort: rows it cannot
     * free expire after their lease).
     */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            t = renewer;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(MAX_STATEMENT_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        leases.close();
        if (started) {
            try (Handle h = open()) {
                h.useTransaction(tx -> {
                    for (Grant g : grants.values()) {
                        table.release(tx, member, g);
                    }
                    table.leave(tx, member);
                });
            } catch (RuntimeException e) {
                LOG.warn("could not free the source permits {} of {} in {}; they expire after their lease of {} ms: {}",
                        grants.keySet(), member, table.permitsTable(), leaseMillis, e.toString());
            }
        }
        if (ownTimer != null) {
            ownTimer.shutdownNow();
        }
    }

    /** Crashes this member in a test: stops its threads and forgets everything without freeing a row. */
    void crash() {
        Thread t;
        synchronized (this) {
            closed = true;
            t = renewer;
        }
        if (t != null) {
            t.interrupt();
        }
        leases.close();
        if (ownTimer != null) {
            ownTimer.shutdownNow();
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

    private static String defaultMemberId() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "unknown-host";
        }
        String id = host + "/" + ManagementFactory.getRuntimeMXBean().getName() + "/" + UUID.randomUUID();
        return id.length() > 200 ? id.substring(id.length() - 200) : id;
    }

    private static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public String toString() {
        return "JdbcSourcePermits[" + table.permitsTable() + ", member " + member + ", " + leases + "]";
    }

    /** Reads the database's clock in a round's transaction; tests bind virtual time. */
    @FunctionalInterface
    interface DatabaseClock {
        long millis(Handle h);
    }

    /** Builds {@link JdbcSourcePermits}. Not threadsafe; {@link #build()} copies the settings. */
    public static final class Builder {
        private final Jdbi jdbi;
        private final Dialect dialect;
        private String table = DEFAULT_TABLE;
        private int permits = 1;
        private Duration lease = Duration.ofSeconds(30);
        private Duration renewInterval;
        private Duration margin;
        private Duration revocationGrace = Duration.ofSeconds(10);
        private String memberId;
        private ThreadFactory threadFactory = named("relay-permits-renew");
        private ScheduledExecutorService timer;
        private LongSupplier ticker = System::nanoTime;
        private DatabaseClock clock;
        private boolean manual;

        private Builder(Jdbi jdbi, Dialect dialect) {
            this.jdbi = jdbi;
            this.dialect = Objects.requireNonNull(dialect, "dialect");
            if (dialect == Dialect.SNOWFLAKE) {
                throw new IllegalArgumentException("the permit table needs row locks (SELECT … FOR UPDATE SKIP LOCKED): "
                        + "use PostgreSQL, Oracle or H2, not " + dialect);
            }
        }

        /**
         * @param table the permits table, matching {@link #TABLE_NAME}; the members table is {@code table + "_members"}
         * @return this builder
         */
        public Builder table(String table) {
            Objects.requireNonNull(table, "table");
            if (!TABLE_NAME.matcher(table).matches()) {
                throw new IllegalArgumentException("permit table name '" + table + "' must match " + TABLE_NAME.pattern());
            }
            this.table = table;
            return this;
        }

        /**
         * @param permits {@code P}, the cap across every process using this table, 1 to 10,000
         * @return this builder
         */
        public Builder permits(int permits) {
            if (permits < 1 || permits > 10_000) {
                throw new IllegalArgumentException("source permits must be within [1, 10000] but was " + permits);
            }
            this.permits = permits;
            return this;
        }

        /**
         * @param lease how long a permit stays held without renewal, on the database's clock; at least 1 s
         * @return this builder
         */
        public Builder lease(Duration lease) {
            Objects.requireNonNull(lease, "lease");
            if (lease.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("the permit lease must be at least 1 s but was " + lease);
            }
            this.lease = lease;
            return this;
        }

        /**
         * @param renewInterval how often the rows are renewed (default: a sixth of the lease)
         * @return this builder
         */
        public Builder renewInterval(Duration renewInterval) {
            Objects.requireNonNull(renewInterval, "renewInterval");
            if (renewInterval.isNegative() || renewInterval.isZero()) {
                throw new IllegalArgumentException("the renew interval must be positive but was " + renewInterval);
            }
            this.renewInterval = renewInterval;
            return this;
        }

        /**
         * @param margin how long before a lease runs out this process fences itself: at least the time its queries
         *     take to stop after a cancel (default: a fifth of the lease)
         * @return this builder
         */
        public Builder margin(Duration margin) {
            Objects.requireNonNull(margin, "margin");
            if (margin.isNegative()) {
                throw new IllegalArgumentException("the fence margin must not be negative but was " + margin);
            }
            this.margin = margin;
            return this;
        }

        /**
         * @param grace how long the engine may let the queries of a revoked permit finish before cancelling them
         * @return this builder
         */
        public Builder revocationGrace(Duration grace) {
            Objects.requireNonNull(grace, "grace");
            if (grace.isNegative()) {
                throw new IllegalArgumentException("the revocation grace must not be negative but was " + grace);
            }
            this.revocationGrace = grace;
            return this;
        }

        /**
         * @param memberId this process's id in the members table, at most 200 characters, unique among live processes
         *     (default: host, pid and a random UUID)
         * @return this builder
         */
        public Builder memberId(String memberId) {
            Objects.requireNonNull(memberId, "memberId");
            if (memberId.isBlank() || memberId.length() > 200) {
                throw new IllegalArgumentException("member id must have 1 to 200 characters but was '" + memberId + "'");
            }
            this.memberId = memberId;
            return this;
        }

        /**
         * @param threadFactory makes the renewer thread (default: a daemon thread named {@code relay-permits-renew})
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * @param timer runs the fence checks; not the renewer's thread, not shut down by the permits (default: a
         *     daemon thread of their own)
         * @return this builder
         */
        public Builder timer(ScheduledExecutorService timer) {
            this.timer = Objects.requireNonNull(timer, "timer");
            return this;
        }

        /** Test hook: virtual time for this process's leases. */
        Builder ticker(LongSupplier ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Test hook: virtual time for the database. */
        Builder databaseClock(DatabaseClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Test hook: no threads; the test runs {@code round()} and {@code leases().fenceDue()}. */
        Builder manual() {
            this.manual = true;
            this.threadFactory = null;
            return this;
        }

        /**
         * @return the permits
         * @throws IllegalStateException if the renew interval and margin leave less than two renewals per lease
         */
        public JdbcSourcePermits build() {
            Duration m = margin != null ? margin : lease.dividedBy(5);
            Duration r = renewInterval != null ? renewInterval : lease.dividedBy(6);
            if (m.compareTo(lease) >= 0) {
                throw new IllegalStateException("the fence margin " + m + " must be shorter than the lease " + lease);
            }
            if (r.multipliedBy(2).compareTo(lease.minus(m)) > 0) {
                throw new IllegalStateException("the renew interval " + r + " must fit twice in the lease " + lease
                        + " less the fence margin " + m + ", so that one failed renewal does not fence the permits");
            }
            return new JdbcSourcePermits(this, m, r);
        }
    }
}
