package dev.relay.s3;

import dev.relay.api.Column;
import dev.relay.api.RowSchema;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.sql.JDBCType;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Parquet schema of a row stream and one value writer per column.
 *
 * <p>The mapping (README, "relay-s3"): every column is {@code OPTIONAL} (a SQL null is a Parquet null);
 * <ul>
 *   <li>{@code BIT}, {@code BOOLEAN} → {@code BOOLEAN};</li>
 *   <li>{@code TINYINT}, {@code SMALLINT}, {@code INTEGER} → {@code INT32} annotated {@code INT(8|16|32, signed)};
 *       {@code BIGINT} → {@code INT64 INT(64, signed)};</li>
 *   <li>{@code REAL} → {@code FLOAT}; {@code FLOAT}, {@code DOUBLE} → {@code DOUBLE};</li>
 *   <li>{@code NUMERIC}, {@code DECIMAL} → {@code DECIMAL(p, s)} (the sink's default precision and scale, or the
 *       column's own): {@code INT32} up to precision 9, {@code INT64} up to 18, {@code FIXED_LEN_BYTE_ARRAY} above;</li>
 *   <li>{@code CHAR}, {@code VARCHAR}, {@code NCHAR}, {@code NVARCHAR}, the {@code LONG…} kinds, {@code CLOB},
 *       {@code NCLOB}, {@code SQLXML}, {@code ROWID} → {@code BINARY STRING} (UTF-8);</li>
 *   <li>{@code BINARY}, {@code VARBINARY}, {@code LONGVARBINARY}, {@code BLOB} → {@code BINARY};</li>
 *   <li>{@code DATE} → {@code INT32 DATE};</li>
 *   <li>{@code TIME} → {@code TIME(unit, isAdjustedToUTC=false)};</li>
 *   <li>{@code TIMESTAMP} → {@code INT64 TIMESTAMP(unit, isAdjustedToUTC=false)}: a local date-time, written as its
 *       wall-clock fields (PeMS's {@code SAMPLE_TIME} stays 10:00 whatever the JVM's zone);</li>
 *   <li>{@code TIMESTAMP_WITH_TIMEZONE} → {@code INT64 TIMESTAMP(unit, isAdjustedToUTC=true)} (the instant; the
 *       offset itself is not kept).</li>
 * </ul>
 * Other JDBC types are refused when the session opens. A value is converted only when that loses nothing: an
 * integer column takes any {@code Number} with an exact integral value in range, a decimal column refuses a value
 * with more fractional digits than its scale or more digits than its precision, a timestamp column refuses a
 * fraction finer than the unit. A refused value is a {@link BadValueException} naming the value.
 *
 * <p>Immutable after construction; the value writers keep no state, so a mapping may be shared between threads.
 */
final class ColumnMapping {

    /** Default decimal precision: Snowflake's and Oracle's largest. */
    static final int DEFAULT_PRECISION = 38;
    /** Default decimal scale. */
    static final int DEFAULT_SCALE = 9;

    private final MessageType schema;
    private final String[] names;
    private final ValueWriter[] writers;
    private final String metaColumn;
    private final Binary metaValue;

    private ColumnMapping(MessageType schema, String[] names, ValueWriter[] writers, String metaColumn, Binary metaValue) {
        this.schema = schema;
        this.names = names;
        this.writers = writers;
        this.metaColumn = metaColumn;
        this.metaValue = metaValue;
    }

    /**
     * A column's decimal precision and scale.
     *
     * @param precision 1..38
     * @param scale 0..precision
     */
    record Decimal(int precision, int scale) {
        Decimal {
            if (precision < 1 || precision > 38) {
                throw new IllegalArgumentException("decimal precision must be within 1..38 but was " + precision);
            }
            if (scale < 0 || scale > precision) {
                throw new IllegalArgumentException("decimal scale must be within 0..precision (" + precision + ") but was " + scale);
            }
        }
    }

    /**
     * @param rows the schema of the rows
     * @param unit the unit of TIMESTAMP and TIME columns
     * @param defaultDecimal precision and scale of NUMERIC and DECIMAL columns without their own
     * @param decimals per-column precision and scale, keyed by upper-case column name
     * @param metaColumn the name of a constant string column added after the row's columns, or null
     * @param metaValue its value, or null
     * @return the mapping
     * @throws IllegalArgumentException naming the column whose type has no mapping, or a meta column that collides
     */
    static ColumnMapping of(RowSchema rows, TimestampUnit unit, Decimal defaultDecimal, Map<String, Decimal> decimals,
                            String metaColumn, String metaValue) {
        int n = rows.size();
        String[] names = new String[n];
        ValueWriter[] writers = new ValueWriter[n];
        List<Type> fields = new ArrayList<>(n + 1);
        for (int i = 0; i < n; i++) {
            Column c = rows.column(i);
            names[i] = c.name();
            Decimal d = decimals.getOrDefault(c.name().toUpperCase(Locale.ROOT), defaultDecimal);
            Mapped m = map(c, unit, d);
            fields.add(m.field);
            writers[i] = m.writer;
        }
        Binary meta = null;
        if (metaColumn != null) {
            if (rows.indexOf(metaColumn) >= 0) {
                throw new IllegalArgumentException("the meta column '" + metaColumn + "' collides with the row column '"
                        + rows.column(rows.indexOf(metaColumn)).name() + "'; choose another name with metaColumn(…)");
            }
            fields.add(Types.optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(metaColumn));
            meta = Binary.fromConstantByteArray(metaValue.getBytes(StandardCharsets.UTF_8));
        }
        return new ColumnMapping(new MessageType("relay_row", fields), names, writers, metaColumn, meta);
    }

    private record Mapped(Type field, ValueWriter writer) {
    }

    private static Mapped map(Column c, TimestampUnit unit, Decimal d) {
        String name = c.name();
        JDBCType type = c.type();
        switch (type) {
            case BIT:
            case BOOLEAN:
                return new Mapped(Types.optional(PrimitiveTypeName.BOOLEAN).named(name), ColumnMapping::writeBoolean);
            case TINYINT:
                return int32(name, 8);
            case SMALLINT:
                return int32(name, 16);
            case INTEGER:
                return int32(name, 32);
            case BIGINT:
                return new Mapped(Types.optional(PrimitiveTypeName.INT64).as(LogicalTypeAnnotation.intType(64, true)).named(name),
                        (rc, v) -> rc.addLong(exactLong(v)));
            case REAL:
                return new Mapped(Types.optional(PrimitiveTypeName.FLOAT).named(name), (rc, v) -> rc.addFloat(number(v).floatValue()));
            case FLOAT:
            case DOUBLE:
                return new Mapped(Types.optional(PrimitiveTypeName.DOUBLE).named(name), (rc, v) -> rc.addDouble(number(v).doubleValue()));
            case NUMERIC:
            case DECIMAL:
                return decimal(name, d);
            case CHAR:
            case VARCHAR:
            case LONGVARCHAR:
            case NCHAR:
            case NVARCHAR:
            case LONGNVARCHAR:
            case CLOB:
            case NCLOB:
            case SQLXML:
            case ROWID:
                return new Mapped(Types.optional(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(name),
                        ColumnMapping::writeString);
            case BINARY:
            case VARBINARY:
            case LONGVARBINARY:
            case BLOB:
                return new Mapped(Types.optional(PrimitiveTypeName.BINARY).named(name), ColumnMapping::writeBytes);
            case DATE:
                return new Mapped(Types.optional(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.dateType()).named(name),
                        ColumnMapping::writeDate);
            case TIME:
                return time(name, unit);
            case TIMESTAMP:
                return new Mapped(Types.optional(PrimitiveTypeName.INT64)
                        .as(LogicalTypeAnnotation.timestampType(false, parquetUnit(unit))).named(name),
                        (rc, v) -> rc.addLong(localTimestamp(v, unit)));
            case TIMESTAMP_WITH_TIMEZONE:
                return new Mapped(Types.optional(PrimitiveTypeName.INT64)
                        .as(LogicalTypeAnnotation.timestampType(true, parquetUnit(unit))).named(name),
                        (rc, v) -> rc.addLong(instantTimestamp(v, unit)));
            default:
                throw new IllegalArgumentException("column '" + name + "' has JDBC type " + type
                        + ", which has no Parquet mapping here; cast it in the source query (to VARCHAR, NUMERIC, TIMESTAMP, …)");
        }
    }

    private static Mapped int32(String name, int bits) {
        long min = -(1L << (bits - 1));
        long max = (1L << (bits - 1)) - 1;
        return new Mapped(Types.optional(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.intType(bits, true)).named(name),
                (rc, v) -> {
                    long l = exactLong(v);
                    if (l < min || l > max) {
                        throw new BadValueException("value " + l + " is outside the range of INT(" + bits + ") [" + min + ", " + max + "]");
                    }
                    rc.addInteger((int) l);
                });
    }

    private static Mapped time(String name, TimestampUnit unit) {
        PrimitiveTypeName physical = unit == TimestampUnit.MILLIS ? PrimitiveTypeName.INT32 : PrimitiveTypeName.INT64;
        return new Mapped(Types.optional(physical).as(LogicalTypeAnnotation.timeType(false, parquetUnit(unit))).named(name),
                (rc, v) -> {
                    LocalTime t;
                    if (v instanceof LocalTime lt) {
                        t = lt;
                    } else if (v instanceof java.sql.Time st) {
                        t = st.toLocalTime();
                    } else {
                        throw wrongClass(v, "TIME", "java.time.LocalTime");
                    }
                    long nanos = t.toNanoOfDay();
                    if (nanos % unit.nanos() != 0) {
                        throw new BadValueException("time " + t + " has a fraction finer than " + unit
                                + "; choose a finer timestampUnit(…) so that nothing is truncated");
                    }
                    if (unit == TimestampUnit.MILLIS) {
                        rc.addInteger((int) (nanos / unit.nanos()));
                    } else {
                        rc.addLong(nanos / unit.nanos());
                    }
                });
    }

    private static Mapped decimal(String name, Decimal d) {
        int p = d.precision();
        int s = d.scale();
        BigInteger bound = BigInteger.TEN.pow(p);
        LogicalTypeAnnotation annotation = LogicalTypeAnnotation.decimalType(s, p);
        if (p <= 9) {
            return new Mapped(Types.optional(PrimitiveTypeName.INT32).as(annotation).named(name),
                    (rc, v) -> rc.addInteger(unscaled(v, p, s, bound).intValue()));
        }
        if (p <= 18) {
            return new Mapped(Types.optional(PrimitiveTypeName.INT64).as(annotation).named(name),
                    (rc, v) -> rc.addLong(unscaled(v, p, s, bound).longValue()));
        }
        int length = bytesFor(p);
        return new Mapped(Types.optional(PrimitiveTypeName.FIXED_LEN_BYTE_ARRAY).length(length).as(annotation).named(name),
                (rc, v) -> rc.addBinary(Binary.fromConstantByteArray(twosComplement(unscaled(v, p, s, bound), length))));
    }

    /** The smallest number of bytes whose two's complement holds every unscaled value of {@code precision} digits. */
    static int bytesFor(int precision) {
        BigInteger max = BigInteger.TEN.pow(precision).subtract(BigInteger.ONE);
        return max.bitLength() / 8 + 1;
    }

    private static byte[] twosComplement(BigInteger unscaled, int length) {
        byte[] raw = unscaled.toByteArray();
        if (raw.length == length) {
            return raw;
        }
        byte[] out = new byte[length];
        byte pad = (byte) (unscaled.signum() < 0 ? 0xFF : 0x00);
        int offset = length - raw.length;
        for (int i = 0; i < offset; i++) {
            out[i] = pad;
        }
        System.arraycopy(raw, 0, out, offset, raw.length);
        return out;
    }

    private static BigInteger unscaled(Object v, int precision, int scale, BigInteger bound) {
        BigDecimal d;
        if (v instanceof BigDecimal bd) {
            d = bd;
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            d = BigDecimal.valueOf(((Number) v).longValue());
        } else if (v instanceof BigInteger bi) {
            d = new BigDecimal(bi);
        } else if (v instanceof Double || v instanceof Float) {
            double x = ((Number) v).doubleValue();
            if (!Double.isFinite(x)) {
                throw new BadValueException("value " + x + " is not a finite number, so it has no DECIMAL form");
            }
            d = BigDecimal.valueOf(x);
        } else {
            throw wrongClass(v, "DECIMAL(" + precision + ", " + scale + ")", "java.math.BigDecimal");
        }
        BigDecimal scaled;
        try {
            scaled = d.setScale(scale, RoundingMode.UNNECESSARY);
        } catch (ArithmeticException e) {
            throw new BadValueException("value " + d.toPlainString() + " has more than " + scale + " fractional digits, "
                    + "the scale of DECIMAL(" + precision + ", " + scale + "); raise it with decimal(…) so that nothing is rounded");
        }
        BigInteger u = scaled.unscaledValue();
        // |u| < 2^(bitLength(10^p) - 1) <= 10^p needs no comparison; only values near the bound are compared
        if (u.bitLength() >= bound.bitLength() - 1 && u.abs().compareTo(bound) >= 0) {
            throw new BadValueException("value " + d.toPlainString() + " has more than " + (precision - scale)
                    + " integer digits, the most DECIMAL(" + precision + ", " + scale + ") holds; raise the precision with decimal(…)");
        }
        return u;
    }

    private static LogicalTypeAnnotation.TimeUnit parquetUnit(TimestampUnit unit) {
        switch (unit) {
            case MILLIS:
                return LogicalTypeAnnotation.TimeUnit.MILLIS;
            case NANOS:
                return LogicalTypeAnnotation.TimeUnit.NANOS;
            default:
                return LogicalTypeAnnotation.TimeUnit.MICROS;
        }
    }

    private static void writeBoolean(RecordConsumer rc, Object v) {
        if (v instanceof Boolean b) {
            rc.addBoolean(b);
            return;
        }
        if (v instanceof Number) {
            long l = exactLong(v);
            if (l == 0 || l == 1) {
                rc.addBoolean(l == 1);
                return;
            }
            throw new BadValueException("value " + l + " is neither 0 nor 1, so it is no BOOLEAN");
        }
        throw wrongClass(v, "BOOLEAN", "java.lang.Boolean");
    }

    private static void writeString(RecordConsumer rc, Object v) {
        if (v instanceof String s) {
            rc.addBinary(Binary.fromString(s));
        } else if (v instanceof CharSequence || v instanceof Character) {
            rc.addBinary(Binary.fromString(v.toString()));
        } else {
            throw wrongClass(v, "STRING", "java.lang.String");
        }
    }

    private static void writeBytes(RecordConsumer rc, Object v) {
        if (v instanceof byte[] b) {
            rc.addBinary(Binary.fromConstantByteArray(b));
        } else {
            throw wrongClass(v, "BINARY", "byte[]");
        }
    }

    private static void writeDate(RecordConsumer rc, Object v) {
        LocalDate d;
        if (v instanceof LocalDate ld) {
            d = ld;
        } else if (v instanceof java.sql.Date sd) {
            d = sd.toLocalDate();
        } else {
            throw wrongClass(v, "DATE", "java.time.LocalDate");
        }
        long days = d.toEpochDay();
        if (days < Integer.MIN_VALUE || days > Integer.MAX_VALUE) {
            throw new BadValueException("date " + d + " is outside the range of a Parquet DATE");
        }
        rc.addInteger((int) days);
    }

    /** A local date-time as its wall-clock fields counted from 1970-01-01T00:00 (Parquet's local timestamp). */
    static long localTimestamp(Object v, TimestampUnit unit) {
        LocalDateTime t;
        if (v instanceof LocalDateTime ldt) {
            t = ldt;
        } else if (v instanceof java.sql.Timestamp ts) {
            t = ts.toLocalDateTime();
        } else {
            throw wrongClass(v, "TIMESTAMP", "java.time.LocalDateTime");
        }
        return count(t.toEpochSecond(ZoneOffset.UTC), t.getNano(), unit, t);
    }

    private static long instantTimestamp(Object v, TimestampUnit unit) {
        Instant i;
        if (v instanceof OffsetDateTime odt) {
            i = odt.toInstant();
        } else if (v instanceof ZonedDateTime zdt) {
            i = zdt.toInstant();
        } else if (v instanceof Instant in) {
            i = in;
        } else {
            throw wrongClass(v, "TIMESTAMP WITH TIME ZONE", "java.time.OffsetDateTime");
        }
        return count(i.getEpochSecond(), i.getNano(), unit, v);
    }

    private static long count(long epochSecond, int nano, TimestampUnit unit, Object shown) {
        if (nano % unit.nanos() != 0) {
            throw new BadValueException("timestamp " + shown + " has a fraction finer than " + unit
                    + "; choose a finer timestampUnit(…) so that nothing is truncated");
        }
        try {
            return Math.addExact(Math.multiplyExact(epochSecond, unit.perSecond()), nano / unit.nanos());
        } catch (ArithmeticException e) {
            throw new BadValueException("timestamp " + shown + " is outside the range of a TIMESTAMP(" + unit + ")");
        }
    }

    private static Number number(Object v) {
        if (v instanceof Number n) {
            return n;
        }
        throw wrongClass(v, "floating-point", "java.lang.Double");
    }

    /** The exact integral value of {@code v}, or a {@link BadValueException}. */
    static long exactLong(Object v) {
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        try {
            if (v instanceof BigDecimal d) {
                return d.longValueExact();
            }
            if (v instanceof BigInteger i) {
                return i.longValueExact();
            }
        } catch (ArithmeticException e) {
            throw new BadValueException("value " + ((Number) v) + " is not an integer within the range of a 64-bit integer");
        }
        if (v instanceof Double || v instanceof Float) {
            double x = ((Number) v).doubleValue();
            if (x == Math.rint(x) && x >= -0x1p63 && x < 0x1p63) {
                return (long) x;
            }
            throw new BadValueException("value " + x + " is not an integer within the range of a 64-bit integer");
        }
        throw wrongClass(v, "integer", "java.lang.Long");
    }

    private static BadValueException wrongClass(Object v, String parquet, String expected) {
        return new BadValueException("a value of " + v.getClass().getName() + " (" + BadValueException.show(v)
                + ") cannot be written to a " + parquet + " column (expected " + expected + ")");
    }

    /** @return the Parquet schema */
    MessageType schema() {
        return schema;
    }

    /** @return the number of row columns (without the meta column) */
    int size() {
        return names.length;
    }

    /** @return column i's name */
    String name(int i) {
        return names[i];
    }

    /** @return column i's writer */
    ValueWriter writer(int i) {
        return writers[i];
    }

    /** @return the meta column's name, or null */
    String metaColumn() {
        return metaColumn;
    }

    /** @return the meta column's value, or null */
    Binary metaValue() {
        return metaValue;
    }

    /** Adds one non-null value to the record being written. */
    @FunctionalInterface
    interface ValueWriter {
        /**
         * @param rc the record consumer, within the column's field
         * @param value the value, not null
         * @throws BadValueException if the value cannot be written without loss
         */
        void write(RecordConsumer rc, Object value);
    }

    /** A value that cannot be written to its column without loss or at all. */
    static final class BadValueException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        BadValueException(String message) {
            super(message);
        }

        /** A short, printable form of a value for a message. */
        static String show(Object v) {
            if (v instanceof byte[] b) {
                return b.length + " bytes";
            }
            String s = String.valueOf(v);
            return s.length() > 80 ? s.substring(0, 80) + "…" : s;
        }
    }
}
