package dev.relay.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.floats;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.relay.api.Column;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.sql.JDBCType;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * The row encoding round-trips every value a puller produces — timestamps without zone (nanoseconds, years 1 to 9999),
 * decimals of any scale, nulls, long strings outside the BMP, bytes, every integer and floating type — to an equal
 * value of the same class; and what it writes is exactly the published Avro schema (a generic Avro reader reads it,
 * and what a generic writer writes reads back).
 */
class RowCodecPropertyTest {

    private static final long MIN_DAY = LocalDate.of(1, 1, 1).toEpochDay();
    private static final long MAX_DAY = LocalDate.of(9999, 12, 31).toEpochDay();
    private static final long MAX_NANO = LocalTime.MAX.toNanoOfDay();

    static Gen<String> strings() {
        // any code point but lone surrogates (UTF-8 cannot carry those; the writer rejects them)
        Gen<Integer> codePoint = integers().between(0, 0x10FFFF - 0x800).map(cp -> cp < 0xD800 ? cp : cp + 0x800);
        Gen<String> shortStrings = lists().of(codePoint).ofSizeBetween(0, 40).map(cps -> {
            StringBuilder sb = new StringBuilder();
            cps.forEach(sb::appendCodePoint);
            return sb.toString();
        });
        // long strings (a LOB, a CLOB column): up to 200,000 chars
        Gen<String> longStrings = shortStrings.zip(integers().between(1, 5_000), (s, n) -> (s + "é\uD83D\uDE97").repeat(n));
        return Generate.frequency(List.of(org.quicktheories.api.Pair.of(8, shortStrings), org.quicktheories.api.Pair.of(1, longStrings)));
    }

    static Gen<LocalDateTime> timestamps() {
        return longs().between(MIN_DAY, MAX_DAY).zip(longs().between(0, MAX_NANO),
                (d, n) -> LocalDateTime.of(LocalDate.ofEpochDay(d), LocalTime.ofNanoOfDay(n)));
    }

    static Gen<Object> values() {
        Gen<BigInteger> bigs = longs().all().zip(integers().between(0, 3), (l, k) -> BigInteger.valueOf(l).shiftLeft(k * 40));
        Gen<Object> decimals = bigs.zip(integers().between(-20, 40), (u, s) -> (Object) new BigDecimal(u, s));
        Gen<Object> offsets = integers().between(-18 * 3600, 18 * 3600).map(s -> (Object) ZoneOffset.ofTotalSeconds(s));
        @SuppressWarnings("unchecked")
        Gen<Object> any = Generate.oneOf(
                Generate.constant((Object) null),
                booleans().all().map(b -> (Object) b),
                integers().all().map(i -> (Object) i),
                longs().all().map(l -> (Object) l),
                floats().any().map(f -> (Object) f),
                doubles().any().map(d -> (Object) d),
                strings().map(s -> (Object) s),
                lists().of(integers().between(-128, 127)).ofSizeBetween(0, 64).map(bs -> {
                    byte[] b = new byte[bs.size()];
                    for (int i = 0; i < b.length; i++) {
                        b[i] = bs.get(i).byteValue();
                    }
                    return (Object) b;
                }),
                decimals,
                bigs.map(b -> (Object) b),
                integers().between(Short.MIN_VALUE, Short.MAX_VALUE).map(i -> (Object) (short) (int) i),
                integers().between(Byte.MIN_VALUE, Byte.MAX_VALUE).map(i -> (Object) (byte) (int) i),
                longs().between(MIN_DAY, MAX_DAY).map(d -> (Object) LocalDate.ofEpochDay(d)),
                longs().between(0, MAX_NANO).map(n -> (Object) LocalTime.ofNanoOfDay(n)),
                timestamps().map(t -> (Object) t),
                timestamps().zip(offsets, (t, o) -> (Object) OffsetDateTime.of(t, (ZoneOffset) o)),
                longs().between(0, MAX_NANO).zip(offsets, (n, o) -> (Object) OffsetTime.of(LocalTime.ofNanoOfDay(n), (ZoneOffset) o)),
                longs().between(-31_557_014_167_219_200L, 31_556_889_864_403_199L).zip(integers().between(0, 999_999_999),
                        (s, n) -> (Object) Instant.ofEpochSecond(s, n)),
                longs().all().zip(longs().all(), (a, b) -> (Object) new UUID(a, b)),
                timestamps().map(t -> (Object) java.sql.Timestamp.valueOf(t.withYear(Math.max(1900, t.getYear())))),
                longs().between(LocalDate.of(1900, 1, 1).toEpochDay(), MAX_DAY).map(d -> (Object) java.sql.Date.valueOf(LocalDate.ofEpochDay(d))));
        return any;
    }

