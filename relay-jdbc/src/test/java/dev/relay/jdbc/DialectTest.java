package dev.relay.jdbc;

import dev.relay.api.Column;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.sql.JDBCType;
import java.sql.ResultSetMetaData;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The dialects' SQL text and type mapping, including Oracle's, which no test database here runs. */
class DialectTest {

    static ResultSetMetaData metaData(int type, String typeName) {
        return (ResultSetMetaData) Proxy.newProxyInstance(DialectTest.class.getClassLoader(),
                new Class<?>[] {ResultSetMetaData.class}, (p, m, a) -> switch (m.getName()) {
                    case "getColumnType" -> type;
                    case "getColumnTypeName" -> typeName;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void columnType_oracleVendorCodes_mapToStandardTypes() throws Exception {
        assertEquals(JDBCType.TIMESTAMP_WITH_TIMEZONE, Dialect.ORACLE.columnType(metaData(-101, "TIMESTAMP WITH TIME ZONE"), 1));
        assertEquals(JDBCType.TIMESTAMP, Dialect.ORACLE.columnType(metaData(-102, "TIMESTAMP WITH LOCAL TIME ZONE"), 1));
        assertEquals(JDBCType.DOUBLE, Dialect.ORACLE.columnType(metaData(101, "BINARY_DOUBLE"), 1));
        assertEquals(JDBCType.REAL, Dialect.ORACLE.columnType(metaData(100, "BINARY_FLOAT"), 1));
        assertEquals(JDBCType.TIMESTAMP, Dialect.ORACLE.columnType(metaData(93, "DATE"), 1), "DATE as the driver reports it");
        assertEquals(JDBCType.OTHER, Dialect.H2.columnType(metaData(-9999, "X"), 1));
    }

    @Test
    void columnType_postgresTimestamptz_isTimestampWithTimeZone() throws Exception {
        assertEquals(JDBCType.TIMESTAMP_WITH_TIMEZONE, Dialect.POSTGRESQL.columnType(metaData(93, "timestamptz"), 1));
        assertEquals(JDBCType.TIMESTAMP, Dialect.POSTGRESQL.columnType(metaData(93, "timestamp"), 1));
    }

    @Test
    void sqlType_vds30secColumns_perDialect() {
        Column time = new Column("SAMPLE_TIME", JDBCType.TIMESTAMP);
        Column vol = new Column("LOOP1_VOL", JDBCType.INTEGER);
        assertEquals(List.of("TIMESTAMP(9)", "TIMESTAMP(9)", "TIMESTAMP", "TIMESTAMP_NTZ(9)"),
                List.of(Dialect.ORACLE.sqlType(time), Dialect.H2.sqlType(time), Dialect.POSTGRESQL.sqlType(time),
                        Dialect.SNOWFLAKE.sqlType(time)));
        assertEquals(List.of("NUMBER(10)", "INTEGER", "INTEGER", "NUMBER(10,0)"),
                List.of(Dialect.ORACLE.sqlType(vol), Dialect.H2.sqlType(vol), Dialect.POSTGRESQL.sqlType(vol),
                        Dialect.SNOWFLAKE.sqlType(vol)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dialect.POSTGRESQL.sqlType(new Column("X", JDBCType.ARRAY)));
        assertEquals("no POSTGRESQL column type for column 'X' of JDBC type ARRAY", e.getMessage());
    }

    @Test
    void swap_renameDialects_renameOldAwayThenStageInThenDrop() {
        assertEquals(List.of("ALTER TABLE PEMS.C RENAME TO C_RO_1", "ALTER TABLE PEMS.C_RS_1 RENAME TO C",
                        "DROP TABLE PEMS.C_RO_1"),
                Dialect.ORACLE.swap("PEMS.C_RS_1", "PEMS.C", true, "PEMS.C_RO_1"));
        assertEquals(List.of("ALTER TABLE C_RS_1 RENAME TO C"), Dialect.POSTGRESQL.swap("C_RS_1", "C", false, "C_RO_1"));
        assertEquals("CREATE TABLE S (LIKE T INCLUDING CONSTRAINTS INCLUDING INDEXES)", Dialect.POSTGRESQL.createTableLike("S", "T"));
        assertEquals("CREATE TABLE S AS SELECT * FROM T WHERE 1 = 0", Dialect.ORACLE.createTableLike("S", "T"));
        assertEquals("vds30sec", Dialect.POSTGRESQL.fold("VDS30SEC"));
        assertEquals("VDS30SEC", Dialect.ORACLE.fold("vds30sec"));
    }
}
