package dev.relay.jdbc;

import dev.relay.api.Row;
import org.h2.jdbcx.JdbcDataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * A PeMS-like source in H2 (Oracle mode) shared by the sink tests: one day of VDS30SEC rows for three stations
 * in D7.VDS30SEC and D4.VDS30SEC, and two versions of a STATION_CONFIG table, plus the canonical text form
 * used to compare what a sink stored with what the source holds.
 */
final class SourceFixture {

    static final LocalDate DAY = LocalDate.of(2024, 3, 14);
    static final int STATIONS = 3;
    static final String HOSTILE = "'; DROP TABLE VICTIM; --";
    /** The autumn DST day: 01:00-02:00 local happens twice, so D7 holds two passes of it. */
    static final LocalDate AUTUMN = LocalDate.of(2024, 11, 3);

    private static JdbcDataSource source;

    private SourceFixture() {
    }

    /** @return the source, created on first use */
    static synchronized JdbcDataSource source() {
        if (source == null) {
            JdbcDataSource ds = H2TestSupport.oracleMode("source");
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                for (String d : List.of("D4", "D7")) {
                    s.execute("CREATE SCHEMA " + d);
                    s.execute(Vds30Sec.ddl(d + ".VDS30SEC"));
                    Vds30Sec.insert(c, d + ".VDS30SEC", Vds30Sec.samples(DAY.atStartOfDay(), 2880, STATIONS));
                }
                List<Object[]> autumn = new ArrayList<>(Vds30Sec.samples(AUTUMN.atTime(0, 0), 360, STATIONS));
                for (Object[] r : Vds30Sec.samples(AUTUMN.atTime(1, 0), 120, STATIONS)) {
                    r[1] = ((LocalDateTime) r[0]).plusSeconds(19); // the second pass, told apart by RECV_TIME
                    autumn.add(r);
                }
                Vds30Sec.insert(c, "D7.VDS30SEC", autumn);
                for (String v : List.of("V1", "V2")) {
                    s.execute("CREATE TABLE PEMS_STATION_CONFIG_" + v + " (STATION_ID INTEGER NOT NULL, NAME VARCHAR2(200),"
                            + " LATITUDE DOUBLE PRECISION, VALID_FROM TIMESTAMP, ACTIVE NUMBER(1))");
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO PEMS_STATION_CONFIG_" + v
                            + " VALUES (?, ?, ?, ?, ?)")) {
                        int n = v.equals("V1") ? 2000 : 2500;
                        for (int i = 1; i <= n; i++) {
                            ps.setInt(1, i);
                            ps.setString(2, i == 7 ? HOSTILE : i % 50 == 0 ? null : "Station " + i + " " + v);
                            ps.setDouble(3, 32.5 + i / 1000.0);
                            ps.setObject(4, LocalDateTime.of(2020, 1, 1, 0, 0).plusHours(i));
                            ps.setInt(5, i % 2);
                            ps.addBatch();
                        }
                        ps.executeBatch();
                    }
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            source = ds;
        }
        return source;
    }

    /** @return a puller over the source: "vds30sec" (district parameter) and "station-config-v1"/"-v2" */
    static JdbcPuller puller() {
        return JdbcPuller.builder(source(), Dialect.H2)
                .query(SourceQuery.window("vds30sec",
                                "SELECT * FROM ${district}.VDS30SEC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end")
                        .identifier("district", "D(3|4|5|6|7|8|10|11|12)").build())
                .query(SourceQuery.snapshot("station-config-v1", "SELECT * FROM PEMS_STATION_CONFIG_V1").build())
                .query(SourceQuery.snapshot("station-config-v2", "SELECT * FROM PEMS_STATION_CONFIG_V2").build())
                .fetchSize(500).chunkSize(400).build();
    }

    /**
     * @param row a row
     * @return its values as comparable text: numbers as doubles, times as ISO local date-times
     */
    static String canonical(Row row) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < row.size(); i++) {
            sb.append(canonicalValue(row.get(i))).append('|');
        }
        return sb.toString();
    }

    private static String canonicalValue(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Boolean b) {
            return b ? "1.0" : "0.0";
        }
        if (v instanceof Number n) {
            return Double.toString(n.doubleValue());
        }
        return v.toString();
    }

    /**
     * @param rows rows
     * @return their canonical forms, sorted
     */
    static List<String> canonical(List<Row> rows) {
        List<String> out = new ArrayList<>(rows.size());
        rows.forEach(r -> out.add(canonical(r)));
        out.sort(null);
        return out;
    }

    /**
     * @param connection a connection to a sink
     * @param sql a query whose columns are in the source's order
     * @return the canonical forms of its rows, sorted
     * @throws SQLException on failure
     */
    static List<String> canonical(Connection connection, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder sb = new StringBuilder();
                for (int i = 1; i <= n; i++) {
                    int type = rs.getMetaData().getColumnType(i);
                    Object v = type == java.sql.Types.TIMESTAMP ? rs.getObject(i, LocalDateTime.class) : rs.getObject(i);
                    sb.append(canonicalValue(v)).append('|');
                }
                out.add(sb.toString());
            }
        }
        out.sort(null);
        return out;
    }
}
