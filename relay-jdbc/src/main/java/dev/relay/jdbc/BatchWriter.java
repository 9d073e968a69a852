package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.Row;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.function.Consumer;

/**
 * Batch-inserts rows into one table over a prepared statement: {@code INSERT INTO t (c1, …) VALUES (?, …)},
 * values bound with {@code setObject} (java.time types as JDBC 4.2 objects) and nulls typed with the column's
 * JDBC type. Extra constant values (task column values, already of their columns' types) are appended to every
 * row. Owned by one thread.
 */
final class BatchWriter implements AutoCloseable {

    private final PreparedStatement insert;
    private final int[] types;
    private final List<Object> constants;
    private final int width;
    private final int batchSize;
    private int pending;
    private long rows;

    /**
     * @param connection the connection, in the caller's transaction
     * @param table the table
     * @param columns the columns of the rows
     * @param constantColumns names of constant columns appended after the row's columns
     * @param constants their values, bound with {@code setObject}
     * @param batchSize rows per executed batch
     * @param publish told of the statement, so that an abort from another thread can cancel it
     * @throws SQLException if the statement cannot be prepared
     */
    BatchWriter(Connection connection, String table, List<Column> columns, List<String> constantColumns,
                List<Object> constants, int batchSize, Consumer<Statement> publish) throws SQLException {
        this.width = columns.size();
        this.types = new int[width];
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" (");
        StringBuilder marks = new StringBuilder();
        for (int i = 0; i < width; i++) {
            types[i] = columns.get(i).type().getVendorTypeNumber();
            sql.append(i == 0 ? "" : ", ").append(columns.get(i).name());
            marks.append(i == 0 ? "?" : ", ?");
        }
        for (String c : constantColumns) {
            sql.append(", ").append(c);
            marks.append(", ?");
        }
        sql.append(") VALUES (").append(marks).append(')');
        this.constants = List.copyOf(constants);
        this.batchSize = batchSize;
        this.insert = connection.prepareStatement(sql.toString());
        publish.accept(insert);
    }

    /**
     * @param row a row of the writer's columns
     * @throws SQLException if binding or an executed batch fails
     */
    void add(Row row) throws SQLException {
        for (int i = 0; i < width; i++) {
            Object v = row.get(i);
            if (v == null) {
                insert.setNull(i + 1, types[i]);
            } else {
                insert.setObject(i + 1, v);
            }
        }
        for (int j = 0; j < constants.size(); j++) {
            insert.setObject(width + j + 1, constants.get(j));
        }
        insert.addBatch();
        rows++;
        if (++pending >= batchSize) {
            flush();
        }
    }

    /** @throws SQLException if the batch fails */
    void flush() throws SQLException {
        if (pending > 0) {
            pending = 0;
            insert.executeBatch();
        }
    }

    /** @return rows added so far */
    long rows() {
        return rows;
    }

    @Override
    public void close() {
        try {
            insert.close();
        } catch (SQLException ignored) {
            // closing after a failure
        }
    }
}
