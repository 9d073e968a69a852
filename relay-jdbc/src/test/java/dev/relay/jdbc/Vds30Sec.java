package dev.relay.jdbc;

import dev.relay.api.Row;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * PeMS VDS30SEC-shaped test data: SAMPLE_TIME, RECV_TIME, VDS_ID and 14 loops of VOL/OCC/SPD, with some nulls.
 * Values are a deterministic function of the station and the sample, so any copy can be checked.
 */
final class Vds30Sec {

    static final int LOOPS = 14;
    /** Columns per row: 3 + 3 per loop. */
    static final int WIDTH = 3 + 3 * LOOPS;

    private Vds30Sec() {
    }

    /**
     * @param table a table name
     * @return DDL that H2 (any mode) and PostgreSQL both accept
     */
    static String ddl(String table) {
        StringBuilder sql = new StringBuilder("CREATE TABLE ").append(table)
                .append(" (SAMPLE_TIME TIMESTAMP NOT NULL, RECV_TIME TIMESTAMP NOT NULL, VDS_ID INTEGER NOT NULL");
        for (int i = 1; i <= LOOPS; i++) {
            sql.append(", LOOP").append(i).append("_VOL INTEGER, LOOP").append(i).append("_OCC DOUBLE PRECISION, LOOP")
                    .append(i).append("_SPD DOUBLE PRECISION");
        }
        return sql.append(')').toString();
    }

    /**
     * @param sample the sample time
     * @param recv the receive time
     * @param vds the station
     * @return a row of values in DDL order
     */
    static Object[] row(LocalDateTime sample, LocalDateTime recv, int vds) {
        Object[] v = new Object[WIDTH];
        v[0] = sample;
        v[1] = recv;
        v[2] = vds;
        int minute = sample.getHour() * 60 + sample.getMinute();
        for (int i = 0; i < LOOPS; i++) {
            boolean missing = (vds + i) % 11 == 0; // some detectors report nothing
            v[3 + 3 * i] = missing ? null : (vds * 7 + minute + i) % 23;
            v[4 + 3 * i] = missing ? null : ((vds + minute + i) % 1000) / 10000.0;
            v[5 + 3 * i] = missing ? null : 40.0 + (vds + i + sample.getSecond()) % 35;
        }
        return v;
    }

    /**
     * Samples every 30 s in [start, start + samples * 30 s) for stations 1..stations.
     *
     * @param start first sample
     * @param samples samples per station
     * @param stations stations
     * @return rows
     */
    static List<Object[]> samples(LocalDateTime start, int samples, int stations) {
        List<Object[]> rows = new ArrayList<>(samples * stations);
        for (int s = 0; s < samples; s++) {
            LocalDateTime t = start.plusSeconds(30L * s);
            for (int vds = 1; vds <= stations; vds++) {
                rows.add(row(t, t.plusSeconds(7), vds));
            }
        }
        return rows;
    }

    /**
     * @param connection a connection (autocommit as it is)
     * @param table the table
     * @param rows rows in DDL order
     * @throws SQLException on failure
     */
    static void insert(Connection connection, String table, List<Object[]> rows) throws SQLException {
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" VALUES (?");
        sql.append(", ?".repeat(WIDTH - 1)).append(')');
        try (PreparedStatement ps = connection.prepareStatement(sql.toString())) {
            int n = 0;
            for (Object[] r : rows) {
                for (int i = 0; i < WIDTH; i++) {
                    if (r[i] == null) {
                        ps.setNull(i + 1, i % 3 == 0 ? java.sql.Types.INTEGER : java.sql.Types.DOUBLE);
                    } else {
                        ps.setObject(i + 1, r[i]);
                    }
                }
                ps.addBatch();
                if (++n % 1000 == 0) {
                    ps.executeBatch();
                }
            }
            ps.executeBatch();
        }
    }

    /**
     * PostgreSQL-only: generates rows server-side (fast, for large tables).
     *
     * @param table the table
     * @param start first sample
     * @param samples samples per station
     * @param stations stations
     * @return an INSERT … SELECT statement
     */
    static String generatePostgres(String table, LocalDateTime start, int samples, int stations) {
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" SELECT t, t + interval '7 seconds', v");
        for (int i = 0; i < LOOPS; i++) {
            sql.append(", CASE WHEN (v + ").append(i).append(") % 11 = 0 THEN NULL ELSE (v * 7 + ").append(i)
                    .append(") % 23 END, CASE WHEN (v + ").append(i).append(") % 11 = 0 THEN NULL ELSE ((v + ").append(i)
                    .append(") % 1000) / 10000.0 END, CASE WHEN (v + ").append(i)
                    .append(") % 11 = 0 THEN NULL ELSE 40.0 + (v + ").append(i).append(") % 35 END");
        }
        sql.append(" FROM generate_series(0, ").append(samples - 1).append(") s, generate_series(1, ").append(stations)
                .append(") v, LATERAL (SELECT TIMESTAMP '").append(start.toString().replace('T', ' '))
                .append("' + s * interval '30 seconds' AS t) x");
        return sql.toString();
    }

    /**
     * @param row a pulled row
     * @return its identity: sample time, receive time and station
     */
    static String key(Row row) {
        return row.get("SAMPLE_TIME") + "|" + row.get("RECV_TIME") + "|" + ((Number) row.get("VDS_ID")).intValue();
    }

    /**
     * @param values a generated row
     * @return its identity
     */
    static String key(Object[] values) {
        return values[0] + "|" + values[1] + "|" + values[2];
    }

    /**
     * @param connection a connection
     * @param table a table
     * @return the identities of all its rows, sorted, with duplicates
     * @throws SQLException on failure
     */
    static List<String> keys(Connection connection, String table) throws SQLException {
        List<String> keys = new ArrayList<>();
        try (Statement s = connection.createStatement();
             ResultSet rs = s.executeQuery("SELECT SAMPLE_TIME, RECV_TIME, VDS_ID FROM " + table)) {
            while (rs.next()) {
                keys.add(rs.getObject(1, LocalDateTime.class) + "|" + rs.getObject(2, LocalDateTime.class) + "|"
                        + rs.getInt(3));
            }
        }
        keys.sort(null);
        return keys;
    }

    /**
     * @param connection a connection
     * @param table a table
     * @return a checksum over every value of every row, independent of row order
     * @throws SQLException on failure
     */
    static long checksum(Connection connection, String table) throws SQLException {
        long sum = 0;
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM " + table)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                long h = 17;
                for (int i = 1; i <= n; i++) {
                    Object v = i <= 2 ? rs.getObject(i, LocalDateTime.class) : rs.getObject(i);
                    h = h * 31 + (v == null ? 0 : (v instanceof Number num ? Double.hashCode(num.doubleValue()) : v.hashCode()));
                }
                sum += h;
            }
        }
        return sum;
    }
}
