package dev.relay.jdbc.permits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.PermitStatus;
import dev.relay.api.RelayException;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.permits.VirtualCluster.Member;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

class JdbcSourcePermitsTest {

    @Test
    void round_threeMembers_permitsSpreadEvenly() {
        VirtualCluster cluster = new VirtualCluster(TestDatabases.h2(false), Dialect.H2, 4, 0);
        List<Member> ms = List.of(cluster.join(true), cluster.join(true), cluster.join(true));
        for (int i = 0; i < 3; i++) {
            ms.forEach(m -> m.permits.round());
        }
        cluster.checkSafety("three rounds");
        List<Integer> sizes = new ArrayList<>();
        ms.forEach(m -> sizes.add(m.using().size()));
        sizes.sort(null);
        assertEquals(List.of(1, 1, 2), sizes);
    }

    @Test
    void round_newcomer_surplusFreedOnlyAfterGivenBack() {
        VirtualCluster cluster = new VirtualCluster(TestDatabases.h2(false), Dialect.H2, 2, 0);
        Member first = cluster.join(false); // gives back only when told
        first.permits.round();
        assertEquals(Set.of(0, 1), first.using());
        Member second = cluster.join(true);
        second.permits.round(); // registers; nothing free
        first.permits.round(); // sees two members: revokes one
        assertEquals(Set.of(0, 1), first.using(), "still running a query on the revoked permit");
        assertTrue(first.permits.leases().revoking(1));
        second.permits.round();
        assertEquals(Set.of(), second.using(), "the revoked permit is not free before it is given back");
        for (int i = 0; i < 6; i++) { // three leases pass, renewed all along: the revoked permit stays first's
            cluster.advance(VirtualCluster.LEASE_MS / 2);
            first.permits.round();
            second.permits.round();
            cluster.checkSafety("rounds while revoking");
            assertEquals(Set.of(0, 1), first.using());
            assertEquals(Set.of(), second.using());
        }
        first.holder.giveBackAll();
        first.permits.round(); // frees the row
        second.permits.round();
        assertEquals(Set.of(0), first.using());
        assertEquals(Set.of(1), second.using());
        assertEquals(1, first.permits.status().revocations());
    }

    @Test
    void close_rowsFreedAtOnce() {
        VirtualCluster cluster = new VirtualCluster(TestDatabases.h2(false), Dialect.H2, 3, 0);
        Member first = cluster.join(true);
        first.permits.round();
        assertEquals(3, first.using().size());
        first.permits.close();
        first.dead = true;
        Member second = cluster.join(true);
        second.permits.round();
        assertEquals(3, second.using().size(), "freed without waiting for the lease");
    }

    @Test
    void crash_rowsFreeOnlyAfterTheirLease() {
        VirtualCluster cluster = new VirtualCluster(TestDatabases.h2(false), Dialect.H2, 2, 0);
        Member first = cluster.join(true);
        first.permits.round();
        first.permits.crash();
        first.dead = true;
        Member second = cluster.join(true);
        second.permits.round();
        assertEquals(Set.of(), second.using());
        cluster.advance(VirtualCluster.LEASE_MS - 1);
        second.permits.round();
        assertEquals(Set.of(), second.using(), "a lease is good until it runs out");
        cluster.advance(1);
        second.permits.round();
        assertEquals(Set.of(0, 1), second.using());
    }

    @Test
    void fence_noRenewalInTime_lostBeforeTheRowExpires() {
        VirtualCluster cluster = new VirtualCluster(TestDatabases.h2(false), Dialect.H2, 1, 0);
        Member first = cluster.join(true);
        first.permits.round();
        cluster.advance(VirtualCluster.LEASE_MS - VirtualCluster.MARGIN_MS);
        cluster.fenceAll();
        assertEquals(Set.of(), first.using(), "fenced at lease − margin");
        assertEquals(List.of("granted 0", "lost 0"), first.holder.events());
        PermitStatus s = first.permits.status();
        assertEquals(1, s.fenced());
        assertEquals(1, s.losses());
        first.permits.round(); // the row's lease still runs at the database: renewed, granted again
        assertEquals(Set.of(0), first.using());
    }

    @Test
    void start_tableHoldsMorePermits_failsNamingBoth() {
        DataSource db = TestDatabases.h2(false);
        String table = TestDatabases.freshTable();
        JdbcSourcePermits four = JdbcSourcePermits.builder(db, Dialect.H2).table(table).permits(4).build();
        four.createTablesIfNotExists();
        four.start(new ProbeHolder(true));
        four.close();
        JdbcSourcePermits two = JdbcSourcePermits.builder(db, Dialect.H2).table(table).permits(2).build();
        RelayException e = assertThrows(RelayException.class, () -> two.start(new ProbeHolder(true)));
        assertTrue(e.getMessage().contains("permit 3") && e.getMessage().contains("configured for 2"), e.getMessage());
        assertFalse(e.retryable());
    }

