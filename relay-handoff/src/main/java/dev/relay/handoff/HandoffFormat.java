package dev.relay.handoff;

import dev.relay.api.Column;
import dev.relay.api.RowSchema;
import dev.relay.api.Scope;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.JDBCType;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/**
 * The hand-off's record format, version 1: Apache Avro, in Avro's
 * <a href="https://avro.apache.org/docs/1.12.0/specification/#single-object-encoding">single-object encoding</a>.
 *
 * <h2>Records</h2>
 * Every record value is {@code C3 01}, the 8-byte little-endian CRC-64-AVRO fingerprint of its writer schema, then
 * the Avro binary body. The schemas are in {@code dev/relay/handoff/handoff-v1.avsc} on the class path (and returned
 * by {@link #chunkSchema()} and {@link #manifestSchema()}):
 * <ul>
 *   <li>{@code Chunk} — a run of one task's rows in the lane's data topic: task id, delivery (the hand-off's random
 *       id), sequence number, and rows, each an array of values. A value is a union whose branch is the value's Java
 *       class (null, Boolean, Integer, Long, Float, Double, String, byte[], BigDecimal with its own scale,
 *       BigInteger, Short, Byte, and java.time / java.sql temporal types, UUID), so rows decode to values of the
 *       classes the puller produced: a timestamp without zone stays a {@code LocalDateTime} with its wall-clock
 *       fields and nanoseconds (never converted through a zone), a decimal keeps its scale, a long string is one
 *       UTF-8 string.
 *   <li>{@code Manifest} — closes a task: the task (lane, source, scope, parameters, attempt), the row schema,
 *       row count, summed size and CRC-32C of its chunk records, and where the chunks are (data topic, partition,
 *       offsets). See {@link Manifest}.
 * </ul>
 *
 * <h2>Evolution</h2>
 * The fingerprint names the writer schema. A reader decodes records of every writer schema it knows, resolving them
 * to its own with Avro's schema resolution; it dead-letters a record whose fingerprint it does not know ("unknown
 * format version"). So a later version may add fields with defaults and append union branches (never reorder or
 * remove them), and a deployment upgrades the uploader host (the reader) before the puller host (the writer).
 * Version 1 is the first; its fingerprints are {@link #chunkFingerprint()} and {@link #manifestFingerprint()}.
 *
 * <p>This class is threadsafe (stateless).
 */
public final class HandoffFormat {

    /** The format version this library writes. */
    public static final int VERSION = 1;

    static final byte MAGIC_0 = (byte) 0xC3;
    static final byte MAGIC_1 = (byte) 0x01;
    /** Bytes of the single-object header: 2 magic bytes and the 8-byte fingerprint. */
    static final int HEADER = 10;

    static final Schema CHUNK;
    static final Schema MANIFEST;
    static final Schema WINDOW;
    static final Schema SNAPSHOT;
    static final Schema LOCAL_DATE_TIME;
    static final Schema LOCAL_DATE;
    static final Schema COLUMN;
    static final long CHUNK_FP;
    static final long MANIFEST_FP;

    /** The writer schemas this reader knows, by fingerprint. */
    static final Codec STANDARD;

