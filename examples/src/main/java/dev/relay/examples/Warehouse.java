package dev.relay.examples;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcConnectionPool;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The embedded stand-in for the Snowflake warehouse: an in-memory H2 database with {@code RAW.VDS30SEC} (the
 * districts' raw rows side by side, with a {@code DISTRICT} column) and the {@code PEMS} schema into which the
 * config snapshots are swapped. It also checks, at the end of a run, the sink against the source: rows relayed,
 * rows duplicated, windows missing, config tables matching.
 *
 * <p>Not threadsafe: the demo's simulation thread creates and verifies it; the relay's sinks write through their
 * own connections.
 */
final class Warehouse implements AutoCloseable {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private final JdbcDataSource dataSource;
    private final JdbcConnectionPool pool;
    private final Connection keepAlive;

    Warehouse() throws SQLException {
        dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:pems-warehouse-" + SEQUENCE.incrementAndGet() + ";DB_CLOSE_DELAY=-1");
        dataSource.setUser("sa");
        dataSource.setPassword("");
        keepAlive = dataSource.getConnection();
        // the relay opens a connection per task: a pool reuses H2 sessions and their parsed statements
        pool = JdbcConnectionPool.create(dataSource);
        pool.setMaxConnections(8);
        try (Statement st = keepAlive.createStatement()) {
            st.execute("CREATE SCHEMA RAW");
            st.execute("CREATE SCHEMA PEMS");
            st.execute(PemsSource.vdsDdl("RAW.VDS30SEC", true));
            st.execute("CREATE INDEX RAW.VDS30SEC_WINDOW ON RAW.VDS30SEC (DISTRICT, SAMPLE_TIME)");
        }
    }

    /** @return the warehouse's connections */
    DataSource dataSource() {
        return pool;
    }

    /**
     * What the sink holds compared with the source.
     *
     * @param rowsRelayed raw rows in the sink
     * @param rowsDuplicated raw rows beyond the first of each (district, station, sample time)
     * @param windowsChecked 10-minute district windows compared
     * @param windowsMissing windows whose rows in the sink differ from the source's (count or checksum)
     * @param configTablesMatching config tables whose sink row count equals the source's
     * @param configTables config tables compared
     */
    record Check(long rowsRelayed, long rowsDuplicated, long windowsChecked, long windowsMissing,
            int configTablesMatching, int configTables) {

        boolean ok() {
            return rowsDuplicated == 0 && windowsMissing == 0 && configTablesMatching == configTables;
        }
    }

    /**
     * Compares the sink with the source over the raw windows of {@code [from, to)} and the config tables.
     *
     * @param source the source
     * @param from the first window start (on a 10-minute boundary)
     * @param to the end of the last window that should have been relayed
     * @return the comparison
     */
    Check verify(PemsSource source, LocalDateTime from, LocalDateTime to) throws SQLException {
        long relayed;
        long duplicated;
        try (Statement st = keepAlive.createStatement()) {
            relayed = single(st, "SELECT COUNT(*) FROM RAW.VDS30SEC");
            duplicated = single(st, "SELECT COALESCE(SUM(C - 1), 0) FROM (SELECT COUNT(*) AS C FROM RAW.VDS30SEC"
                    + " GROUP BY DISTRICT, VDS_ID, SAMPLE_TIME HAVING COUNT(*) > 1) T");
        }
        long checked = 0;
        long missing = 0;
        for (int d : PemsSource.DISTRICTS) {
            Map<Long, long[]> src = windows(source.connection(), PemsSource.schema(d) + ".VDS30SEC", null, from, to);
            Map<Long, long[]> dst = windows(keepAlive, "RAW.VDS30SEC", PemsSource.schema(d), from, to);
            for (Map.Entry<Long, long[]> e : src.entrySet()) {
                checked++;
                long[] s = e.getValue();
                long[] w = dst.get(e.getKey());
                if (w == null || w[0] != s[0] || w[1] != s[1]) {
                    missing++;
                }
            }
        }
        int matching = 0;
        for (String table : PemsSource.CONFIG_TABLES.keySet()) {
            long expected;
            try (Statement st = source.connection().createStatement()) {
                expected = single(st, "SELECT COUNT(*) FROM PEMS." + table);
            }
            try (Statement st = keepAlive.createStatement()) {
                if (single(st, "SELECT COUNT(*) FROM PEMS." + table) == expected) {
                    matching++;
                }
            } catch (SQLException e) {
                // the table was never loaded: not matching
            }
        }
        return new Check(relayed, duplicated, checked, missing, matching, PemsSource.CONFIG_TABLES.size());
    }

    /** Per 10-minute window: row count and a checksum of the rows' values. */
    private static Map<Long, long[]> windows(Connection c, String table, String district, LocalDateTime from,
            LocalDateTime to) throws SQLException {
        String sql = "SELECT DATEDIFF(MINUTE, TIMESTAMP '2000-01-01 00:00:00', SAMPLE_TIME) / 10 AS W, COUNT(*),"
                + " SUM(CAST(VDS_ID AS BIGINT) * 31 + COALESCE(LOOP1_VOL, 0) + 7 * COALESCE(LOOP14_VOL, 0)"
                + " + CAST(COALESCE(LOOP7_SPD, 0) AS BIGINT) + DATEDIFF(SECOND, SAMPLE_TIME, RECV_TIME))"
                + " FROM " + table + " WHERE SAMPLE_TIME >= ? AND SAMPLE_TIME < ?"
                + (district == null ? "" : " AND DISTRICT = ?") + " GROUP BY W";
        Map<Long, long[]> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, from);
            ps.setObject(2, to);
            if (district != null) {
                ps.setString(3, district);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getLong(1), new long[] {rs.getLong(2), rs.getLong(3)});
                }
            }
        }
        return out;
    }

    private static long single(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public void close() {
        pool.dispose();
        try (Statement st = keepAlive.createStatement()) {
            st.execute("SHUTDOWN");
        } catch (SQLException e) {
            // closing an in-memory database: nothing to lose
        }
        try {
            keepAlive.close();
        } catch (SQLException e) {
            // already gone
        }
    }
}