    @Test
    void builder_badSettings_failNamingTheValue() {
        DataSource db = TestDatabases.h2(false);
        IllegalArgumentException table = assertThrows(IllegalArgumentException.class,
                () -> JdbcSourcePermits.builder(db, Dialect.H2).table("permits; DROP TABLE x"));
        assertTrue(table.getMessage().contains("permits; DROP TABLE x"), table.getMessage());
        IllegalArgumentException snowflake = assertThrows(IllegalArgumentException.class,
                () -> JdbcSourcePermits.builder(db, Dialect.SNOWFLAKE));
        assertTrue(snowflake.getMessage().contains("SNOWFLAKE"), snowflake.getMessage());
        IllegalStateException renew = assertThrows(IllegalStateException.class, () -> JdbcSourcePermits.builder(db, Dialect.H2)
                .lease(Duration.ofSeconds(10)).renewInterval(Duration.ofSeconds(5)).build());
        assertTrue(renew.getMessage().contains("PT5S"), renew.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JdbcSourcePermits.builder(db, Dialect.H2).permits(0));
        assertThrows(IllegalArgumentException.class, () -> JdbcSourcePermits.builder(db, Dialect.H2).lease(Duration.ofMillis(10)));
    }

    @Test
    void ddl_oracle_createsBothTables() {
        JdbcSourcePermits p = JdbcSourcePermits.builder(TestDatabases.h2(true), Dialect.ORACLE).table("relay.permits").build();
        assertEquals(List.of(
                "CREATE TABLE relay.permits (permit_no NUMERIC(10) NOT NULL PRIMARY KEY, holder VARCHAR(200), "
                        + "token NUMERIC(19) NOT NULL, lease_until NUMERIC(19) NOT NULL)",
                "CREATE TABLE relay.permits_members (member_id VARCHAR(200) NOT NULL PRIMARY KEY, lease_until NUMERIC(19) NOT NULL)"),
                p.ddl());
        PermitTable oracle = new PermitTable(Dialect.ORACLE, "p", "p_members");
        assertEquals("SELECT SYSTIMESTAMP FROM DUAL", oracle.clockSql());
        assertEquals("SELECT permit_no, token FROM p WHERE permit_no < :total AND (holder IS NULL OR lease_until <= :now)"
                + " FOR UPDATE SKIP LOCKED", oracle.acquireSql());
    }

    /**
     * 100 crash cycles on PostgreSQL, in virtual time: each cycle kills one holder (its rows left behind, some of its
     * revocations pending), starts a new process, and lets the lease run out; after every cycle the live processes
     * hold all {@code P} between them, disjoint. Then every process crashes and a newcomer gets all {@code P}.
     */
    @Test
    void crashCycles_hundredOnPostgres_allPermitsUsableAgain() {
        int total = 4;
        VirtualCluster cluster = new VirtualCluster(TestDatabases.postgres(), Dialect.POSTGRESQL, total, 123_456);
        Random random = new Random(7);
        Member[] slots = {cluster.join(true), cluster.join(false), cluster.join(true)};
        for (int cycle = 0; cycle < 100; cycle++) {
            for (Member m : slots) {
                m.permits.round();
            }
            cluster.checkSafety("cycle " + cycle + " before the crash");
            int victim = random.nextInt(slots.length);
            slots[victim].dead = true;
            slots[victim].permits.crash();
            slots[victim] = cluster.join(random.nextBoolean());
            cluster.advance(VirtualCluster.LEASE_MS + random.nextInt(100));
            for (int round = 0; round < 3; round++) {
                for (Member m : slots) {
                    m.permits.round();
                    m.holder.giveBackAll();
                }
                cluster.checkSafety("cycle " + cycle + " round " + round);
            }
            Set<Integer> all = new TreeSet<>();
            for (Member m : slots) {
                all.addAll(m.using());
            }
            int c = cycle;
            assertEquals(total, all.size(), () -> "after crash cycle " + c + ": " + cluster.describe());
        }
        for (Member m : slots) {
            m.dead = true;
            m.permits.crash();
        }
        cluster.advance(VirtualCluster.LEASE_MS + 1);
        Member fresh = cluster.join(true);
        fresh.permits.round();
        assertEquals(total, fresh.using().size(), cluster::describe);
        fresh.permits.close();
    }

