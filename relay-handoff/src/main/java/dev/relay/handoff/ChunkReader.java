package dev.relay.handoff;

import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import java.io.IOException;
import java.util.List;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.ResolvingDecoder;

/**
 * Decodes the rows of one chunk record a few at a time, so that a chunk of a megabyte never sits decoded in memory
 * whole. Checks the chunk's task id, delivery and sequence against what the reader expects. Not threadsafe.
 */
final class ChunkReader {

    private final Decoder in;
    private final BinaryDecoder binary;
    private final RowSchema schema;
    private final String where;
    private long leftInBlock;
    private boolean done;
    private int rows;

    /**
     * @throws MalformedRecordException if the record is not a chunk of this delivery with this sequence number
     */
    ChunkReader(HandoffFormat.Codec codec, byte[] value, String taskId, String delivery, int sequence, RowSchema schema,
            String where) {
        this.schema = schema;
        this.where = where;
        long fp = HandoffFormat.readHeader(value, "chunk " + sequence + " of task " + taskId + " at " + where);
        Schema writer = codec.chunkWriter(fp, "chunk " + sequence + " of task " + taskId + " at " + where);
        binary = DecoderFactory.get().binaryDecoder(value, HandoffFormat.HEADER, value.length - HandoffFormat.HEADER, null);
        try {
            if (writer == HandoffFormat.CHUNK) {
                in = binary;
            } else {
                ResolvingDecoder r = DecoderFactory.get().resolvingDecoder(writer, HandoffFormat.CHUNK, binary);
                r.readFieldOrder();
                in = r;
            }
            String id = in.readString();
            String d = in.readString();
            int seq = in.readInt();
            if (!id.equals(taskId) || !d.equals(delivery) || seq != sequence) {
                throw new MalformedRecordException("the record at " + where + " is chunk " + seq + " of task " + id
                        + " delivery " + d + ", but the manifest puts chunk " + sequence + " of task " + taskId
                        + " delivery " + delivery + " there");
            }
            leftInBlock = in.readArrayStart();
            done = leftInBlock == 0;
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new MalformedRecordException("chunk " + sequence + " of task " + taskId + " at " + where
                    + " does not decode: " + e, e);
        }
    }

    /**
     * Decodes up to {@code max} rows into {@code out}.
     *
     * @return false once the chunk is exhausted (then nothing was added)
     * @throws MalformedRecordException if the rows do not decode or do not fit the schema
     */
    boolean read(List<Row> out, int max) {
        if (done) {
            return false;
        }
        int columns = schema.size();
        try {
            for (int k = 0; k < max && !done; k++) {
                Object[] values = new Object[columns];
                int i = 0;
                for (long n = in.readArrayStart(); n != 0; n = in.arrayNext()) {
                    for (long j = 0; j < n; j++) {
                        if (i == columns) {
                            throw new MalformedRecordException("row " + rows + " of the chunk at " + where + " has more than "
                                    + columns + " values, the manifest's schema " + schema);
                        }
                        values[i++] = ValueCodec.read(in);
                    }
                }
                if (i != columns) {
                    throw new MalformedRecordException("row " + rows + " of the chunk at " + where + " has " + i
                            + " values, but the manifest's schema " + columns + " columns " + schema);
                }
                out.add(Row.wrap(schema, values));
                rows++;
                if (--leftInBlock == 0) {
                    leftInBlock = in.arrayNext();
                    if (leftInBlock == 0) {
                        done = true;
                        if (in instanceof ResolvingDecoder r) {
                            r.drain(); // fields a newer writer appended after the rows
                        }
                        if (!binary.isEnd()) {
                            throw new MalformedRecordException("the chunk at " + where + " has bytes after its last row");
                        }
                    }
                }
            }
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new MalformedRecordException("row " + rows + " of the chunk at " + where + " does not decode: " + e, e);
        }
        return true;
    }

    /** @return rows decoded so far */
    int rows() {
        return rows;
    }
}
