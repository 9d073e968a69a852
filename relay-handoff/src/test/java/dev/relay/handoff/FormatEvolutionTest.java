package dev.relay.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Column;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/**
 * Schema evolution: records of a later writer version (a field appended with a default) are unknown to a reader that
 * has not been told that version (dead-lettered as "unknown format version"), and decode through Avro's schema
 * resolution in a reader that knows it. The rule the format documents: upgrade the uploader host first.
 */
class FormatEvolutionTest {

    /** The record schema with a string field appended, with a default: a compatible version 2. */
    static Schema withAppendedField(Schema original) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : original.getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(new Schema.Field("producerHost", Schema.create(Schema.Type.STRING), "added in version 2", "unknown"));
        return Schema.createRecord(original.getName(), original.getDoc(), original.getNamespace(), false, fields);
    }

    @Test
    void manifest_ofALaterVersion_unknownUntilTheReaderKnowsIt_thenResolved() throws Exception {
        Schema v2 = withAppendedField(HandoffFormat.MANIFEST);
        Task task = Task.builder("config", "config").scope(Window.starting(LocalDateTime.of(2024, 11, 3, 1, 0), Duration.ofMinutes(10)))
                .parameter("table", "DETECTOR_CONFIG").build();
        RowSchema schema = RowSchema.of(new Column("ID", JDBCType.INTEGER));
        Manifest m = new Manifest(task, "d1", schema, 3, 100, 42, "t", 0, List.of(5L), Instant.ofEpochMilli(1_700_000_000_000L));
        // re-encode version 1's bytes as version 2: read them generically, add the field, write with the v2 schema
        byte[] v1 = HandoffFormat.encodeManifest(m);
        GenericRecord r = new org.apache.avro.generic.GenericDatumReader<GenericRecord>(HandoffFormat.MANIFEST, v2)
                .read(null, org.apache.avro.io.DecoderFactory.get().binaryDecoder(v1, HandoffFormat.HEADER, v1.length - HandoffFormat.HEADER, null));
        r.put("producerHost", "puller-1");
        long fp = SchemaNormalization.parsingFingerprint64(v2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        HandoffFormat.writeHeader(out, fp);
        BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(v2).write(r, e);
        e.flush();
        byte[] v2Bytes = out.toByteArray();

        MalformedRecordException unknown = assertThrows(MalformedRecordException.class, () -> HandoffFormat.STANDARD.decodeManifest(v2Bytes));
        assertTrue(unknown.getMessage().contains("unknown format version"), unknown.getMessage());
        Manifest back = new HandoffFormat.Codec(Map.of(), Map.of(fp, v2)).decodeManifest(v2Bytes);
        assertEquals(m, back);
    }

    @Test
    void chunk_ofALaterVersion_unknownUntilTheReaderKnowsIt_thenResolved() throws Exception {
        Schema v1 = HandoffFormat.CHUNK;
        Schema v2 = withAppendedField(v1);
        Schema valueUnion = v1.getField("rows").schema().getElementType().getElementType();
        GenericData.Record decimal = new GenericData.Record(valueUnion.getTypes().get(ValueCodec.DECIMAL));
        decimal.put("unscaled", ByteBuffer.wrap(java.math.BigInteger.valueOf(12345).toByteArray()));
        decimal.put("scale", 2);
        GenericData.Record rec = new GenericData.Record(v2);
        rec.put("taskId", "t");
        rec.put("delivery", "d");
        rec.put("sequence", 0);
        rec.put("rows", List.of(List.of(decimal, "x"), java.util.Arrays.asList(null, "y")));
        rec.put("producerHost", "puller-1");
        long fp = SchemaNormalization.parsingFingerprint64(v2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        HandoffFormat.writeHeader(out, fp);
        BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(v2).write(rec, e);
        e.flush();
        byte[] bytes = out.toByteArray();
        RowSchema schema = RowSchema.of(new Column("A", JDBCType.NUMERIC), new Column("B", JDBCType.VARCHAR));

        MalformedRecordException unknown = assertThrows(MalformedRecordException.class,
                () -> new ChunkReader(HandoffFormat.STANDARD, bytes, "t", "d", 0, schema, "test"));
        assertTrue(unknown.getMessage().contains("unknown format version"), unknown.getMessage());
        List<Row> rows = new ArrayList<>();
        ChunkReader reader = new ChunkReader(new HandoffFormat.Codec(Map.of(fp, v2), Map.of()), bytes, "t", "d", 0, schema, "test");
        while (reader.read(rows, 1)) {
            // one row at a time
        }
        assertEquals(List.of(Row.of(schema, new BigDecimal("123.45"), "x"), Row.of(schema, null, "y")), rows);
    }
}
