package dev.relay.jdbc;

import dev.relay.api.Column;

import java.sql.JDBCType;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;

/**
 * The SQL dialects relay-jdbc speaks. A dialect decides what differs between databases: whether a result set
 * streams only with autocommit off, how vendor column types map to {@link JDBCType}, how unquoted identifiers
 * fold, which column types a table created from a row schema gets, and how a staging table is created and
 * swapped in.
 *
 * <p>Window bounds are always bound as {@link java.time.LocalDateTime} (JDBC 4.2 {@code setObject}), which every
 * dialect here maps to a timestamp without time zone: no JVM or session time zone takes part, so the
 * repeated autumn hour and the skipped spring hour of a naive local-time column behave as plain wall-clock
 * intervals. Timestamps are likewise read as {@code LocalDateTime}, never through {@link java.sql.Timestamp}
 * (which passes through the JVM's zone and would shift a skipped-hour value by an hour).
 *
 * <p>Immutable and threadsafe.
 */
public enum Dialect {

    /**
     * Oracle (ojdbc11), the production source. Fetch size is honoured in any autocommit mode; DATE columns
     * (reported as TIMESTAMP by the driver) are read as {@code LocalDateTime}. For a DATE column compared with
     * a window bound, write {@code CAST(:start AS DATE)} in the query so the column's index stays usable.
     */
    ORACLE,

    /** H2, used here in {@code MODE=Oracle} as a stand-in for Oracle and as a sink in tests. */
    H2,

    /**
     * PostgreSQL. Its driver buffers a whole result set in memory unless autocommit is off and a fetch size
     * is set, so the puller always pulls inside a read-only transaction.
     */
    POSTGRESQL,

    /** Snowflake, the production warehouse (sink side only). */
    SNOWFLAKE;

    /** @return whether the driver streams a result set with a fetch size only when autocommit is off */
    boolean streamsOnlyWithoutAutocommit() {
        return this == POSTGRESQL;
    }

    /**
     * @return a statement taking a transaction-scoped lock on one bound 64-bit key, or null if this dialect has
     *         none (PostgreSQL: {@code pg_advisory_xact_lock})
     */
    String windowLockSql() {
        return this == POSTGRESQL ? "SELECT pg_advisory_xact_lock(?)" : null;
    }

    /** @return whether DDL (CREATE, ALTER … RENAME, DROP) takes part in a transaction */
    boolean transactionalDdl() {
        return this == POSTGRESQL;
    }

    /**
     * @param identifier an unquoted identifier
     * @return how the database stores it in its catalog (PostgreSQL folds to lower case, the others to upper)
     */
    String fold(String identifier) {
        return this == POSTGRESQL ? identifier.toLowerCase(Locale.ROOT) : identifier.toUpperCase(Locale.ROOT);
    }

    /**
     * @param md result set metadata
     * @param column a column from 1
     * @return its JDBC type, mapping this dialect's vendor type codes
     * @throws SQLException if the metadata cannot be read
     */
    JDBCType columnType(ResultSetMetaData md, int column) throws SQLException {
        int code = md.getColumnType(column);
        if (this == ORACLE) {
            switch (code) {
                case -101: // TIMESTAMP WITH TIME ZONE
                    return JDBCType.TIMESTAMP_WITH_TIMEZONE;
                case -102: // TIMESTAMP WITH LOCAL TIME ZONE
                    return JDBCType.TIMESTAMP;
                case 100: // BINARY_FLOAT
                    return JDBCType.REAL;
                case 101: // BINARY_DOUBLE
                    return JDBCType.DOUBLE;
                case -103: // INTERVAL YEAR TO MONTH
                case -104: // INTERVAL DAY TO SECOND
                    return JDBCType.VARCHAR;
                default:
                    break;
            }
        }
        if (this == POSTGRESQL && code == java.sql.Types.TIMESTAMP
                && "timestamptz".equalsIgnoreCase(md.getColumnTypeName(column))) {
            return JDBCType.TIMESTAMP_WITH_TIMEZONE;
        }
        try {
            return JDBCType.valueOf(code);
        } catch (IllegalArgumentException e) {
            return JDBCType.OTHER;
        }
    }

