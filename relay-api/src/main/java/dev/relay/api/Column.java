package dev.relay.api;

import java.sql.JDBCType;
import java.util.Objects;

/**
 * A column of a row stream: its name and its JDBC type.
 *
 * <p>Immutable and threadsafe.
 *
 * @param name the column name as the source reports it
 * @param type the JDBC type
 */
public record Column(String name, JDBCType type) {

    /**
     * Validates the fields.
     *
     * @param name the column name as the source reports it
     * @param type the JDBC type
     */
    public Column {
        Objects.requireNonNull(name, "column name");
        Objects.requireNonNull(type, () -> "type of column '" + name + "'");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("column name must not be empty");
        }
    }
}