    /**
     * Real threads on PostgreSQL: a process whose database goes away fences itself (its engine told {@code lost})
     * before its rows expire, and the other process gets the permits only after that.
     */
    @Test
    void databaseUnreachable_postgres_fencedBeforeAnotherProcessGetsThePermit() throws Exception {
        DataSource db = TestDatabases.postgres();
        String table = TestDatabases.freshTable();
        AtomicBoolean cut = new AtomicBoolean();
        DataSource cuttable = new CuttableDataSource(db, cut);
        JdbcSourcePermits a = JdbcSourcePermits.builder(Jdbi.create(cuttable), Dialect.POSTGRESQL).table(table).permits(2)
                .lease(Duration.ofMillis(1_500)).renewInterval(Duration.ofMillis(200)).margin(Duration.ofMillis(300))
                .memberId("a").build();
        a.createTablesIfNotExists();
        TimedHolder holderA = new TimedHolder();
        a.start(holderA);
        assertEquals(2, holderA.held().size(), "the first round runs in start()");
        JdbcSourcePermits b = JdbcSourcePermits.builder(Jdbi.create(db), Dialect.POSTGRESQL).table(table).permits(2)
                .lease(Duration.ofMillis(1_500)).renewInterval(Duration.ofMillis(200)).margin(Duration.ofMillis(300))
                .memberId("b").build();
        TimedHolder holderB = new TimedHolder();
        try {
            b.start(holderB);
            waitFor(() -> holderA.held().size() == 1 && holderB.held().size() == 1, "an even spread");
            cut.set(true);
            waitFor(() -> holderB.held().size() == 2, "b takes a's permit after a's lease ran out");
            assertEquals(Set.of(), holderA.held());
            long lostAt = holderA.lastLostNanos();
            long grantedAt = holderB.lastGrantedNanos();
            assertTrue(lostAt < grantedAt, "a fenced itself before b got its permit");
            assertTrue(a.status().failedRenewals() > 0);
            cut.set(false);
            waitFor(() -> holderA.held().size() == 1 && holderB.held().size() == 1, "a back, an even spread again");
        } finally {
            b.close();
            a.close();
        }
    }

    /** Many processes running rounds at once on PostgreSQL: SKIP LOCKED never hands a row to two of them. */
    @Test
    void concurrentRounds_postgres_neverTheSameRowTwice() throws Exception {
        DataSource db = TestDatabases.postgres();
        String table = TestDatabases.freshTable();
        Jdbi jdbi = Jdbi.create(db);
        List<JdbcSourcePermits> members = new ArrayList<>();
        List<ProbeHolder> holders = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            JdbcSourcePermits p = JdbcSourcePermits.builder(jdbi, Dialect.POSTGRESQL).table(table).permits(7)
                    .lease(Duration.ofSeconds(5)).renewInterval(Duration.ofMillis(50)).memberId("m" + i).build();
            if (i == 0) {
                p.createTablesIfNotExists();
            }
            members.add(p);
        }
        List<Thread> starts = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            ProbeHolder h = new ProbeHolder(true);
            holders.add(h);
            JdbcSourcePermits p = members.get(i);
            Thread t = new Thread(() -> p.start(h));
            starts.add(t);
            t.start();
        }
        for (Thread t : starts) {
            t.join();
        }
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int settledChecks = 0;
            while (settledChecks < 20 && System.nanoTime() < deadline) {
                Set<Integer> seen = new TreeSet<>();
                int sum = 0;
                for (ProbeHolder h : holders) {
                    for (int k : h.held()) {
                        assertTrue(seen.add(k), () -> "a permit held twice: " + holders.stream().map(ProbeHolder::held).toList());
                        sum++;
                    }
                }
                settledChecks = sum == 7 ? settledChecks + 1 : 0;
                Thread.sleep(20);
            }
            assertEquals(20, settledChecks, () -> "never settled at 7 permits: " + holders.stream().map(ProbeHolder::held).toList());
        } finally {
            members.forEach(JdbcSourcePermits::close);
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    /** A holder that also notes when it last lost and was granted a permit. */
    static final class TimedHolder implements dev.relay.api.PermitHolder {
        private final ProbeHolder probe = new ProbeHolder(true);
        private volatile long lostAt;
        private volatile long grantedAt;

        @Override
        public void granted(int permit) {
            grantedAt = System.nanoTime();
            probe.granted(permit);
        }

        @Override
        public void revoked(int permit, Duration grace, Runnable giveBack) {
            probe.revoked(permit, grace, giveBack);
        }

        @Override
        public void lost(int permit) {
            lostAt = System.nanoTime();
            probe.lost(permit);
        }

        Set<Integer> held() {
            return probe.held();
        }

        long lastLostNanos() {
            return lostAt;
        }

        long lastGrantedNanos() {
            return grantedAt;
        }
    }

    /** A data source that refuses connections while the flag is set, as a database out of reach. */
    static final class CuttableDataSource implements DataSource {
        private final DataSource delegate;
        private final AtomicBoolean cut;

        CuttableDataSource(DataSource delegate, AtomicBoolean cut) {
            this.delegate = delegate;
            this.cut = cut;
        }

        @Override
        public Connection getConnection() throws SQLException {
            if (cut.get()) {
                throw new SQLException("connection refused (cut by the test)", "08001");
            }
            return delegate.getConnection();
        }

        @Override
        public Connection getConnection(String user, String password) throws SQLException {
            return getConnection();
        }

        @Override
        public java.io.PrintWriter getLogWriter() throws SQLException {
            return delegate.getLogWriter();
        }

        @Override
        public void setLogWriter(java.io.PrintWriter out) throws SQLException {
            delegate.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            delegate.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return delegate.getLoginTimeout();
        }

        @Override
        public java.util.logging.Logger getParentLogger() throws java.sql.SQLFeatureNotSupportedException {
            return delegate.getParentLogger();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            return delegate.unwrap(iface);
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) throws SQLException {
            return delegate.isWrapperFor(iface);
        }
    }
}
