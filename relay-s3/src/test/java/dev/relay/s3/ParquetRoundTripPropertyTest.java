package dev.relay.s3;

import dev.relay.api.Column;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.sql.JDBCType;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.arbitrary;
import static org.quicktheories.generators.SourceDSL.bigIntegers;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.floats;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

/**
 * Write rows of arbitrary schemas (every mapped JDBC type, nulls everywhere), read the file back with parquet-java's
 * reader, decode the logical types independently, compare: every value comes back exactly, under every compression,
 * timestamp unit and decimal precision.
 */
class ParquetRoundTripPropertyTest {

    static final List<JDBCType> TYPES = List.of(JDBCType.BOOLEAN, JDBCType.TINYINT, JDBCType.SMALLINT, JDBCType.INTEGER,
            JDBCType.BIGINT, JDBCType.REAL, JDBCType.DOUBLE, JDBCType.NUMERIC, JDBCType.VARCHAR, JDBCType.VARBINARY,
            JDBCType.DATE, JDBCType.TIME, JDBCType.TIMESTAMP, JDBCType.TIMESTAMP_WITH_TIMEZONE);

    record Settings(Compression compression, TimestampUnit unit, int precision, int scale) {
    }

    record Case(Settings settings, List<JDBCType> types, List<Object[]> rows) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(settings + " " + types);
            for (Object[] r : rows) {
                sb.append("\n  ").append(Arrays.deepToString(r));
            }
            return sb.toString();
        }
    }

    static Gen<Settings> settings() {
        return arbitrary().enumValues(Compression.class).zip(arbitrary().enumValues(TimestampUnit.class),
                        integers().between(1, 38), (c, u, p) -> new Settings(c, u, p, 0))
                .flatMap(s -> integers().between(0, s.precision()).map(scale -> new Settings(s.compression(), s.unit(), s.precision(), scale)));
    }

    static <T> Gen<Object> nullable(Gen<T> values) {
        return integers().between(0, 5).zip(values, (n, v) -> n == 0 ? null : (Object) v);
    }

    static Gen<Object> values(JDBCType type, Settings s) {
        switch (type) {
            case BOOLEAN:
                return nullable(booleans().all());
            case TINYINT:
                return nullable(integers().between(-128, 127));
            case SMALLINT:
                return nullable(integers().between(-32768, 32767));
            case INTEGER:
                return nullable(integers().all());
            case BIGINT:
                return nullable(longs().all());
            case REAL:
                return nullable(floats().any());
            case DOUBLE:
                return nullable(doubles().any());
            case NUMERIC: {
                BigInteger bound = BigInteger.TEN.pow(s.precision());
                // unscaled values of up to precision digits, at any scale up to the column's (trailing zeros too)
                return nullable(bigIntegers().ofBytes(17).zip(integers().between(0, s.scale()),
                        (u, scale) -> new BigDecimal(u.mod(bound).multiply(BigInteger.valueOf(u.signum() < 0 ? -1 : 1)), s.scale())
                                .setScale(scale, RoundingMode.DOWN)));
            }
            case VARCHAR:
                return nullable(strings().allPossible().ofLengthBetween(0, 12).map(ParquetRoundTripPropertyTest::wellFormed));
            case VARBINARY:
                return nullable(lists().of(integers().between(-128, 127)).ofSizeBetween(0, 16).map(l -> {
                    byte[] b = new byte[l.size()];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = (byte) (int) l.get(i);
                    }
                    return b;
                }));
            case DATE:
                return nullable(longs().between(LocalDate.of(1, 1, 1).toEpochDay(), LocalDate.of(9999, 12, 31).toEpochDay())
                        .map(LocalDate::ofEpochDay));
            case TIME:
                return nullable(longs().between(0, 86_399_999_999_999L).map(n -> LocalTime.ofNanoOfDay(n - n % s.unit().nanos())));
            case TIMESTAMP:
                return nullable(longs().between(-2_000_000_000L, 8_000_000_000L).zip(integers().between(0, 999_999_999),
                        (sec, nano) -> LocalDateTime.ofEpochSecond(sec, (int) (nano - nano % s.unit().nanos()), ZoneOffset.UTC)));
            case TIMESTAMP_WITH_TIMEZONE:
                return nullable(longs().between(-2_000_000_000L, 8_000_000_000L).zip(integers().between(0, 999_999_999),
                        integers().between(-18 * 4, 18 * 4), (sec, nano, quarters) -> OffsetDateTime.ofInstant(
                                Instant.ofEpochSecond(sec, nano - nano % s.unit().nanos()), ZoneOffset.ofTotalSeconds(quarters * 900))));
            default:
                throw new AssertionError(type);
        }
    }

    /** Replaces unpaired surrogates, which UTF-8 cannot carry (a JDBC string from a database never holds one). */
    static String wellFormed(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append('?');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static Gen<Object[]> row(List<JDBCType> types, Settings s) {
        Gen<List<Object>> acc = arbitrary().constant(List::of);
        for (JDBCType t : types) {
            acc = acc.zip(values(t, s), (list, v) -> {
                List<Object> next = new ArrayList<>(list);
                next.add(v);
                return next;
            });
        }
        return acc.map((List<Object> l) -> l.toArray());
    }

    static Gen<Case> cases() {
        return settings().flatMap(s -> lists().of(arbitrary().pick(TYPES)).ofSizeBetween(1, 6)
                .flatMap(types -> lists().of(row(types, s)).ofSizeBetween(0, 30).map(rows -> new Case(s, types, rows))));
    }

    static RowSchema schema(List<JDBCType> types) {
        List<Column> columns = new ArrayList<>();
        for (int i = 0; i < types.size(); i++) {
            columns.add(new Column("c" + i + "_" + types.get(i).name().toLowerCase(java.util.Locale.ROOT), types.get(i)));
        }
        return RowSchema.of(columns);
    }

    /** Writes rows into a Parquet file in memory, as a session does (without S3). */
    static byte[] write(RowSchema schema, List<Row> rows, Settings s, long rowGroupSize) throws Exception {
        ColumnMapping mapping = ColumnMapping.of(schema, s.unit(), new ColumnMapping.Decimal(s.precision(), s.scale()),
                Map.of(), null, null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ParquetWriter<Row> w = new RowWriteSupport(mapping, Map.of("relay.task.id", "test"))
                .open(memory(out), s.compression(), rowGroupSize, 8 * 1024, 4 * 1024)) {
            for (Row r : rows) {
                w.write(r);
            }
        }
        return out.toByteArray();
    }

    static OutputFile memory(ByteArrayOutputStream out) {
        return new OutputFile() {
            @Override
            public PositionOutputStream create(long blockSizeHint) {
                return createOrOverwrite(blockSizeHint);
            }

            @Override
            public PositionOutputStream createOrOverwrite(long blockSizeHint) {
                return new PositionOutputStream() {
                    @Override
                    public long getPos() {
                        return out.size();
                    }

                    @Override
                    public void write(int b) {
                        out.write(b);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) {
                        out.write(b, off, len);
                    }
                };
            }

            @Override
            public boolean supportsBlockSize() {
                return false;
            }

            @Override
            public long defaultBlockSize() {
                return 0;
            }
        };
    }

    /** The value a column of {@code type} must read back as, for an input value. */
    static Object expected(Object v, JDBCType type, Settings s) {
        if (v == null) {
            return null;
        }
        switch (type) {
            case TINYINT:
            case SMALLINT:
            case INTEGER:
            case BIGINT:
                return ((Number) v).longValue();
            case NUMERIC:
                return ((BigDecimal) v).setScale(s.scale(), RoundingMode.UNNECESSARY);
            case TIMESTAMP_WITH_TIMEZONE:
                return ((OffsetDateTime) v).toInstant();
            default:
                return v;
        }
    }

    @Test
    void writeThenRead_arbitraryRowsAndSettings_everyValueComesBackExactly() {
        qt().withExamples(100).withShrinkCycles(200).forAll(cases()).checkAssert(c -> {
            RowSchema schema = schema(c.types());
            List<Row> rows = c.rows().stream().map(r -> Row.of(schema, r)).toList();
            ParquetRead.File file;
            try {
                // small row groups, so that many cases span several
                file = ParquetRead.read(write(schema, rows, c.settings(), 1024 * 1024), false);
            } catch (Exception e) {
                throw new AssertionError("case " + c, e);
            }
            assertEquals(rows.size(), file.rows().size(), () -> "rows of " + c);
            for (int r = 0; r < rows.size(); r++) {
                for (int i = 0; i < schema.size(); i++) {
                    Object want = expected(rows.get(r).get(i), c.types().get(i), c.settings());
                    Object got = file.rows().get(r)[i];
                    String where = "row " + r + " column " + schema.column(i) + " of " + c;
                    if (want instanceof byte[] b) {
                        assertArrayEquals(b, (byte[]) got, where);
                    } else {
                        assertEquals(want, got, where);
                    }
                }
            }
        });
    }
}