    /** Rows of width 1..12, values of any kind, mixed in each column (the format does not depend on the declared type). */
    static Gen<List<Object[]>> rows() {
        return integers().between(1, 12).flatMap(width -> lists().of(lists().of(values()).ofSize(width).map((List<Object> l) -> l.toArray()))
                .ofSizeBetween(0, 60));
    }

    static RowSchema schema(int width) {
        List<Column> cols = new ArrayList<>();
        for (int i = 0; i < width; i++) {
            cols.add(new Column("C" + i, JDBCType.values()[i % JDBCType.values().length]));
        }
        return RowSchema.of(cols);
    }

    static List<Row> roundTrip(List<Row> in, RowSchema schema, int chunkBytes, int batch) {
        ChunkWriter w = new ChunkWriter("t1", "d1", chunkBytes);
        List<byte[]> chunks = new ArrayList<>(w.add(in));
        byte[] last = w.finish();
        if (last != null) {
            chunks.add(last);
        }
        List<Row> out = new ArrayList<>();
        for (int seq = 0; seq < chunks.size(); seq++) {
            ChunkReader r = new ChunkReader(HandoffFormat.STANDARD, chunks.get(seq), "t1", "d1", seq, schema, "test@" + seq);
            while (r.read(out, batch)) {
                // reads up to `batch` rows a call
            }
        }
        return out;
    }

    static void assertSameRows(List<Row> expected, List<Row> actual) {
        assertEquals(expected.size(), actual.size(), "rows");
        for (int i = 0; i < expected.size(); i++) {
            for (int c = 0; c < expected.get(i).size(); c++) {
                Object a = expected.get(i).get(c);
                Object b = actual.get(i).get(c);
                assertTrue(Objects.deepEquals(a, b), "row " + i + " column " + c + ": " + a + " became " + b);
                assertEquals(a == null ? null : a.getClass(), b == null ? null : b.getClass(), "class of row " + i + " column " + c);
            }
        }
    }

    @Test
    void chunks_anyRowsAnyChunkSize_roundTripToEqualValuesOfTheSameClass() {
        qt().withExamples(300).forAll(rows(), integers().between(1, 6), integers().between(1, 50)).checkAssert((raw, k, batch) -> {
            int width = raw.isEmpty() ? 1 : raw.get(0).length;
            RowSchema schema = schema(width);
            List<Row> rows = new ArrayList<>();
            for (Object[] r : raw) {
                rows.add(Row.of(schema, r));
            }
            assertSameRows(rows, roundTrip(rows, schema, k * 16 * 1024, batch));
        });
    }

