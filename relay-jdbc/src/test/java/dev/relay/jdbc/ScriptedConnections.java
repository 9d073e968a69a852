package dev.relay.jdbc;

import javax.sql.DataSource;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A JDBC data source for the Snowflake sink's tests without a server: it records every statement and answers
 * from a script (result rows per statement, or an SQLException), the way Snowflake's driver answers PUT, COPY
 * and SELECT. Only the methods the sink calls are implemented; anything else fails loudly.
 */
final class ScriptedConnections {

    /** Answers one statement. */
    @FunctionalInterface
    interface Script {
        /**
         * @param sql the statement
         * @return the result rows (column label → value, in order), or null for an update count
         * @throws SQLException to make the statement fail
         */
        List<Map<String, Object>> answer(String sql) throws SQLException;
    }

    final List<String> statements = Collections.synchronizedList(new ArrayList<>());
    final List<String> existingTables = new ArrayList<>();
    private final Script script;
    int open;

    ScriptedConnections(Script script) {
        this.script = script;
    }

    static Map<String, Object> row(Object... labelsAndValues) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 0; i < labelsAndValues.length; i += 2) {
            row.put((String) labelsAndValues[i], labelsAndValues[i + 1]);
        }
        return row;
    }

    DataSource dataSource() {
        return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                (p, m, a) -> {
                    if (m.getName().equals("getConnection")) {
                        return connection();
                    }
                    if (m.getName().equals("toString")) {
                        return "scripted snowflake";
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    private Connection connection() {
        synchronized (this) {
            open++;
        }
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                (p, m, a) -> {
                    switch (m.getName()) {
                        case "createStatement":
                            return statement();
                        case "close":
                            synchronized (this) {
                                open--;
                            }
                            return null;
                        case "getSchema":
                            return "PUBLIC";
                        case "getMetaData":
                            return metaData();
                        case "setAutoCommit":
                            return null;
                        case "getAutoCommit":
                            return true;
                        default:
                            throw new UnsupportedOperationException("Connection." + m.getName());
                    }
                });
    }

    private DatabaseMetaData metaData() {
        return (DatabaseMetaData) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {DatabaseMetaData.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "getSearchStringEscape":
                            return "\\";
                        case "getTables": {
                            String name = ((String) a[2]).replace("\\", "");
                            List<Map<String, Object>> rows = new ArrayList<>();
                            if (existingTables.contains(name)) {
                                rows.add(row("TABLE_NAME", name));
                            }
                            return resultSet(rows);
                        }
                        default:
                            throw new UnsupportedOperationException("DatabaseMetaData." + m.getName());
                    }
                });
    }

    private Statement statement() {
        AtomicReference<List<Map<String, Object>>> last = new AtomicReference<>();
        return (Statement) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Statement.class},
                (p, m, a) -> {
                    switch (m.getName()) {
                        case "execute": {
                            String sql = (String) a[0];
                            statements.add(sql);
                            last.set(script.answer(sql));
                            return last.get() != null;
                        }
                        case "getResultSet":
                            return resultSet(last.get());
                        case "close":
                        case "cancel":
                            return null;
                        default:
                            throw new UnsupportedOperationException("Statement." + m.getName());
                    }
                });
    }

    static ResultSet resultSet(List<Map<String, Object>> rows) {
        Iterator<Map<String, Object>> it = rows.iterator();
        List<String> labels = rows.isEmpty() ? List.of("x") : new ArrayList<>(rows.get(0).keySet());
        AtomicReference<Map<String, Object>> current = new AtomicReference<>();
        ResultSetMetaData md = (ResultSetMetaData) Proxy.newProxyInstance(ScriptedConnections.class.getClassLoader(),
                new Class<?>[] {ResultSetMetaData.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "getColumnCount":
                            return labels.size();
                        case "getColumnLabel":
                        case "getColumnName":
                            return labels.get((Integer) a[0] - 1);
                        default:
                            throw new UnsupportedOperationException("ResultSetMetaData." + m.getName());
                    }
                });
        return (ResultSet) Proxy.newProxyInstance(ScriptedConnections.class.getClassLoader(),
                new Class<?>[] {ResultSet.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "next":
                            current.set(it.hasNext() ? it.next() : null);
                            return current.get() != null;
                        case "getMetaData":
                            return md;
                        case "getObject":
                            return a[0] instanceof Integer i ? current.get().get(labels.get(i - 1)) : current.get().get(a[0]);
                        case "getString": {
                            Object v = a[0] instanceof Integer i ? current.get().get(labels.get(i - 1)) : current.get().get(a[0]);
                            return v == null ? null : v.toString();
                        }
                        case "close":
                            return null;
                        default:
                            throw new UnsupportedOperationException("ResultSet." + m.getName());
                    }
                });
    }
}
