package dev.relay.jdbc.ledger;

import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configuration and SQL generation, without a database. */
class JdbcCompletionLedgerTest {

    private final Jdbi jdbi = Jdbi.create("jdbc:h2:mem:unused");

    @Test
    void table_notAnIdentifier_isRejectedNamingTheValue() {
        for (String bad : new String[] {"ledger; DROP TABLE x", "1ledger", "a.b.c", "\"quoted\"", "", "x".repeat(64)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> JdbcCompletionLedger.builder(jdbi).table(bad), bad);
            assertTrue(e.getMessage().contains(bad.length() > 60 ? "xxxx" : bad), e.getMessage());
        }
    }

    @Test
    void table_schemaQualified_isAccepted_andDdlUsesIt() {
        JdbcCompletionLedger l = JdbcCompletionLedger.builder(jdbi).table("ops.relay_ledger").build();
        assertEquals("ops.relay_ledger", l.table());
        List<String> ddl = l.ddl();
        assertTrue(ddl.get(0).startsWith("CREATE TABLE ops.relay_ledger (task_id VARCHAR(32) NOT NULL PRIMARY KEY"), ddl.get(0));
        assertEquals("CREATE INDEX relay_ledger_series ON ops.relay_ledger (series, window_start)", ddl.get(1));
    }

    @Test
    void defaultTable_isRelayCompletionLedger() {
        assertEquals(JdbcCompletionLedger.DEFAULT_TABLE, JdbcCompletionLedger.builder(jdbi).build().table());
    }

    @Test
    void isUniqueViolation_looksForSqlStateClass23InTheCauses() {
        assertTrue(JdbcCompletionLedger.isUniqueViolation(new RuntimeException(new SQLException("dup", "23505"))));
        assertTrue(JdbcCompletionLedger.isUniqueViolation(new SQLException("ORA-00001", "23000")));
        assertFalse(JdbcCompletionLedger.isUniqueViolation(new RuntimeException(new SQLException("gone", "08006"))));
        assertFalse(JdbcCompletionLedger.isUniqueViolation(new RuntimeException("no sql")));
    }
}
