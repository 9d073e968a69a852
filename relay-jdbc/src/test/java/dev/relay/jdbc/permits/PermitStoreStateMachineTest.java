package dev.relay.jdbc.permits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.permits.VirtualCluster.Member;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The permit store's state machine, in any order: rounds (acquire, renew, release of given-back permits, revocation of
 * a surplus), time passing (leases expiring), members freezing and thawing, crashing (rows left behind) and leaving
 * (rows freed), holders giving back late. After every step no permit is used by two running members; at the end,
 * after every member crashed and the leases ran out, a new member gets all {@code P}: nothing leaked.
 */
class PermitStoreStateMachineTest {

    private static final int MEMBERS = 3;

    @Test
    void anyOrder_h2_neverTwoHoldersAndNothingLeaks() {
        DataSource db = TestDatabases.h2(false);
        qt().withFixedSeed(42L).withExamples(60)
                .forAll(integers().between(1, 5), integers().between(0, 5_000_000), lists().of(integers().between(0, 7 * 3 * 100 - 1)).ofSizeBetween(1, 60))
                .checkAssert((total, dbOffset, ops) -> run(db, Dialect.H2, total, dbOffset, ops));
    }

    @Test
    void anyOrder_h2OracleMode_neverTwoHoldersAndNothingLeaks() {
        DataSource db = TestDatabases.h2(true);
        qt().withFixedSeed(43L).withExamples(15)
                .forAll(integers().between(1, 5), integers().between(0, 5_000_000), lists().of(integers().between(0, 7 * 3 * 100 - 1)).ofSizeBetween(1, 60))
                .checkAssert((total, dbOffset, ops) -> run(db, Dialect.H2, total, dbOffset, ops));
    }

    @Test
    void anyOrder_postgres_neverTwoHoldersAndNothingLeaks() {
        DataSource db = TestDatabases.postgres();
        qt().withFixedSeed(44L).withExamples(10)
                .forAll(integers().between(1, 5), integers().between(0, 5_000_000), lists().of(integers().between(0, 7 * 3 * 100 - 1)).ofSizeBetween(1, 40))
                .checkAssert((total, dbOffset, ops) -> run(db, Dialect.POSTGRESQL, total, dbOffset, ops));
    }

    static void run(DataSource db, Dialect dialect, int total, long dbOffset, List<Integer> ops) {
        VirtualCluster cluster = new VirtualCluster(db, dialect, total, dbOffset);
        Member[] slots = new Member[MEMBERS];
        for (int i = 0; i < MEMBERS; i++) {
            slots[i] = cluster.join(i % 2 == 0);
        }
        StringBuilder trace = new StringBuilder();
        for (int code : ops) {
            int op = code % 7;
            int slot = (code / 7) % MEMBERS;
            int amount = code / 21; // 0 … 99
            Member m = slots[slot];
            boolean running = !m.frozen && !m.dead;
            switch (op) {
                case 0, 1 -> { // a round, its clock read delayed a little
                    if (running) {
                        cluster.delayNextRound(amount % 60);
                        m.permits.round();
                    }
                }
                case 2 -> cluster.advance(amount * 15L); // up to 1.5 leases
                case 3 -> m.frozen = !m.frozen; // freeze, or thaw: its overdue timer fires at the next check
                case 4 -> { // kill -9: its rows stay until their lease runs out; a new process takes the slot
                    m.dead = true;
                    m.permits.crash();
                    slots[slot] = cluster.join(slot % 2 == 0);
                }
                case 5 -> { // a graceful stop once its engine stopped: its rows are freed at once
                    if (running) {
                        m.holder.giveBackAll();
                        m.dead = true;
                        m.permits.close();
                        slots[slot] = cluster.join(slot % 2 == 0);
                    }
                }
                default -> {
                    if (running) {
                        m.holder.giveBackAll(); // the queries on its revoked permits ended
                    }
                }
            }
            trace.append(op).append(':').append(slot).append(':').append(amount).append(' ');
            cluster.checkSafety(trace.toString());
        }
        // every member crashes and every lease runs out: a newcomer alone gets all P within two rounds
        for (Member m : cluster.members()) {
            if (!m.dead) {
                m.dead = true;
                m.permits.crash();
            }
        }
        cluster.advance(VirtualCluster.LEASE_MS + 1);
        Member fresh = cluster.join(true);
        fresh.permits.round();
        fresh.permits.round();
        assertEquals(total, fresh.using().size(), () -> "permits leaked after " + trace + ": " + cluster.describe());
        fresh.dead = true;
        fresh.permits.close();
    }
}
