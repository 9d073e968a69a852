package dev.relay.s3;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads Parquet files back for the tests with DuckDB, an independent (C++) Parquet implementation: if DuckDB reads
 * the values and logical types back as written, other engines (Snowflake) can too. (parquet-java's own reader cannot
 * be used here: its read options need Hadoop, which the tests keep off the class path to show that writing does not.)
 */
final class ParquetRead {

    /** One in-memory DuckDB for the JVM (opening one costs more than reading a small file). */
    private static Connection duck;

    private ParquetRead() {
    }

    private static synchronized Connection duck() throws SQLException {
        if (duck == null) {
            duck = DriverManager.getConnection("jdbc:duckdb:");
        }
        return duck;
    }

    /** One Parquet column as the file declares it (DuckDB's {@code parquet_schema}). */
    record ColumnInfo(String name, String physical, String logical, String duckType) {
    }

    /** A file read back: its columns, footer key-value metadata, row groups, writer, codecs and decoded rows. */
    record File(List<ColumnInfo> columns, Map<String, String> metadata, int rowGroups, String createdBy,
                List<String> compressions, List<Object[]> rows) {
        /** @return the position of a column by name, or -1 */
        int column(String name) {
            for (int i = 0; i < columns.size(); i++) {
                if (columns.get(i).name().equals(name)) {
                    return i;
                }
            }
            return -1;
        }

        /** @return the column by name */
        ColumnInfo info(String name) {
            int i = column(name);
            if (i < 0) {
                throw new AssertionError("no column " + name + " in " + columns);
            }
            return columns.get(i);
        }
    }

    /**
     * @param bytes a whole Parquet file
     * @return it, decoded
     */
    static File read(byte[] bytes) {
        return read(bytes, true);
    }