    @Test
    void chunks_manyRows_splitAtTheChunkSizeAndKeepTheirOrder() {
        RowSchema schema = schema(3);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            rows.add(Row.of(schema, i, "station " + i, LocalDateTime.of(2024, 11, 3, 1, 30).plusSeconds(i)));
        }
        ChunkWriter w = new ChunkWriter("t1", "d1", 64 * 1024);
        List<byte[]> chunks = new ArrayList<>(w.add(rows));
        chunks.add(w.finish());
        assertTrue(chunks.size() > 5, "chunks: " + chunks.size());
        for (byte[] c : chunks) {
            assertTrue(c.length <= 64 * 1024, "a chunk of " + c.length + " bytes");
        }
        assertSameRows(rows, roundTrip(rows, schema, 64 * 1024, 333));
    }

    @Test
    void chunk_isThePublishedAvroSchema_readByAGenericReader() throws Exception {
        qt().withExamples(100).forAll(rows()).checkAssert(raw -> {
            int width = raw.isEmpty() ? 1 : raw.get(0).length;
            RowSchema schema = schema(width);
            List<Row> rows = new ArrayList<>();
            for (Object[] r : raw) {
                rows.add(Row.of(schema, r));
            }
            ChunkWriter w = new ChunkWriter("task", "delivery", 1 << 24);
            assertTrue(w.add(rows).isEmpty());
            byte[] chunk = w.finish();
            if (chunk == null) {
                return;
            }
            assertEquals(HandoffFormat.chunkFingerprint(), HandoffFormat.readHeader(chunk, "chunk"));
            GenericRecord rec;
            try {
                var in = DecoderFactory.get().binaryDecoder(chunk, HandoffFormat.HEADER, chunk.length - HandoffFormat.HEADER, null);
                rec = new GenericDatumReader<GenericRecord>(HandoffFormat.chunkSchema()).read(null, in);
                assertTrue(in.isEnd());
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            assertEquals("task", rec.get("taskId").toString());
            List<?> generic = (List<?>) rec.get("rows");
            assertEquals(rows.size(), generic.size());
            for (int i = 0; i < rows.size(); i++) {
                List<?> values = (List<?>) generic.get(i);
                for (int c = 0; c < width; c++) {
                    assertGenericEquals(rows.get(i).get(c), values.get(c));
                }
            }
        });
    }

    private static void assertGenericEquals(Object v, Object g) {
        if (v == null || v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof Float || v instanceof Double) {
            assertEquals(v, g);
        } else if (v instanceof String s) {
            assertEquals(s, g.toString());
        } else if (v instanceof byte[] b) {
            ByteBuffer bb = (ByteBuffer) g;
            byte[] got = new byte[bb.remaining()];
            bb.get(got);
            assertTrue(java.util.Arrays.equals(b, got));
        } else if (v instanceof BigDecimal d) {
            GenericRecord r = (GenericRecord) g;
            assertEquals("Decimal", r.getSchema().getName());
            ByteBuffer bb = (ByteBuffer) r.get("unscaled");
            byte[] got = new byte[bb.remaining()];
            bb.get(got);
            assertEquals(d, new BigDecimal(new BigInteger(got), (Integer) r.get("scale")));
        } else if (v instanceof LocalDateTime t) {
            GenericRecord r = (GenericRecord) g;
            assertEquals("LocalDateTime", r.getSchema().getName());
            assertEquals(t.toLocalDate().toEpochDay(), r.get("epochDay"));
            assertEquals(t.toLocalTime().toNanoOfDay(), r.get("nanoOfDay"));
        } else {
            // the other named types: their record name is the Java class's simple name (UUID: Uuid)
            String expected = v instanceof UUID ? "Uuid" : v instanceof java.sql.Timestamp ? "SqlTimestamp"
                    : v instanceof java.sql.Date ? "SqlDate" : v.getClass().getSimpleName();
            assertEquals(expected, ((GenericRecord) g).getSchema().getName());
        }
    }

    @Test
    void chunk_writtenByAGenericWriter_readsBack() throws Exception {
        Schema chunk = HandoffFormat.chunkSchema();
        Schema rowsSchema = chunk.getField("rows").schema();
        Schema valueUnion = rowsSchema.getElementType().getElementType();
        GenericData.Record decimal = new GenericData.Record(valueUnion.getTypes().get(ValueCodec.DECIMAL));
        decimal.put("unscaled", ByteBuffer.wrap(BigInteger.valueOf(-12345).toByteArray()));
        decimal.put("scale", 3);
        GenericData.Record ts = new GenericData.Record(valueUnion.getTypes().get(ValueCodec.LOCAL_DATE_TIME));
        ts.put("epochDay", LocalDate.of(2024, 11, 3).toEpochDay());
        ts.put("nanoOfDay", LocalTime.of(1, 30, 0, 5).toNanoOfDay());
        GenericData.Record rec = new GenericData.Record(chunk);
        rec.put("taskId", "t");
        rec.put("delivery", "d");
        rec.put("sequence", 0);
        rec.put("rows", List.of(List.of(decimal, ts, "x"), java.util.Arrays.asList(null, ts, 7)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        HandoffFormat.writeHeader(out, HandoffFormat.chunkFingerprint());
        BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(chunk).write(rec, e);
        e.flush();
        RowSchema schema = schema(3);
        List<Row> rows = new ArrayList<>();
        ChunkReader r = new ChunkReader(HandoffFormat.STANDARD, out.toByteArray(), "t", "d", 0, schema, "test");
        while (r.read(rows, 10)) {
            // all
        }
        assertSameRows(List.of(Row.of(schema, new BigDecimal("-12.345"), LocalDateTime.of(2024, 11, 3, 1, 30, 0, 5), "x"),
                Row.of(schema, null, LocalDateTime.of(2024, 11, 3, 1, 30, 0, 5), 7)), rows);
    }

    @Test
    void write_unsupportedClassOrLoneSurrogate_failsNamingTheColumn() {
        RowSchema schema = RowSchema.of(new Column("JSON_DOC", JDBCType.OTHER));
        ChunkWriter w = new ChunkWriter("t", "d", 1 << 20);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> w.add(List.of(Row.of(schema, new StringBuilder("{}")))));
        assertTrue(e.getMessage().contains("JSON_DOC") && e.getMessage().contains("java.lang.StringBuilder"), e.getMessage());
        ChunkWriter w2 = new ChunkWriter("t", "d", 1 << 20);
        e = assertThrows(IllegalArgumentException.class, () -> w2.add(List.of(Row.of(schema, "a\uD800b"))));
        assertTrue(e.getMessage().contains("unpaired surrogate"), e.getMessage());
        assertFalse(ValueCodec.supports(new Object()));
    }
}
