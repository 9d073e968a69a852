package dev.relay.kafka;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.Names;
import dev.relay.api.Scope;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.ByteArrayInputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Objects;

/**
 * The versioned binary encoding of a {@link Task} in a Kafka record value.
 *
 * <h2>Layout, schema version 1</h2>
 * All integers are big-endian. A <em>string</em> is an unsigned 16-bit byte length followed by that many
 * bytes of UTF-8 (strict: malformed UTF-8 is rejected).
 * <pre>
 *   u8      magic            0x52 ('R')
 *   u8      schema version   1
 *   string  id               32 lower-case hex characters, {@link Task#id()}
 *   string  lane             the lane the task was encoded for (informational; the topic decides)
 *   string  source           {@link Task#source()}
 *   u8      scope kind       'W' (0x57) window or 'S' (0x53) snapshot
 *   string  window start     ISO-8601 local date-time  (kind 'W' only)
 *   string  window end       ISO-8601 local date-time  (kind 'W' only)
 *   string  snapshot day     ISO-8601 local date       (kind 'S' only)
 *   i32     attempt          at least 1
 *   u16     parameter count  n
 *   n × (string key, string value), keys strictly ascending
 * </pre>
 * Nothing may follow the last parameter. The record key is the task id in UTF-8, so that the deliveries of
 * one task share a partition.
 *
 * <h2>Headers</h2>
 * A retry record (in a lane's retry topic) carries {@value #HEADER_NOT_BEFORE} and {@value #HEADER_RETRY_REASON};
 * a dead letter carries {@value #HEADER_DLT_REASON}, {@value #HEADER_DLT_ORIGIN} and {@value #HEADER_DLT_TIME}.
 * Lane records carry none.
 *
 * <p>Decoding rebuilds the task through {@link Task#builder}, which re-validates every name, and then checks
 * that the id derived from source, scope and parameters equals the encoded id: a mismatch means the record
 * was altered or produced by a buggy writer, and the record is rejected. Any rejection is an
 * {@link InvalidTaskException} whose message is the reason the consumer writes to the dead-letter topic.
 *
 * <p>A new schema version gets a new number; decoders reject versions they do not know (the record then goes
 * to the dead-letter topic with the reason, where an upgraded relay can re-offer it). Version 1 is never
 * changed.
 *
 * <p>This class is threadsafe (stateless).
 */
public final class TaskRecordCodec {

    /** The first byte of every encoded task. */
    public static final int MAGIC = 0x52;

    /** The schema version {@link #encode} writes. */
    public static final int CURRENT_VERSION = 1;

    /** Retry records: when the retry may be handed out, epoch milliseconds in decimal (UTF-8). */
    public static final String HEADER_NOT_BEFORE = "relay-not-before";
    /** Retry records: why the attempt failed (UTF-8). */
    public static final String HEADER_RETRY_REASON = "relay-retry-reason";
    /** Dead letters: why the task or record was dead-lettered (UTF-8). */
    public static final String HEADER_DLT_REASON = "relay-dlt-reason";
    /** Dead letters: where the record came from, {@code topic-partition@offset} (UTF-8). */
    public static final String HEADER_DLT_ORIGIN = "relay-dlt-origin";
    /** Dead letters: when it was dead-lettered, ISO-8601 (UTF-8). */
    public static final String HEADER_DLT_TIME = "relay-dlt-time";

    private static final int WINDOW = 'W';
    private static final int SNAPSHOT = 'S';

    private TaskRecordCodec() {
    }