    /**
     * @param bytes a whole Parquet file
     * @param footer whether to read the footer's metadata too (key-value pairs, row groups, writer, codecs)
     * @return it, decoded
     */
    static File read(byte[] bytes, boolean footer) {
        try {
            Path f = Files.createTempFile("relay-s3-read-", ".parquet");
            try {
                Files.write(f, bytes);
                return read(f, footer);
            } finally {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param file a Parquet file
     * @return it, decoded
     */
    static File read(Path file) {
        return read(file, true);
    }

    private static synchronized File read(Path file, boolean footer) {
        String p = literal(file);
        try (Statement s = duck().createStatement()) {
            List<String> duckTypes = new ArrayList<>();
            if (footer) {
                try (ResultSet rs = s.executeQuery("DESCRIBE SELECT * FROM read_parquet(" + p + ")")) {
                    while (rs.next()) {
                        duckTypes.add(rs.getString("column_type"));
                    }
                }
            }
            List<ColumnInfo> columns = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT name, type, logical_type FROM parquet_schema(" + p + ") WHERE num_children IS NULL")) {
                int i = 0;
                while (rs.next()) {
                    columns.add(new ColumnInfo(rs.getString(1), rs.getString(2), rs.getString(3), footer ? duckTypes.get(i) : null));
                    i++;
                }
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            int rowGroups = -1;
            List<String> compressions = new ArrayList<>();
            String createdBy = null;
            if (footer) {
                try (ResultSet rs = s.executeQuery("SELECT decode(key), decode(value) FROM parquet_kv_metadata(" + p + ")")) {
                    while (rs.next()) {
                        metadata.put(rs.getString(1), rs.getString(2));
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT count(DISTINCT row_group_id) FROM parquet_metadata(" + p + ")")) {
                    rs.next();
                    rowGroups = rs.getInt(1);
                }
                try (ResultSet rs = s.executeQuery("SELECT DISTINCT compression FROM parquet_metadata(" + p + ") ORDER BY 1")) {
                    while (rs.next()) {
                        compressions.add(rs.getString(1));
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT created_by FROM parquet_file_metadata(" + p + ")")) {
                    rs.next();
                    createdBy = rs.getString(1);
                }
            }
            StringBuilder select = new StringBuilder("SELECT ");
            for (int i = 0; i < columns.size(); i++) {
                String logical = String.valueOf(columns.get(i).logical());
                String col = "\"" + columns.get(i).name().replace("\"", "\"\"") + "\"";
                select.append(i == 0 ? "" : ", ").append(logical.startsWith("TimestampType") ? "epoch_ns(" + col + ")"
                        : logical.startsWith("TimeType") ? "CAST(" + col + " AS VARCHAR)" : col);
            }
            List<Object[]> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery(select + " FROM read_parquet(" + p + ")")) {
                var md = rs.getMetaData();
                while (rs.next()) {
                    Object[] row = new Object[columns.size()];
                    for (int i = 0; i < row.length; i++) {
                        row[i] = value(rs, i + 1, md.getColumnTypeName(i + 1), String.valueOf(columns.get(i).logical()));
                    }
                    rows.add(row);
                }
            }
            return new File(columns, metadata, rowGroups, createdBy, compressions, rows);
        } catch (SQLException e) {
            throw new AssertionError("DuckDB could not read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param file a Parquet file
     * @return its row count (from the footer)
     */
    static synchronized long rowCount(Path file) {
        try (Statement s = duck().createStatement();
             ResultSet rs = s.executeQuery("SELECT num_rows FROM parquet_file_metadata(" + literal(file) + ")")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new AssertionError("DuckDB could not read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param bytes a whole Parquet file
     * @param selectList aggregates over its rows, in DuckDB's SQL
     * @return the one result row
     */
    static synchronized Object[] aggregate(byte[] bytes, String selectList) {
        try {
            Path f = Files.createTempFile("relay-s3-agg-", ".parquet");
            try {
                Files.write(f, bytes);
                try (Statement s = duck().createStatement();
                     ResultSet rs = s.executeQuery("SELECT " + selectList + " FROM read_parquet(" + literal(f) + ")")) {
                    rs.next();
                    Object[] row = new Object[rs.getMetaData().getColumnCount()];
                    for (int i = 0; i < row.length; i++) {
                        row[i] = rs.getObject(i + 1);
                    }
                    return row;
                }
            } finally {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (SQLException e) {
            throw new AssertionError("DuckDB could not aggregate: " + e.getMessage(), e);
        }
    }

    /**
     * @param file a Parquet file
     * @param column an integer column
     * @return the sum of the column over the file
     */
    static synchronized long sum(Path file, String column) {
        try (Statement s = duck().createStatement();
             ResultSet rs = s.executeQuery("SELECT sum(\"" + column + "\") FROM read_parquet(" + literal(file) + ")")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new AssertionError("DuckDB could not read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String literal(Path file) {
        return "'" + file.toAbsolutePath().toString().replace("'", "''") + "'";
    }

    private static Object value(ResultSet rs, int i, String type, String logical) throws SQLException {
        String t = type.toUpperCase(Locale.ROOT);
        Object raw = rs.getObject(i);
        if (raw == null) {
            return null;
        }
        if (logical.startsWith("TimestampType")) {
            long nanos = rs.getLong(i);
            Instant instant = Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
            return utc(logical) ? instant : LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
        }
        if (logical.startsWith("TimeType")) {
            return LocalTime.parse(rs.getString(i));
        }
        if (t.equals("BOOLEAN")) {
            return rs.getBoolean(i);
        }
        if (t.equals("TINYINT") || t.equals("SMALLINT") || t.equals("INTEGER") || t.equals("BIGINT")) {
            return rs.getLong(i);
        }
        if (t.equals("FLOAT")) {
            return rs.getFloat(i);
        }
        if (t.equals("DOUBLE")) {
            return rs.getDouble(i);
        }
        if (t.startsWith("DECIMAL")) {
            return rs.getBigDecimal(i);
        }
        if (t.equals("VARCHAR")) {
            return rs.getString(i);
        }
        if (t.equals("BLOB")) {
            return rs.getBytes(i);
        }
        if (t.equals("DATE")) {
            return rs.getObject(i, LocalDate.class);
        }
        throw new AssertionError("unexpected DuckDB type " + type);
    }

    /** @return whether a Parquet logical type (as DuckDB prints it) is a UTC-adjusted timestamp */
    static boolean utc(String logical) {
        String l = logical == null ? "" : logical.replace(" ", "").toLowerCase(Locale.ROOT);
        return l.contains("isadjustedtoutc=1") || l.contains("isadjustedtoutc=true");
    }

    /** @return a value's text for messages */
    static String show(Object v) {
        return v instanceof byte[] b ? new String(b, StandardCharsets.ISO_8859_1) : String.valueOf(v);
    }

    /** Normalises a decimal for comparison (DuckDB keeps the column's scale). */
    static BigDecimal decimal(Object v) {
        return (BigDecimal) v;
    }
}