    static {
        Schema.Parser parser = new Schema.Parser();
        try (InputStream in = HandoffFormat.class.getResourceAsStream("handoff-v1.avsc")) {
            if (in == null) {
                throw new IllegalStateException("dev/relay/handoff/handoff-v1.avsc is missing from the class path");
            }
            parser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Schema> types = parser.getTypes();
        CHUNK = types.get("dev.relay.handoff.v1.Chunk");
        MANIFEST = types.get("dev.relay.handoff.v1.Manifest");
        WINDOW = types.get("dev.relay.handoff.v1.Window");
        SNAPSHOT = types.get("dev.relay.handoff.v1.Snapshot");
        LOCAL_DATE_TIME = types.get("dev.relay.handoff.v1.LocalDateTime");
        LOCAL_DATE = types.get("dev.relay.handoff.v1.LocalDate");
        COLUMN = types.get("dev.relay.handoff.v1.Column");
        CHUNK_FP = SchemaNormalization.parsingFingerprint64(CHUNK);
        MANIFEST_FP = SchemaNormalization.parsingFingerprint64(MANIFEST);
        STANDARD = new Codec(Map.of(), Map.of());
    }

    private HandoffFormat() {
    }

    /** @return the Avro schema of a chunk record, version {@value #VERSION} */
    public static Schema chunkSchema() {
        return CHUNK;
    }

    /** @return the Avro schema of a manifest record, version {@value #VERSION} */
    public static Schema manifestSchema() {
        return MANIFEST;
    }

    /** @return the CRC-64-AVRO fingerprint of {@link #chunkSchema()}, as written in each chunk record's header */
    public static long chunkFingerprint() {
        return CHUNK_FP;
    }

    /** @return the CRC-64-AVRO fingerprint of {@link #manifestSchema()} */
    public static long manifestFingerprint() {
        return MANIFEST_FP;
    }

    /**
     * Decodes a manifest record (from a tasks topic, a data topic or a dead-letter topic).
     *
     * @param value the record value
     * @return the manifest
     * @throws IllegalArgumentException naming what is wrong: bad bytes, an unknown format version, a task whose
     *     fields do not derive its id
     */
    public static Manifest decodeManifest(byte[] value) {
        try {
            return STANDARD.decodeManifest(value);
        } catch (MalformedRecordException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    static void writeHeader(java.io.OutputStream out, long fingerprint) throws IOException {
        out.write(MAGIC_0);
        out.write(MAGIC_1);
        for (int i = 0; i < 8; i++) {
            out.write((int) (fingerprint >>> (8 * i)) & 0xff);
        }
    }

    /** @return the fingerprint in a single-object header */
    static long readHeader(byte[] value, String what) {
        if (value == null) {
            throw new MalformedRecordException(what + " has no value (null)");
        }
        if (value.length < HEADER || value[0] != MAGIC_0 || value[1] != MAGIC_1) {
            throw new MalformedRecordException(what + " is not an Avro single-object record (" + value.length
                    + " bytes, starting " + hex(value, 4) + "; expected C301 and a schema fingerprint)");
        }
        long fp = 0;
        for (int i = 0; i < 8; i++) {
            fp |= (value[2 + i] & 0xffL) << (8 * i);
        }
        return fp;
    }

    static String hex(byte[] b, int max) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(max, b.length); i++) {
            sb.append(String.format("%02X", b[i]));
        }
        return sb.toString();
    }

    /** The writer schemas a reader knows (the standard ones, and in tests later versions), and the manifest codec. */
    static final class Codec {
        final Map<Long, Schema> chunkWriters = new HashMap<>();
        final Map<Long, Schema> manifestWriters = new HashMap<>();

        Codec(Map<Long, Schema> extraChunkWriters, Map<Long, Schema> extraManifestWriters) {
            chunkWriters.put(CHUNK_FP, CHUNK);
            manifestWriters.put(MANIFEST_FP, MANIFEST);
            chunkWriters.putAll(extraChunkWriters);
            manifestWriters.putAll(extraManifestWriters);
        }

        /** @return the writer schema of a chunk, or throws "unknown version" */
        Schema chunkWriter(long fingerprint, String what) {
            Schema s = chunkWriters.get(fingerprint);
            if (s == null) {
                throw unknown(what, fingerprint, manifestWriters.containsKey(fingerprint) ? " (it is a manifest)" : "");
            }
            return s;
        }

        Manifest decodeManifest(byte[] value) {
            long fp = readHeader(value, "manifest record");
            Schema writer = manifestWriters.get(fp);
            if (writer == null) {
                throw unknown("manifest record", fp, chunkWriters.containsKey(fp) ? " (it is a chunk)" : "");
            }
            GenericRecord r;
            try {
                BinaryDecoder in = DecoderFactory.get().binaryDecoder(value, HEADER, value.length - HEADER, null);
                r = new GenericDatumReader<GenericRecord>(writer, MANIFEST).read(null, in);
                if (!in.isEnd()) {
                    throw new MalformedRecordException("manifest record has " + (value.length - HEADER) + " bytes of body"
                            + " but its fields end earlier");
                }
            } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
                throw new MalformedRecordException("manifest record does not decode: " + e, e);
            }
            return toManifest(r);
        }
    }

    private static MalformedRecordException unknown(String what, long fp, String hint) {
        return new MalformedRecordException("unknown format version: " + what + " has schema fingerprint "
                + Long.toHexString(fp) + hint + ", which this reader does not know (it reads hand-off format version "
                + VERSION + "; upgrade the uploader host before the puller host)");
    }

