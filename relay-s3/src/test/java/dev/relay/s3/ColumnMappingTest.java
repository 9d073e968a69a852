package dev.relay.s3;

import dev.relay.api.Column;
import dev.relay.api.RowSchema;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.sql.JDBCType;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Values that do not fit their column are refused, naming the value; nothing is rounded or truncated. */
class ColumnMappingTest {

    static final RecordConsumer IGNORE = new RecordConsumer() {
        @Override public void startMessage() { }
        @Override public void endMessage() { }
        @Override public void startField(String field, int index) { }
        @Override public void endField(String field, int index) { }
        @Override public void startGroup() { }
        @Override public void endGroup() { }
        @Override public void addInteger(int value) { }
        @Override public void addLong(long value) { }
        @Override public void addBoolean(boolean value) { }
        @Override public void addBinary(Binary value) { }
        @Override public void addFloat(float value) { }
        @Override public void addDouble(double value) { }
    };

    static String refused(JDBCType type, Object value, TimestampUnit unit, int precision, int scale) {
        ColumnMapping m = ColumnMapping.of(RowSchema.of(new Column("C", type)), unit, new ColumnMapping.Decimal(precision, scale),
                Map.of(), null, null);
        return assertThrows(ColumnMapping.BadValueException.class, () -> m.writer(0).write(IGNORE, value)).getMessage();
    }

    static String refused(JDBCType type, Object value) {
        return refused(type, value, TimestampUnit.MICROS, 38, 9);
    }

    @Test
    void write_valuesThatDoNotFit_areRefusedNamingTheValue() {
        assertTrue(refused(JDBCType.SMALLINT, 40_000).contains("40000"));
        assertTrue(refused(JDBCType.INTEGER, new BigDecimal("1.5")).contains("1.5"));
        assertTrue(refused(JDBCType.BIGINT, 1e30).contains("64-bit"));
        assertTrue(refused(JDBCType.BOOLEAN, 2).contains("neither 0 nor 1"));
        assertTrue(refused(JDBCType.NUMERIC, new BigDecimal("1000.00"), TimestampUnit.MICROS, 5, 2).contains("integer digits"));
        assertTrue(refused(JDBCType.NUMERIC, new BigDecimal("-999999999999999999999999999999.5"), TimestampUnit.MICROS, 38, 9)
                .contains("integer digits"));
        assertTrue(refused(JDBCType.NUMERIC, new BigDecimal("0.001"), TimestampUnit.MICROS, 5, 2).contains("fractional digits"));
        assertTrue(refused(JDBCType.NUMERIC, Double.NaN).contains("not a finite number"));
        assertTrue(refused(JDBCType.TIMESTAMP, LocalDateTime.of(2024, 3, 14, 10, 0, 0, 1)).contains("finer than MICROS"));
        assertTrue(refused(JDBCType.TIMESTAMP, LocalDateTime.of(2024, 3, 14, 10, 0, 0, 1_000), TimestampUnit.MILLIS, 38, 9)
                .contains("finer than MILLIS"));
        assertTrue(refused(JDBCType.TIMESTAMP, LocalDateTime.of(2300, 1, 1, 0, 0), TimestampUnit.NANOS, 38, 9).contains("range"));
        assertTrue(refused(JDBCType.TIME, LocalTime.of(10, 0, 0, 5)).contains("finer"));
        assertTrue(refused(JDBCType.TIMESTAMP, "2024-03-14 10:00").contains("java.lang.String"));
        assertTrue(refused(JDBCType.VARCHAR, 42).contains("java.lang.Integer"));
    }

    @Test
    void write_valuesAtTheEdges_areAccepted() {
        ColumnMapping m = ColumnMapping.of(RowSchema.of(new Column("D", JDBCType.DECIMAL), new Column("S", JDBCType.SMALLINT)),
                TimestampUnit.MICROS, new ColumnMapping.Decimal(5, 2), Map.of(), null, null);
        m.writer(0).write(IGNORE, new BigDecimal("999.99"));
        m.writer(0).write(IGNORE, new BigDecimal("-999.99"));
        m.writer(0).write(IGNORE, new BigDecimal("1E+2"));
        m.writer(0).write(IGNORE, 7L);
        m.writer(1).write(IGNORE, (short) -32768);
        m.writer(1).write(IGNORE, new BigDecimal("32767.000"));
        assertEquals(16, ColumnMapping.bytesFor(38));
        assertEquals(9, ColumnMapping.bytesFor(20));
    }

    @Test
    void of_metaColumnNamedLikeARowColumn_isRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ColumnMapping.of(
                RowSchema.of(new Column("META", JDBCType.VARCHAR)), TimestampUnit.MICROS, new ColumnMapping.Decimal(38, 9),
                Map.of(), "meta", "{}"));
        assertTrue(e.getMessage().contains("collides"), e.getMessage());
    }
}
