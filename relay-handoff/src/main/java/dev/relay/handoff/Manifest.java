package dev.relay.handoff;

import dev.relay.api.RowSchema;
import dev.relay.api.Task;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The closing record of one task's hand-off: what the task is, the schema and count of its rows, the checksum of its
 * chunks and where they are. {@link HandoffSink} writes it after the task's chunks to the lane's data topic and to
 * the lane's tasks topic, in the same Kafka transaction; the uploader leases tasks by their manifests and checks the
 * chunks it reads against them. Dead-lettered tasks carry their manifest; {@link HandoffFormat#decodeManifest}
 * reads it.
 *
 * <p>Immutable and threadsafe.
 *
 * @param task the task as the puller host ran it (its lane, source, scope, parameters and attempt; same id)
 * @param delivery the random id of this hand-off (one Kafka transaction); a task handed off twice has two
 * @param schema the rows' schema
 * @param rowCount the rows in the chunks
 * @param payloadBytes the chunk records' value bytes, summed
 * @param checksum the CRC-32C of the chunk records' values, in sequence order
 * @param dataTopic the data topic holding the chunks
 * @param dataPartition their partition (all chunks of a task share it)
 * @param chunkOffsets the offset of each chunk, in sequence order
 * @param handedOffAt when the puller host closed the hand-off (its clock)
 */
public record Manifest(Task task, String delivery, RowSchema schema, long rowCount, long payloadBytes, long checksum,
        String dataTopic, int dataPartition, List<Long> chunkOffsets, Instant handedOffAt) {

    /** Validates and copies. */
    public Manifest {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(delivery, "delivery");
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(dataTopic, "dataTopic");
        Objects.requireNonNull(handedOffAt, "handedOffAt");
        chunkOffsets = List.copyOf(chunkOffsets);
        if (rowCount < 0 || payloadBytes < 0 || dataPartition < 0) {
            throw new IllegalArgumentException("manifest of task " + task.id() + " has a negative row count, size or"
                    + " partition: " + rowCount + ", " + payloadBytes + ", " + dataPartition);
        }
    }

    @Override
    public String toString() {
        return "Manifest[task " + task.id() + " (" + task.lane() + " " + task.source() + " " + task.scope() + ") delivery "
                + delivery + ", " + rowCount + " rows in " + chunkOffsets.size() + " chunks at " + dataTopic + "-"
                + dataPartition + (chunkOffsets.isEmpty() ? "" : "@" + chunkOffsets.get(0)) + "]";
    }
}
