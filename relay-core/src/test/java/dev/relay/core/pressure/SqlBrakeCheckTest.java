package dev.relay.core.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SQL check's semantics on H2 (always available); the PostgreSQL brake test runs it against a real source. */
class SqlBrakeCheckTest {

    DataSource ds;

    @BeforeEach
    void database() throws SQLException {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:brake" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
        ds = h2;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE load_signal (name VARCHAR(20), sessions INT, label VARCHAR(20))");
            s.execute("INSERT INTO load_signal VALUES ('batch', 42, 'busy'), ('idle', 3, NULL)");
        }
    }

    @Test
    void check_stopAbove_comparesTheNumber() throws Exception {
        SqlBrakeCheck busy = BrakeCheck.sql(ds, "SELECT sessions FROM load_signal WHERE name = 'batch'").label("active sessions")
                .stopAbove(30).build();
        BrakeCheck.Verdict v = busy.check();
        assertFalse(v.go());
        assertEquals("active sessions 42 > 30", v.reason());
        BrakeCheck.Verdict idle = BrakeCheck.sql(ds, "SELECT sessions FROM load_signal WHERE name = 'idle'").label("active sessions")
                .stopAbove(30).build().check();
        assertTrue(idle.go());
        assertEquals("active sessions 3 ≤ 30", idle.reason());
        assertTrue(BrakeCheck.sql(ds, "SELECT 30").stopAbove(30).build().check().go(), "at the threshold is go");
    }

    @Test
    void check_stopBelow_comparesTheNumber() throws Exception {
        assertFalse(BrakeCheck.sql(ds, "SELECT 2.5").label("free sessions").stopBelow(5).build().check().go());
        BrakeCheck.Verdict v = BrakeCheck.sql(ds, "SELECT 7.25").label("free sessions").stopBelow(5).build().check();
        assertTrue(v.go());
        assertEquals("free sessions 7.250 ≥ 5", v.reason());
    }

    @Test
    void check_anythingButOneNumber_failsSayingWhatCameBack() {
        assertMessage("SELECT sessions FROM load_signal WHERE name = 'none'", "returned no row");
        assertMessage("SELECT sessions FROM load_signal", "more than one row");
        assertMessage("SELECT NULL", "returned NULL");
        assertMessage("SELECT label FROM load_signal WHERE name = 'batch'", "returned 'busy'");
        assertMessage("SELECT 1, 2", "one column but returned 2");
        assertMessage("SELECT * FROM no_such_table", "NO_SUCH_TABLE");
    }

    void assertMessage(String query, String expected) {
        SQLException e = assertThrows(SQLException.class, () -> BrakeCheck.sql(ds, query).stopAbove(1).build().check());
        assertTrue(e.getMessage().contains(expected), query + " -> " + e.getMessage());
    }

    @Test
    void builder_withoutThresholdOrBadValues_fails() {
        assertTrue(assertThrows(IllegalStateException.class, () -> BrakeCheck.sql(ds, "SELECT 1").build()).getMessage()
                .contains("stopAbove"));
        assertThrows(IllegalArgumentException.class, () -> BrakeCheck.sql(ds, " "));
        assertThrows(IllegalArgumentException.class, () -> BrakeCheck.sql(ds, "SELECT 1").stopAbove(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> BrakeCheck.sql(ds, "SELECT 1").queryTimeout(Duration.ofMillis(10)));
    }
}
