package dev.relay.examples;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The stand-in for the PeMS Oracle database: an in-memory H2 database in {@code MODE=Oracle} (or a PostgreSQL
 * database given by {@code --source-url}) with one
 * {@code Dn.VDS30SEC} table per district (a sample per station every 30 s, {@code SAMPLE_TIME} a naive
 * America/Los_Angeles local time) and the six {@code PEMS} config tables at their real proportions, scaled down.
 * Raw rows are a deterministic function of the station and the sample time (some detectors report nothing: nulls);
 * config rows are generated inside the database ({@code INSERT … SELECT FROM SYSTEM_RANGE}).
 *
 * <p>Not threadsafe: the demo's single simulation thread generates rows; the relay's puller reads through its
 * own connections.
 */
final class PemsSource implements AutoCloseable {

    /** The PeMS districts with raw detector data. */
    static final List<Integer> DISTRICTS = List.of(3, 4, 5, 6, 7, 8, 10, 11, 12);

    /** Loops per station row. */
    static final int LOOPS = 14;

    /** The config tables with their real row counts (PeMS, 2024). */
    static final Map<String, Long> CONFIG_TABLES;

    static {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("CONTROLLER_CONFIG", 11_157L);
        m.put("CONTROLLER_CONFIG_LOG", 58_297L);
        m.put("DETECTOR_CONFIG", 61_853L);
        m.put("DETECTOR_CONFIG_LOG", 5_613_692L);
        m.put("STATION_CONFIG", 24_448L);
        m.put("STATION_CONFIG_LOG", 338_813L);
        CONFIG_TABLES = java.util.Collections.unmodifiableMap(m);
    }

    private final DemoDatabase db;
    private final Connection keepAlive;
    private final int stations;
    private final Map<Integer, PreparedStatement> inserts = new java.util.HashMap<>();
    private long rowsGenerated;

    /**
     * Creates the schema and fills the config tables.
     *
     * @param db the database: the embedded H2 in Oracle mode, or a PostgreSQL ({@code --source-url})
     * @param stations stations per district
     * @param configScale divisor of the real config row counts
     */
    PemsSource(DemoDatabase db, int stations, int configScale) throws SQLException {
        this.db = db;
        this.stations = stations;
        this.keepAlive = db.connection();
        try (Statement st = keepAlive.createStatement()) {
            for (int d : DISTRICTS) {
                db.createSchema(st, schema(d));
                st.execute(vdsDdl(db.schema(schema(d)) + ".VDS30SEC", false));
                st.execute(db.createIndex(schema(d), "VDS30SEC_TIME", "VDS30SEC", "SAMPLE_TIME"));
            }
            db.createSchema(st, "PEMS");
            for (Map.Entry<String, Long> t : CONFIG_TABLES.entrySet()) {
                String id = t.getKey().substring(0, t.getKey().indexOf('_')) + "_ID";
                st.execute("CREATE TABLE " + db.schema("PEMS") + "." + t.getKey() + " (" + id + " INTEGER NOT NULL, DISTRICT INTEGER NOT NULL,"
                        + " NAME VARCHAR(40) NOT NULL, STATUS VARCHAR(8), TIME_ID TIMESTAMP NOT NULL)");
                long rows = configRows(t.getKey(), configScale);
                st.execute("INSERT INTO " + db.schema("PEMS") + "." + t.getKey() + " SELECT X, " + districtCase("X")
                        + ", '" + t.getKey().toLowerCase(java.util.Locale.ROOT) + " ' || X,"
                        + " CASE MOD(X, 7) WHEN 0 THEN 'INACTIVE' ELSE 'ACTIVE' END,"
                        + " TIMESTAMP '2024-01-01 00:00:00' + MOD(X, 400) * INTERVAL '1' DAY"
                        + " FROM " + db.range(rows));
            }
        }
    }

    /**
     * @param table a config table
     * @param configScale the divisor
     * @return its scaled row count, at least 1
     */
    static long configRows(String table, int configScale) {
        return Math.max(1, Math.round(CONFIG_TABLES.get(table) / (double) configScale));
    }

    /** @return the schema name of a district, e.g. D7 */
    static String schema(int district) {
        return "D" + district;
    }

