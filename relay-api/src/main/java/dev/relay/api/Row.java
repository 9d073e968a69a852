package dev.relay.api;

import java.util.Arrays;
import java.util.Objects;

/**
 * One row of a row stream: values in the order of its {@link RowSchema}.
 *
 * <p>Immutable once created and therefore threadsafe, provided the creator of {@link #wrap} hands the array
 * over and never touches it again. Values are JDBC objects ({@code Long}, {@code Double}, {@code String},
 * {@code java.time.LocalDateTime}, {@code java.math.BigDecimal}, …) or {@code null}.
 */
public final class Row {

    private final RowSchema schema;
    private final Object[] values;

    private Row(RowSchema schema, Object[] values) {
        this.schema = schema;
        this.values = values;
    }

    /**
     * A row over a copy of the values.
     *
     * @param schema the schema
     * @param values exactly one value per column
     * @return the row
     */
    public static Row of(RowSchema schema, Object... values) {
        return wrap(schema, values.clone());
    }

    /**
     * A row that takes ownership of {@code values} without copying (for pullers on the hot path): the caller
     * must not modify the array afterwards.
     *
     * @param schema the schema
     * @param values exactly one value per column
     * @return the row
     */
    public static Row wrap(RowSchema schema, Object[] values) {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(values, "values");
        if (values.length != schema.size()) {
            throw new IllegalArgumentException("row has " + values.length + " values but its schema " + schema.size()
                    + " columns " + schema);
        }
        return new Row(schema, values);
    }

    /** @return the schema */
    public RowSchema schema() {
        return schema;
    }

    /** @return the number of values */
    public int size() {
        return values.length;
    }

    /**
     * @param i a position from 0
     * @return the value, possibly null
     */
    public Object get(int i) {
        return values[i];
    }

    /**
     * @param column a column name, any case
     * @return the value, possibly null
     * @throws IllegalArgumentException if there is no such column
     */
    public Object get(String column) {
        int i = schema.indexOf(column);
        if (i < 0) {
            throw new IllegalArgumentException("no column '" + column + "' in " + schema);
        }
        return values[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Row r && r.schema.equals(schema) && Arrays.equals(r.values, values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return Arrays.toString(values);
    }
}
