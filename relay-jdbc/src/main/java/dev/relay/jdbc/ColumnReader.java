package dev.relay.jdbc;

import java.sql.JDBCType;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;

/**
 * Reads one column of the current row as the value a {@link dev.relay.api.Row} carries. Temporal values are
 * read as {@code java.time} types (never through {@link java.sql.Timestamp} and the JVM's time zone); LOBs are
 * materialised, since they do not outlive the row.
 */
@FunctionalInterface
interface ColumnReader {

    /**
     * @param rs a result set on a row
     * @param column the column from 1
     * @return the value or null
     * @throws SQLException if the driver fails
     */
    Object read(ResultSet rs, int column) throws SQLException;

    /**
     * @param type the column's JDBC type
     * @return the reader for it
     */
    static ColumnReader forType(JDBCType type) {
        switch (type) {
            case TIMESTAMP:
                return (rs, c) -> rs.getObject(c, LocalDateTime.class);
            case TIMESTAMP_WITH_TIMEZONE:
                return (rs, c) -> rs.getObject(c, OffsetDateTime.class);
            case DATE:
                return (rs, c) -> rs.getObject(c, LocalDate.class);
            case TIME:
                return (rs, c) -> rs.getObject(c, LocalTime.class);
            case CLOB:
            case NCLOB:
            case SQLXML:
            case LONGVARCHAR:
            case LONGNVARCHAR:
                return ResultSet::getString;
            case BLOB:
            case LONGVARBINARY:
                return ResultSet::getBytes;
            case ROWID:
                return ResultSet::getString;
            default:
                return ResultSet::getObject;
        }
    }
}
