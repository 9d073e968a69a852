package dev.relay.s3;

import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import org.apache.parquet.hadoop.ParquetWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One task's write: rows stream into Parquet row groups, the file's bytes into an {@link ObjectUpload}.
 *
 * <p>Invariants:
 * <ol>
 *   <li>memory is bounded by one row group ({@code rowGroupSize}), one part buffer ({@code partSize}) and the
 *       columns' dictionaries (each falls back to plain encoding past {@code dictionaryPageSize}), whatever the
 *       task's size: a file's finished part is uploaded before more rows are taken, a rolled file's buffer is
 *       released once its tail is uploaded, and all columns share one compressor;</li>
 *   <li>no object of the task is visible before {@link #commit()} has written every file of the task: commit first
 *       closes the last file, then completes the uploads in file order;</li>
 *   <li>the objects' names and bytes depend on the task's id inputs and rows only: the same rows in the same order
 *       make byte-identical objects under the same keys (nothing of the attempt, the lane, the host or the clock is
 *       written);</li>
 *   <li>after a commit of a layout with {@code {file}}, the task's prefix holds exactly this attempt's files: files
 *       of an earlier attempt with a higher index are deleted;</li>
 *   <li>after {@link #abort()} (or a failed write or commit, which the engine follows with an abort) no multipart
 *       upload of the session stays open, except when the process dies: then S3 keeps the incomplete upload,
 *       invisible, until the bucket's lifecycle rule or {@code abortStaleUploads(…)} removes it.</li>
 * </ol>
 *
 * <p>Not threadsafe, as {@link SinkSession} allows: one owner thread writes and commits; {@link #abort()} may come
 * from any thread. State transitions are guarded by {@code this}.
 */
final class S3ParquetSession implements SinkSession {

    private static final Logger LOG = LoggerFactory.getLogger(S3ParquetSession.class);

    private enum State { OPEN, FAILED, COMMITTED, ABORTED }

    private final S3ParquetSink sink;
    private final Task task;
    private final RowSchema schema;
    private final KeyLayout layout;
    private final RowWriteSupport support;

    private final List<ObjectUpload> uploads = new CopyOnWriteArrayList<>();

    // owner thread
    private ParquetWriter<Row> writer;
    private ObjectUpload current;
    private long rowsInFile;
    private long rows;

    // guarded by this
    private State state = State.OPEN;

    S3ParquetSession(S3ParquetSink sink, Task task, RowSchema schema, KeyLayout layout, RowWriteSupport support) {
        this.sink = sink;
        this.task = task;
        this.schema = schema;
        this.layout = layout;
        this.support = support;
    }

    @Override
    public void write(List<Row> chunk) {
        requireOpen("write");
        try {
            for (Row row : chunk) {
                if (row.schema() != schema && !row.schema().equals(schema)) {
                    throw new SinkException("task " + task.id() + " wrote row " + (rows + 1) + " of schema " + row.schema()
                            + " into a session opened for " + schema, null, false);
                }
                if (current == null) {
                    startFile();
                }
                try {
                    writer.write(row);
                } catch (RowWriteSupport.ColumnFailure e) {
                    String column = schema.column(e.column()).name();
                    throw new SinkException("task " + task.id() + ", row " + (rows + 1) + ", column '" + column + "' ("
                            + schema.column(e.column()).type() + "): " + e.getMessage(), null, false);
                }
                rows++;
                rowsInFile++;
                if (layout.hasFile() && rowsInFile >= sink.maxRowsPerObject()) {
                    endFile(false);
                }
            }
        } catch (IOException e) {
            throw failed(new SinkException("writing the Parquet file of task " + task.id() + " failed: " + e, e));
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    @Override
    public void commit() {
        requireOpen("commit");
        try {
            if (uploads.isEmpty()) {
                startFile(); // an empty task still writes its (empty) object: the window was relayed, and is empty
            }
            if (current != null) {
                endFile(true);
            }
            for (ObjectUpload u : uploads) {
                u.complete();
            }
            synchronized (this) {
                if (state != State.OPEN) {
                    throw new SinkException("the session of task " + task.id() + " was aborted during its commit", null, true);
                }
                state = State.COMMITTED;
            }
            if (layout.hasFile()) {
                deleteStaleFiles();
            }
        } catch (IOException e) {
            throw failed(new SinkException("closing the Parquet file of task " + task.id() + " failed: " + e, e));
        } catch (RuntimeException e) {
            throw failed(e);
        }
        if (LOG.isDebugEnabled()) {
            long bytes = uploads.stream().mapToLong(ObjectUpload::size).sum();
            LOG.debug("task {}: {} rows in {} object(s), {} bytes, first s3://{}/{}", task.id(), rows, uploads.size(), bytes,
                    sink.bucket(), uploads.get(0).key());
        }
    }

    @Override
    public void abort() {
        synchronized (this) {
            if (state == State.COMMITTED || state == State.ABORTED) {
                return;
            }
            state = State.ABORTED;
        }
        for (ObjectUpload u : uploads) {
            try {
                u.abort();
            } catch (RuntimeException e) {
                LOG.warn("aborting {} of task {} failed: {}", u.key(), task.id(), S3Failures.redact(e.toString()));
            }
        }
    }

    @Override
    public void close() {
        abort();
    }

    /** @return the number of rows written so far */
    long rows() {
        return rows;
    }

    /** @return the uploads of this session so far, in file order */
    List<ObjectUpload> uploads() {
        return List.copyOf(uploads);
    }

    private synchronized void requireOpen(String doing) {
        if (state != State.OPEN) {
            throw new IllegalStateException("cannot " + doing + " the session of task " + task.id() + ": it is "
                    + state.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    private RuntimeException failed(RuntimeException e) {
        synchronized (this) {
            if (state == State.OPEN) {
                state = State.FAILED;
            }
        }
        return e;
    }

    private void startFile() throws IOException {
        int file = uploads.size();
        String key;
        try {
            key = layout.render(task, file);
        } catch (IllegalArgumentException e) {
            throw new SinkException(e.getMessage(), null, false);
        }
        ObjectUpload upload = new ObjectUpload(sink.client(), sink.bucket(), key, task.id(), sink.partSize(), sink.objectMetadata(task));
        synchronized (this) {
            if (state != State.OPEN) {
                throw new SinkException("the session of task " + task.id() + " was aborted", null, true);
            }
            uploads.add(upload);
        }
        current = upload;
        rowsInFile = 0;
        writer = support.open(upload.outputFile(), sink.compression(), sink.rowGroupSize(), sink.pageSize(),
                sink.dictionaryPageSize());
    }

    private void endFile(boolean last) throws IOException {
        writer.close(); // the last row group and the footer go into the upload
        writer = null;
        current.finish(last);
        current = null;
    }

    /** Deletes the files of an earlier attempt of this task whose index is beyond this attempt's last file. */
    private void deleteStaleFiles() {
        String prefix = layout.prefixBeforeFile(task);
        String first = layout.render(task, 0);
        String suffix = first.substring(prefix.length() + KeyLayout.FILE_DIGITS);
        int files = uploads.size();
        List<String> stale = new ArrayList<>();
        String token = null;
        try {
            do {
                var response = sink.client().listObjectsV2(ListObjectsV2Request.builder().bucket(sink.bucket())
                        .prefix(prefix).continuationToken(token).build());
                for (S3Object o : response.contents()) {
                    String k = o.key();
                    if (k.length() == prefix.length() + KeyLayout.FILE_DIGITS + suffix.length() && k.endsWith(suffix)) {
                        String digits = k.substring(prefix.length(), prefix.length() + KeyLayout.FILE_DIGITS);
                        if (digits.chars().allMatch(Character::isDigit) && Integer.parseInt(digits) >= files) {
                            stale.add(k);
                        }
                    }
                }
                token = Boolean.TRUE.equals(response.isTruncated()) ? response.nextContinuationToken() : null;
            } while (token != null);
        } catch (RuntimeException e) {
            throw S3Failures.translate("ListObjectsV2", "s3://" + sink.bucket() + "/" + prefix, task.id(), e);
        }
        for (String k : stale) {
            try {
                sink.client().deleteObject(DeleteObjectRequest.builder().bucket(sink.bucket()).key(k).build());
            } catch (RuntimeException e) {
                throw S3Failures.translate("DeleteObject", "s3://" + sink.bucket() + "/" + k, task.id(), e);
            }
            LOG.info("task {}: deleted s3://{}/{}, a file of an earlier attempt beyond this attempt's {} file(s)",
                    task.id(), sink.bucket(), k, files);
        }
    }

    @Override
    public String toString() {
        return "S3ParquetSession[" + task.id() + ", " + rows + " rows, " + uploads.size() + " file(s)]";
    }
}
