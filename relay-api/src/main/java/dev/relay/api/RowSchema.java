package dev.relay.api;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The ordered columns of a row stream.
 *
 * <p>Immutable and threadsafe.
 */
public final class RowSchema {

    private final List<Column> columns;
    private final Map<String, Integer> index;

    private RowSchema(List<Column> columns) {
        this.columns = List.copyOf(columns);
        Map<String, Integer> idx = new HashMap<>();
        for (int i = 0; i < this.columns.size(); i++) {
            String key = this.columns.get(i).name().toUpperCase(Locale.ROOT);
            if (idx.putIfAbsent(key, i) != null) {
                throw new IllegalArgumentException("duplicate column '" + this.columns.get(i).name() + "' in " + columns);
            }
        }
        this.index = Map.copyOf(idx);
    }

    /**
     * @param columns at least one column, names unique ignoring case
     * @return the schema
     */
    public static RowSchema of(List<Column> columns) {
        Objects.requireNonNull(columns, "columns");
        if (columns.isEmpty()) {
            throw new IllegalArgumentException("a row schema needs at least one column");
        }
        return new RowSchema(columns);
    }

    /**
     * @param columns at least one column
     * @return the schema
     */
    public static RowSchema of(Column... columns) {
        return of(List.of(columns));
    }

    /** @return the columns in order */
    public List<Column> columns() {
        return columns;
    }

    /** @return the number of columns */
    public int size() {
        return columns.size();
    }

    /**
     * @param i a column position from 0
     * @return the column
     */
    public Column column(int i) {
        return columns.get(i);
    }

    /**
     * @param name a column name, any case
     * @return its position, or -1
     */
    public int indexOf(String name) {
        Integer i = index.get(name.toUpperCase(Locale.ROOT));
        return i == null ? -1 : i;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RowSchema s && s.columns.equals(columns);
    }

    @Override
    public int hashCode() {
        return columns.hashCode();
    }

    @Override
    public String toString() {
        return columns.toString();
    }
}
