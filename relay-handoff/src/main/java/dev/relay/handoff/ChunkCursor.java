package dev.relay.handoff;

import dev.relay.api.PullException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.zip.CRC32C;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Streams one committed hand-off's rows from its data partition: a positioned consumer reads exactly the offsets the
 * manifest lists, in sequence, and decodes each chunk a few hundred rows at a time. Memory is the consumer's fetch
 * buffer (bounded by configuration) plus one chunk and one batch of decoded rows, whatever the task's size.
 *
 * <p>It reads {@code read_uncommitted}: every offset it accepts is listed by a manifest the intake read
 * {@code read_committed}, so it was committed, and each chunk's task id, delivery and sequence are checked; records of
 * other transactions in between (open, aborted or committed) are skipped without waiting for them to end, so a long
 * hand-off of another task in the same partition does not hold this one up. At the end the row count, bytes and
 * CRC-32C must match the manifest, or the cursor fails with a non-retryable {@link PullException} and the engine
 * dead-letters the task before its sink commits.
 *
 * <p>Not threadsafe, except {@link #cancel()}.
 */
final class ChunkCursor implements RowCursor {

    private final HandoffLease lease;
    private final Manifest manifest;
    private final HandoffSource.Readers readers;
    private final HandoffSource.Config config;
    private final TopicPartition tp;
    private final CRC32C crc = new CRC32C();
    private Consumer<byte[], byte[]> consumer;
    private Iterator<ConsumerRecord<byte[], byte[]>> buffered = Collections.emptyIterator();
    private ChunkReader current;
    private int sequence;
    private long rows;
    private long bytes;
    private boolean finished;
    private volatile boolean cancelled;

    ChunkCursor(HandoffLease lease, HandoffSource.Readers readers, HandoffSource.Config config) {
        this.lease = lease;
        this.manifest = lease.manifest;
        this.readers = readers;
        this.config = config;
        this.tp = new TopicPartition(manifest.dataTopic(), manifest.dataPartition());
    }

    @Override
    public RowSchema schema() {
        return manifest.schema();
    }

    @Override
    public List<Row> next() {
        if (finished) {
            return List.of();
        }
        try {
            while (true) {
                checkCancelled();
                if (current != null) {
                    List<Row> out = new ArrayList<>(Math.min(config.rowsPerBatch(), 1024));
                    if (current.read(out, config.rowsPerBatch())) {
                        rows += out.size();
                        return Collections.unmodifiableList(out);
                    }
                    current = null;
                }
                if (sequence == manifest.chunkOffsets().size()) {
                    verifyTotals();
                    finished = true;
                    lease.read = true;
                    release();
                    return List.of();
                }
                long offset = manifest.chunkOffsets().get(sequence);
                byte[] value = fetch(offset);
                crc.update(value, 0, value.length);
                bytes += value.length;
                current = new ChunkReader(HandoffFormat.STANDARD, value, manifest.task().id(), manifest.delivery(), sequence,
                        manifest.schema(), tp + "@" + offset);
                sequence++;
            }
        } catch (MalformedRecordException e) {
            throw new PullException("malformed hand-off of task " + manifest.task().id() + " (delivery "
                    + manifest.delivery() + "): " + e.getMessage(), e, false);
        }
    }

    private void verifyTotals() {
        if (rows != manifest.rowCount() || bytes != manifest.payloadBytes() || crc.getValue() != manifest.checksum()) {
            throw new MalformedRecordException("the manifest disagrees with its chunks: it says " + manifest.rowCount()
                    + " rows, " + manifest.payloadBytes() + " bytes, CRC-32C " + Long.toHexString(manifest.checksum())
                    + "; the " + manifest.chunkOffsets().size() + " chunks hold " + rows + " rows, " + bytes + " bytes, CRC-32C "
                    + Long.toHexString(crc.getValue()));
        }
    }

    private byte[] fetch(long offset) {
        if (consumer == null) {
            consumer = readers.take();
            consumer.assign(List.of(tp));
            consumer.seek(tp, offset);
        }
        long deadline = System.nanoTime() + config.readTimeout().toNanos();
        boolean sought = false;
        while (true) {
            while (buffered.hasNext()) {
                ConsumerRecord<byte[], byte[]> r = buffered.next();
                if (r.offset() == offset) {
                    return r.value();
                }
                if (r.offset() > offset) {
                    throw new MalformedRecordException("offset " + offset + " of " + tp + " that the manifest lists holds no"
                            + " record (the next is " + r.offset() + ")");
                }
            }
            if (!sought) {
                long position = consumer.position(tp, config.readTimeout());
                if (position != offset) {
                    consumer.seek(tp, offset); // skip other tasks' records between our chunks
                }
                sought = true;
            }
            checkCancelled();
            if (System.nanoTime() - deadline > 0) {
                throw new PullException("reading chunk " + sequence + " of task " + manifest.task().id() + " at " + tp + "@"
                        + offset + " timed out after " + config.readTimeout() + " (is the broker up?)", null);
            }
            ConsumerRecords<byte[], byte[]> records;
            try {
                records = consumer.poll(Duration.ofMillis(200));
            } catch (OffsetOutOfRangeException e) {
                throw new PullException("the chunks of task " + manifest.task().id() + " at " + tp + "@" + offset
                        + " are gone from the data topic (retention shorter than the uploader's outage?)", e, false);
            } catch (WakeupException e) {
                throw new PullException("reading task " + manifest.task().id() + " was cancelled", e);
            } catch (KafkaException e) {
                throw new PullException("reading chunk " + sequence + " of task " + manifest.task().id() + " at " + tp + "@"
                        + offset + " failed: " + e.getMessage(), e);
            }
            buffered = records.records(tp).iterator();
        }
    }

    private void checkCancelled() {
        if (cancelled) {
            throw new PullException("reading task " + manifest.task().id() + " was cancelled", null);
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        Consumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    private void release() {
        Consumer<byte[], byte[]> c = consumer;
        consumer = null;
        buffered = Collections.emptyIterator();
        if (c != null) {
            readers.give(c, !cancelled);
        }
    }

    @Override
    public void close() {
        release();
    }

    @Override
    public String toString() {
        return "ChunkCursor[" + manifest + "]";
    }
}