    /**
     * DDL of a VDS30SEC table.
     *
     * @param table the qualified name
     * @param withDistrict whether to add a leading DISTRICT column (the warehouse's form)
     * @return the statement
     */
    static String vdsDdl(String table, boolean withDistrict) {
        StringBuilder sql = new StringBuilder("CREATE TABLE ").append(table).append(" (");
        if (withDistrict) {
            sql.append("DISTRICT VARCHAR(3) NOT NULL, ");
        }
        sql.append("SAMPLE_TIME TIMESTAMP NOT NULL, RECV_TIME TIMESTAMP NOT NULL, VDS_ID INTEGER NOT NULL");
        for (int i = 1; i <= LOOPS; i++) {
            sql.append(", LOOP").append(i).append("_VOL INTEGER, LOOP").append(i).append("_OCC DOUBLE PRECISION, LOOP")
                    .append(i).append("_SPD DOUBLE PRECISION");
        }
        return sql.append(')').toString();
    }

    private static String districtCase(String x) {
        StringBuilder sb = new StringBuilder("CASE MOD(").append(x).append(", ").append(DISTRICTS.size()).append(')');
        for (int i = 0; i < DISTRICTS.size(); i++) {
            sb.append(" WHEN ").append(i).append(" THEN ").append(DISTRICTS.get(i));
        }
        return sb.append(" END").toString();
    }

    /**
     * Writes the samples of {@code [from, to)} for every station of every district, as the detectors would.
     *
     * @param from the first sample time, on a 30 s boundary
     * @param to the end, exclusive
     */
    void generate(LocalDateTime from, LocalDateTime to) throws SQLException {
        long samples = Duration.between(from, to).toSeconds() / 30;
        if (samples <= 0) {
            return;
        }
        for (int d : DISTRICTS) {
            PreparedStatement ps = inserts.get(d);
            if (ps == null) {
                StringBuilder sql = new StringBuilder("INSERT INTO ").append(db.schema(schema(d))).append(".VDS30SEC VALUES (?, ?, ?");
                sql.append(", ?".repeat(3 * LOOPS)).append(')');
                ps = keepAlive.prepareStatement(sql.toString());
                inserts.put(d, ps);
            }
            int batched = 0;
            for (long i = 0; i < samples; i++) {
                LocalDateTime sample = from.plusSeconds(30 * i);
                int minute = sample.getHour() * 60 + sample.getMinute();
                for (int s = 1; s <= stations; s++) {
                    int vds = d * 100_000 + s;
                    ps.setObject(1, sample);
                    ps.setObject(2, sample.plusSeconds(20 + vds % 9));
                    ps.setInt(3, vds);
                    for (int loop = 0; loop < LOOPS; loop++) {
                        boolean silent = (vds + loop) % 11 == 0; // some detectors report nothing
                        int p = 4 + 3 * loop;
                        if (silent) {
                            ps.setNull(p, java.sql.Types.INTEGER);
                            ps.setNull(p + 1, java.sql.Types.DOUBLE);
                            ps.setNull(p + 2, java.sql.Types.DOUBLE);
                        } else {
                            ps.setInt(p, (vds * 7 + minute + loop) % 23);
                            ps.setDouble(p + 1, ((vds + minute + loop) % 1000) / 10000.0);
                            ps.setDouble(p + 2, 40.0 + (vds + loop + minute * 3) % 35);
                        }
                    }
                    ps.addBatch();
                    if (++batched == 1000) {
                        ps.executeBatch();
                        batched = 0;
                    }
                    rowsGenerated++;
                }
            }
            if (batched > 0) {
                ps.executeBatch();
            }
        }
    }

    /** @return rows of raw data written so far, all districts */
    long rowsGenerated() {
        return rowsGenerated;
    }

    /** @return the stations per district */
    int stations() {
        return stations;
    }

    /** @return the source's connections */
    DataSource dataSource() {
        return db.dataSource();
    }

    /** @return the source's database */
    DemoDatabase database() {
        return db;
    }

    /** @return the long-lived connection of the demo thread (for verification queries) */
    Connection connection() {
        return keepAlive;
    }

    @Override
    public void close() {
        for (PreparedStatement ps : inserts.values()) {
            try {
                ps.close();
            } catch (SQLException e) {
                // closing anyway
            }
        }
        db.close();
    }
}
