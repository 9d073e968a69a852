package dev.relay.examples;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The stand-in for the Snowflake warehouse: an in-memory H2 database (or a PostgreSQL database given by
 * {@code --sink-url}) with {@code RAW.VDS30SEC} (the
 * districts' raw rows side by side, with a {@code DISTRICT} column) and the {@code PEMS} schema into which the
 * config snapshots are swapped. It also checks, at the end of a run, the sink against the source: rows relayed,
 * rows duplicated, windows missing, config tables matching.
 *
 * <p>Not threadsafe: the demo's simulation thread creates and verifies it; the relay's sinks write through their
 * own connections.
 */
final class Warehouse implements AutoCloseable {

    private final DemoDatabase db;
    private final Connection keepAlive;

    /**
     * Creates the warehouse's schemas and raw table.
     *
     * @param db the database: an embedded H2, or a PostgreSQL ({@code --sink-url})
     */
    Warehouse(DemoDatabase db) throws SQLException {
        this.db = db;
        this.keepAlive = db.connection();
        try (Statement st = keepAlive.createStatement()) {
            db.createSchema(st, "RAW");
            db.createSchema(st, "PEMS");
            st.execute(PemsSource.vdsDdl(rawTable(), true));
            st.execute(db.createIndex("RAW", "VDS30SEC_WINDOW", "VDS30SEC", "DISTRICT, SAMPLE_TIME"));
        }
    }

    /** @return the raw table's qualified name */
    String rawTable() {
        return db.schema("RAW") + ".VDS30SEC";
    }

    /** @return the config tables' schema */
    String configSchema() {
        return db.schema("PEMS");
    }

    /** @return the warehouse's database */
    DemoDatabase database() {
        return db;
    }

    /** @return the warehouse's connections */
    DataSource dataSource() {
        return db.dataSource();
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
            relayed = single(st, "SELECT COUNT(*) FROM " + rawTable());
            duplicated = single(st, "SELECT COALESCE(SUM(C - 1), 0) FROM (SELECT COUNT(*) AS C FROM " + rawTable()
                    + " GROUP BY DISTRICT, VDS_ID, SAMPLE_TIME HAVING COUNT(*) > 1) T");
        }
        long checked = 0;
        long missing = 0;
        for (int d : PemsSource.DISTRICTS) {
            DemoDatabase sdb = source.database();
            Map<Long, long[]> src = windows(sdb, source.connection(), sdb.schema(PemsSource.schema(d)) + ".VDS30SEC", null,
                    from, to);
            Map<Long, long[]> dst = windows(db, keepAlive, rawTable(), PemsSource.schema(d), from, to);
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
                expected = single(st, "SELECT COUNT(*) FROM " + source.database().schema("PEMS") + "." + table);
            }
            try (Statement st = keepAlive.createStatement()) {
                if (single(st, "SELECT COUNT(*) FROM " + configSchema() + "." + table) == expected) {
                    matching++;
                }
            } catch (SQLException e) {
                // the table was never loaded: not matching
            }
        }
        return new Check(relayed, duplicated, checked, missing, matching, PemsSource.CONFIG_TABLES.size());
    }

    /** Per 10-minute window: row count and a checksum of the rows' values. */
    private static Map<Long, long[]> windows(DemoDatabase db, Connection c, String table, String district, LocalDateTime from,
            LocalDateTime to) throws SQLException {
        String sql = "SELECT " + db.windowNumber("SAMPLE_TIME") + " AS W, COUNT(*),"
                + " SUM(CAST(VDS_ID AS BIGINT) * 31 + COALESCE(LOOP1_VOL, 0) + 7 * COALESCE(LOOP14_VOL, 0)"
                + " + CAST(COALESCE(LOOP7_SPD, 0) AS BIGINT) + " + db.secondsBetween("SAMPLE_TIME", "RECV_TIME") + ")"
                + " FROM " + table + " WHERE SAMPLE_TIME >= ? AND SAMPLE_TIME < ?"
                + (district == null ? "" : " AND DISTRICT = ?") + " GROUP BY " + (db.embedded() ? "W" : "1");
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
        db.close();
    }
}
