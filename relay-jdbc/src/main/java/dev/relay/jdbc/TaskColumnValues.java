package dev.relay.jdbc;

import java.math.BigDecimal;
import java.sql.JDBCType;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * Turns a task parameter's text into a value of a target column's JDBC type, so that a task column is bound as
 * what the column holds ({@code DISTRICT INTEGER} gets {@code 7}, not {@code '7'}, which PostgreSQL refuses:
 * "operator does not exist: integer = character varying"). The text must be the type's canonical form: decimal
 * digits for integers, {@link BigDecimal#BigDecimal(String)} for decimals, {@code true}/{@code false} for booleans,
 * ISO-8601 for dates, times and timestamps; nothing is trimmed or guessed. Stateless and threadsafe.
 */
final class TaskColumnValues {

    private TaskColumnValues() {
    }

    /**
     * @param text the parameter's value
     * @param jdbcType the column's type, a {@link Types} constant
     * @return the value to bind with {@code setObject}
     * @throws IllegalArgumentException naming what was expected, if the text is not of the type or the type is
     *         not one a task column can hold
     */
    static Object convert(String text, int jdbcType) {
        try {
            switch (jdbcType) {
                case Types.CHAR:
                case Types.VARCHAR:
                case Types.LONGVARCHAR:
                case Types.NCHAR:
                case Types.NVARCHAR:
                case Types.LONGNVARCHAR:
                case Types.CLOB:
                case Types.NCLOB:
                    return text;
                case Types.TINYINT:
                case Types.INTEGER:
                    return Integer.valueOf(text);
                case Types.SMALLINT:
                    return Short.valueOf(text);
                case Types.BIGINT:
                    return Long.valueOf(text);
                case Types.DECIMAL:
                case Types.NUMERIC:
                    return new BigDecimal(text);
                case Types.REAL:
                case Types.FLOAT:
                case Types.DOUBLE:
                    return Double.valueOf(text);
                case Types.BOOLEAN:
                case Types.BIT:
                    if (text.equals("true") || text.equals("false")) {
                        return Boolean.valueOf(text);
                    }
                    throw new IllegalArgumentException("not a boolean: expected true or false");
                case Types.DATE:
                    return LocalDate.parse(text);
                case Types.TIME:
                    return LocalTime.parse(text);
                case Types.TIMESTAMP:
                    return LocalDateTime.parse(text);
                default:
                    throw new IllegalArgumentException("a task column of JDBC type " + name(jdbcType) + " cannot be filled from a "
                            + "task parameter; use a character, integer, decimal, floating-point, boolean, date, time or "
                            + "timestamp column");
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number of JDBC type " + name(jdbcType)
                    + (jdbcType == Types.DECIMAL || jdbcType == Types.NUMERIC || jdbcType == Types.REAL
                            || jdbcType == Types.FLOAT || jdbcType == Types.DOUBLE ? "" : " (decimal digits in range)"), e);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not an ISO-8601 " + name(jdbcType).toLowerCase(Locale.ROOT)
                    + (jdbcType == Types.DATE ? " (2024-03-14)" : jdbcType == Types.TIME ? " (19:00)" : " (2024-03-14T19:00)"), e);
        }
    }

    /** @return the name of a {@link Types} constant, or the number if it has none */
    static String name(int jdbcType) {
        try {
            return JDBCType.valueOf(jdbcType).getName();
        } catch (IllegalArgumentException e) {
            return Integer.toString(jdbcType);
        }
    }
}