    /**
     * @param column a column of a row schema
     * @return the column type of a table created from the schema
     * @throws IllegalArgumentException if this dialect has no type for the column
     */
    String sqlType(Column column) {
        JDBCType t = column.type();
        switch (t) {
            case BIGINT:
                return pick("NUMBER(19)", "BIGINT", "BIGINT", "NUMBER(19,0)");
            case INTEGER:
            case SMALLINT:
            case TINYINT:
                return pick("NUMBER(10)", "INTEGER", "INTEGER", "NUMBER(10,0)");
            case NUMERIC:
            case DECIMAL:
                return pick("NUMBER", "DECFLOAT", "NUMERIC", "NUMBER(38,12)");
            case DOUBLE:
            case FLOAT:
            case REAL:
                return pick("BINARY_DOUBLE", "DOUBLE PRECISION", "DOUBLE PRECISION", "FLOAT");
            case CHAR:
            case VARCHAR:
            case NCHAR:
            case NVARCHAR:
            case LONGVARCHAR:
            case LONGNVARCHAR:
                return pick("VARCHAR2(4000 CHAR)", "CHARACTER VARYING", "TEXT", "VARCHAR");
            case CLOB:
            case NCLOB:
            case SQLXML:
                return pick("CLOB", "CHARACTER LARGE OBJECT", "TEXT", "VARCHAR");
            case TIMESTAMP:
                return pick("TIMESTAMP(9)", "TIMESTAMP(9)", "TIMESTAMP", "TIMESTAMP_NTZ(9)");
            case TIMESTAMP_WITH_TIMEZONE:
                return pick("TIMESTAMP(9) WITH TIME ZONE", "TIMESTAMP(9) WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP_TZ(9)");
            case DATE:
                return "DATE";
            case TIME:
                return pick("VARCHAR2(18)", "TIME(9)", "TIME", "TIME(9)");
            case BOOLEAN:
            case BIT:
                return pick("NUMBER(1)", "BOOLEAN", "BOOLEAN", "BOOLEAN");
            case BINARY:
            case VARBINARY:
            case LONGVARBINARY:
            case BLOB:
                return pick("BLOB", "VARBINARY", "BYTEA", "BINARY");
            default:
                throw new IllegalArgumentException("no " + this + " column type for column '" + column.name()
                        + "' of JDBC type " + t);
        }
    }

    private String pick(String oracle, String h2, String postgresql, String snowflake) {
        switch (this) {
            case ORACLE:
                return oracle;
            case H2:
                return h2;
            case POSTGRESQL:
                return postgresql;
            default:
                return snowflake;
        }
    }

    /**
     * @param stage the staging table to create
     * @param target an existing table whose columns it copies (without rows)
     * @return the statement
     */
    String createTableLike(String stage, String target) {
        switch (this) {
            case POSTGRESQL:
                return "CREATE TABLE " + stage + " (LIKE " + target + " INCLUDING CONSTRAINTS INCLUDING INDEXES)";
            case H2:
                return "CREATE TABLE " + stage + " AS SELECT * FROM " + target + " WITH NO DATA";
            case SNOWFLAKE:
                return "CREATE TABLE " + stage + " LIKE " + target;
            default:
                return "CREATE TABLE " + stage + " AS SELECT * FROM " + target + " WHERE 1 = 0";
        }
    }

    /**
     * @param table a table name
     * @return a statement dropping it if it exists (Oracle: 23ai syntax)
     */
    String dropTableIfExists(String table) {
        return "DROP TABLE IF EXISTS " + table;
    }

    /**
     * The statements that put a loaded staging table in place of the target.
     *
     * @param stage the qualified staging table
     * @param target the qualified target table
     * @param targetExists whether the target exists now
     * @param old the qualified name the old target takes until it is dropped (same schema as target)
     * @return the statements in order
     */
    List<String> swap(String stage, String target, boolean targetExists, String old) {
        if (this == SNOWFLAKE) {
            return targetExists
                    ? List.of("ALTER TABLE " + stage + " SWAP WITH " + target, "DROP TABLE " + stage)
                    : List.of("ALTER TABLE " + stage + " RENAME TO " + target);
        }
        String targetName = unqualified(target);
        return targetExists
                ? List.of("ALTER TABLE " + target + " RENAME TO " + unqualified(old),
                        "ALTER TABLE " + stage + " RENAME TO " + targetName,
                        "DROP TABLE " + old)
                : List.of("ALTER TABLE " + stage + " RENAME TO " + targetName);
    }

    /**
     * @param qualified a name like {@code D7.VDS30SEC}
     * @return the last part
     */
    static String unqualified(String qualified) {
        return qualified.substring(qualified.lastIndexOf('.') + 1);
    }

    /**
     * @param qualified a name like {@code D7.VDS30SEC}
     * @return everything before the last part, or null
     */
    static String qualifier(String qualified) {
        int dot = qualified.lastIndexOf('.');
        return dot < 0 ? null : qualified.substring(0, dot);
    }
}