    static byte[] encodeManifest(Manifest m) {
        GenericData.Record r = new GenericData.Record(MANIFEST);
        Task t = m.task();
        r.put("taskId", t.id());
        r.put("delivery", m.delivery());
        r.put("lane", t.lane());
        r.put("source", t.source());
        r.put("scope", scopeRecord(t.scope()));
        r.put("parameters", new HashMap<>(t.parameters()));
        r.put("attempt", t.attempt());
        List<GenericRecord> columns = new ArrayList<>();
        for (Column c : m.schema().columns()) {
            GenericData.Record col = new GenericData.Record(COLUMN);
            col.put("name", c.name());
            col.put("jdbcType", c.type().name());
            columns.add(col);
        }
        r.put("columns", columns);
        r.put("rowCount", m.rowCount());
        r.put("payloadBytes", m.payloadBytes());
        r.put("checksum", m.checksum());
        r.put("dataTopic", m.dataTopic());
        r.put("dataPartition", m.dataPartition());
        r.put("chunkOffsets", m.chunkOffsets());
        r.put("handedOffAt", m.handedOffAt().toEpochMilli());
        Buf out = new Buf(256 + 10 * m.chunkOffsets().size());
        try {
            writeHeader(out, MANIFEST_FP);
            BinaryEncoder e = EncoderFactory.get().directBinaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(MANIFEST).write(r, e);
            e.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toArray();
    }

    private static GenericRecord scopeRecord(Scope scope) {
        if (scope instanceof Window w) {
            GenericData.Record r = new GenericData.Record(WINDOW);
            r.put("start", localDateTime(w.start()));
            r.put("end", localDateTime(w.end()));
            return r;
        }
        if (scope instanceof Snapshot s) {
            GenericData.Record r = new GenericData.Record(SNAPSHOT);
            GenericData.Record d = new GenericData.Record(LOCAL_DATE);
            d.put("epochDay", s.asOf().toEpochDay());
            r.put("asOf", d);
            return r;
        }
        throw new IllegalArgumentException("scope " + scope + " is neither a Window nor a Snapshot");
    }

    private static GenericRecord localDateTime(LocalDateTime t) {
        GenericData.Record r = new GenericData.Record(LOCAL_DATE_TIME);
        r.put("epochDay", t.toLocalDate().toEpochDay());
        r.put("nanoOfDay", t.toLocalTime().toNanoOfDay());
        return r;
    }

    private static LocalDateTime localDateTime(Object o) {
        GenericRecord r = (GenericRecord) o;
        return LocalDateTime.of(LocalDate.ofEpochDay((Long) r.get("epochDay")), LocalTime.ofNanoOfDay((Long) r.get("nanoOfDay")));
    }

    private static Manifest toManifest(GenericRecord r) {
        String taskId = String.valueOf(r.get("taskId"));
        try {
            GenericRecord scopeRecord = (GenericRecord) r.get("scope");
            Scope scope;
            if (scopeRecord.getSchema().getFullName().equals(WINDOW.getFullName())) {
                scope = Window.of(localDateTime(scopeRecord.get("start")), localDateTime(scopeRecord.get("end")));
            } else {
                scope = Snapshot.of(LocalDate.ofEpochDay((Long) ((GenericRecord) scopeRecord.get("asOf")).get("epochDay")));
            }
            Task.Builder b = Task.builder(String.valueOf(r.get("lane")), String.valueOf(r.get("source"))).scope(scope)
                    .attempt((Integer) r.get("attempt"));
            Map<?, ?> params = (Map<?, ?>) r.get("parameters");
            params.forEach((k, v) -> b.parameter(String.valueOf(k), String.valueOf(v)));
            Task task = b.build();
            if (!task.id().equals(taskId)) {
                throw new MalformedRecordException("manifest of task " + taskId + " describes " + task + ", whose id is "
                        + task.id());
            }
            List<Column> columns = new ArrayList<>();
            for (Object o : (List<?>) r.get("columns")) {
                GenericRecord c = (GenericRecord) o;
                columns.add(new Column(String.valueOf(c.get("name")), JDBCType.valueOf(String.valueOf(c.get("jdbcType")))));
            }
            List<Long> offsets = new ArrayList<>();
            for (Object o : (List<?>) r.get("chunkOffsets")) {
                offsets.add((Long) o);
            }
            return new Manifest(task, String.valueOf(r.get("delivery")), RowSchema.of(columns), (Long) r.get("rowCount"),
                    (Long) r.get("payloadBytes"), (Long) r.get("checksum"), String.valueOf(r.get("dataTopic")),
                    (Integer) r.get("dataPartition"), offsets, Instant.ofEpochMilli((Long) r.get("handedOffAt")));
        } catch (RuntimeException e) {
            if (e instanceof MalformedRecordException m) {
                throw m;
            }
            throw new MalformedRecordException("manifest of task " + taskId + " is invalid: " + e.getMessage(), e);
        }
    }
}