    /**
     * Encodes a task in the current schema version.
     *
     * @param task the task
     * @return the bytes of the record value
     */
    public static byte[] encode(Task task) {
        Objects.requireNonNull(task, "task");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128 + 64 * task.parameters().size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(MAGIC);
            out.writeByte(CURRENT_VERSION);
            writeString(out, task.id());
            writeString(out, task.lane());
            writeString(out, task.source());
            Scope scope = task.scope();
            if (scope instanceof Window w) {
                out.writeByte(WINDOW);
                writeString(out, w.start().toString());
                writeString(out, w.end().toString());
            } else if (scope instanceof Snapshot s) {
                out.writeByte(SNAPSHOT);
                writeString(out, s.asOf().toString());
            } else {
                throw new IllegalArgumentException("unknown scope type " + scope.getClass().getName());
            }
            out.writeInt(task.attempt());
            out.writeShort(task.parameters().size());
            for (Map.Entry<String, String> e : task.parameters().entrySet()) {
                writeString(out, e.getKey());
                writeString(out, e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory failed", e);
        }
        return bytes.toByteArray();
    }

    /**
     * Decodes a record value.
     *
     * @param bytes the record value, possibly null
     * @return the task, in the lane it was encoded for
     * @throws InvalidTaskException naming the reason if the bytes are not a valid task of a known version
     */
    public static Task decode(byte[] bytes) {
        if (bytes == null) {
            throw new InvalidTaskException("malformed task record: null value (tombstone)");
        }
        if (bytes.length < 2) {
            throw new InvalidTaskException("malformed task record: " + bytes.length + " bytes, too short for a header");
        }
        if ((bytes[0] & 0xff) != MAGIC) {
            throw new InvalidTaskException(String.format("malformed task record: bad magic byte 0x%02x, expected 0x%02x",
                    bytes[0] & 0xff, MAGIC));
        }
        int version = bytes[1] & 0xff;
        if (version != 1) {
            throw new InvalidTaskException("unknown schema version " + version + " (this relay reads versions 1.."
                    + CURRENT_VERSION + ")");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 2, bytes.length - 2))) {
            return decodeV1(in);
        } catch (EOFException e) {
            throw new InvalidTaskException("malformed task record: truncated (" + bytes.length + " bytes)", e);
        } catch (IOException e) {
            throw new InvalidTaskException("malformed task record: " + e.getMessage(), e);
        }
    }

    private static Task decodeV1(DataInputStream in) throws IOException {
        String id = readString(in, "id");
        String lane = readString(in, "lane");
        String source = readString(in, "source");
        int kind = in.readUnsignedByte();
        Scope scope;
        try {
            if (kind == WINDOW) {
                String start = readString(in, "window start");
                String end = readString(in, "window end");
                scope = Window.of(LocalDateTime.parse(start), LocalDateTime.parse(end));
            } else if (kind == SNAPSHOT) {
                scope = Snapshot.of(LocalDate.parse(readString(in, "snapshot day")));
            } else {
                throw new InvalidTaskException(String.format("malformed task record: unknown scope kind 0x%02x", kind));
            }
        } catch (DateTimeParseException | IllegalArgumentException e) {
            if (e instanceof InvalidTaskException ite) {
                throw ite;
            }
            throw new InvalidTaskException("malformed task record: bad scope: " + e.getMessage(), e);
        }
        int attempt = in.readInt();
        int count = in.readUnsignedShort();
        Task.Builder b;
        try {
            b = Task.builder(lane, source).scope(scope).attempt(attempt);
            String previous = null;
            for (int i = 0; i < count; i++) {
                String key = readString(in, "parameter key");
                String value = readString(in, "parameter value");
                if (previous != null && previous.compareTo(key) >= 0) {
                    throw new InvalidTaskException("malformed task record: parameter keys not strictly ascending at '"
                            + Names.printable(key) + "'");
                }
                previous = key;
                b.parameter(key, value);
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            if (e instanceof InvalidTaskException ite) {
                throw ite;
            }
            throw new InvalidTaskException("malformed task record: " + e.getMessage(), e);
        }
        if (in.read() != -1) {
            throw new InvalidTaskException("malformed task record: trailing bytes after the last parameter");
        }
        Task task = b.build();
        if (!task.id().equals(id)) {
            throw new InvalidTaskException("task id mismatch: record says " + Names.printable(id)
                    + " but source, scope and parameters derive " + task.id());
        }
        return task;
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xffff) {
            throw new IllegalArgumentException("string of " + b.length + " UTF-8 bytes does not fit the encoding");
        }
        out.writeShort(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in, String what) throws IOException {
        int len = in.readUnsignedShort();
        byte[] b = new byte[len];
        in.readFully(b);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidTaskException("malformed task record: " + what + " is not valid UTF-8", e);
        }
    }
}
