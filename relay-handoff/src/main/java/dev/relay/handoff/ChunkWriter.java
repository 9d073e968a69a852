package dev.relay.handoff;

import dev.relay.api.Row;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/**
 * Encodes one delivery's rows into chunk records of at most {@code chunkBytes} each (a single row larger than that
 * makes a chunk of its own). Rows are encoded as they come into a buffer of about one chunk, so memory is bounded by
 * the chunk size, not by the task. Not threadsafe: one session owns it.
 */
final class ChunkWriter {

    /** Upper bound of a chunk's bytes besides its rows: header, task id, delivery, sequence, block count, terminator. */
    static final int OVERHEAD = HandoffFormat.HEADER + 2 * 5 + 128 + 5 + 10 + 1;

    private final String taskId;
    private final String delivery;
    private final int chunkBytes;
    private final Buf rows;
    private final BinaryEncoder encoder;
    private int rowsInBuffer;
    private int sequence;

    ChunkWriter(String taskId, String delivery, int chunkBytes) {
        this.taskId = taskId;
        this.delivery = delivery;
        this.chunkBytes = chunkBytes;
        this.rows = new Buf(Math.min(chunkBytes, 64 * 1024));
        this.encoder = EncoderFactory.get().binaryEncoder(rows, null);
    }

    /**
     * Encodes rows; returns the chunks that filled up (usually none or one).
     *
     * @throws IllegalArgumentException naming the column if a value cannot be encoded
     */
    List<byte[]> add(List<Row> batch) {
        List<byte[]> full = null;
        try {
            for (Row row : batch) {
                int start = rows.size + encoder.bytesBuffered();
                int n = row.size();
                encoder.writeArrayStart();
                encoder.setItemCount(n);
                for (int i = 0; i < n; i++) {
                    encoder.startItem();
                    try {
                        ValueCodec.write(encoder, row.get(i));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("column '" + row.schema().column(i).name() + "' ("
                                + row.schema().column(i).type() + ") of task " + taskId + ": " + e.getMessage(), e);
                    }
                }
                encoder.writeArrayEnd();
                int end = rows.size + encoder.bytesBuffered();
                if (end + OVERHEAD > chunkBytes && rowsInBuffer > 0) {
                    encoder.flush();
                    if (full == null) {
                        full = new ArrayList<>(1);
                    }
                    full.add(chunk(start, rowsInBuffer));
                    rows.dropFirst(start);
                    rowsInBuffer = 1;
                } else {
                    rowsInBuffer++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return full == null ? List.of() : full;
    }

    /** @return the last chunk, or null if no rows are left */
    byte[] finish() {
        try {
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (rowsInBuffer == 0) {
            return null;
        }
        byte[] last = chunk(rows.size, rowsInBuffer);
        rows.size = 0;
        rowsInBuffer = 0;
        return last;
    }

    /** @return how many chunks were made */
    int chunks() {
        return sequence;
    }

    private byte[] chunk(int rowBytes, int count) {
        Buf out = new Buf(rowBytes + OVERHEAD);
        try {
            HandoffFormat.writeHeader(out, HandoffFormat.CHUNK_FP);
            BinaryEncoder e = EncoderFactory.get().directBinaryEncoder(out, null);
            e.writeString(taskId);
            e.writeString(delivery);
            e.writeInt(sequence++);
            e.writeArrayStart();
            e.setItemCount(count);
            e.writeFixed(rows.bytes, 0, rowBytes);
            e.writeArrayEnd();
            e.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.size == out.bytes.length ? out.bytes : out.toArray();
    }
}
