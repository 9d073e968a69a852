package dev.relay.s3;

import dev.relay.api.SinkException;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The upload of one S3 object, fed by the Parquet writer through {@link #outputFile()}.
 *
 * <p>Invariants:
 * <ol>
 *   <li>memory: one part buffer of {@code partSize} bytes, whatever the object's size; a full buffer is uploaded as
 *       the next part before more bytes are taken;</li>
 *   <li>every part but the last is exactly {@code partSize} (≥ 5 MiB, S3's minimum) bytes;</li>
 *   <li>nothing becomes visible before {@link #complete()}: parts of a multipart upload are invisible until
 *       {@code CompleteMultipartUpload}, and an object that never filled a part is sent whole by {@code PutObject}
 *       in {@code complete()};</li>
 *   <li>after {@link #abort()} no S3 call of this upload starts, and an upload that a racing owner thread created
 *       is aborted by that thread as soon as it sees the flag; so an aborted upload leaves no object and, unless the
 *       process dies, no incomplete multipart upload.</li>
 * </ol>
 *
 * <p>Not threadsafe except {@link #abort()}: the session's owner thread writes, finishes and completes; any thread
 * may abort. The fields S3 calls depend on are guarded by {@code this}; the buffer is the owner's.
 */
final class ObjectUpload {

    private static final Logger LOG = LoggerFactory.getLogger(ObjectUpload.class);
    /** The media type of Parquet files. */
    static final String CONTENT_TYPE = "application/vnd.apache.parquet";
    /** S3's limit on the parts of one multipart upload. */
    static final int MAX_PARTS = 10_000;

    private final S3Client s3;
    private final String bucket;
    private final String key;
    private final String taskId;
    private final int partSize;
    private final Map<String, String> metadata;

    // owner thread
    private byte[] buffer;
    private int filled;
    private long position;
    private final List<CompletedPart> parts = new ArrayList<>();
    private boolean writingDone;

    // guarded by this
    private String uploadId;
    private boolean aborted;
    private boolean completed;

    ObjectUpload(S3Client s3, String bucket, String key, String taskId, int partSize, Map<String, String> metadata) {
        this.s3 = s3;
        this.bucket = bucket;
        this.key = key;
        this.taskId = taskId;
        this.partSize = partSize;
        this.metadata = Map.copyOf(metadata);
        this.buffer = new byte[partSize];
    }

    /** @return the object key */
    String key() {
        return key;
    }

    /** @return the bytes written so far (the object's size once finished) */
    long size() {
        return position;
    }

    /** @return the number of parts uploaded so far */
    int partsUploaded() {
        return parts.size();
    }

    /** @return an output file whose one stream writes into this upload */
    OutputFile outputFile() {
        return new OutputFile() {
            @Override
            public PositionOutputStream create(long blockSizeHint) {
                return stream();
            }

            @Override
            public PositionOutputStream createOrOverwrite(long blockSizeHint) {
                return stream();
            }

            @Override
            public boolean supportsBlockSize() {
                return false;
            }

            @Override
            public long defaultBlockSize() {
                return 0;
            }

            @Override
            public String getPath() {
                return "s3://" + bucket + "/" + key;
            }
        };
    }

    private PositionOutputStream stream() {
        return new PositionOutputStream() {
            @Override
            public long getPos() {
                return position;
            }

            @Override
            public void write(int b) {
                append(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                append(b, off, len);
            }

            @Override
            public void flush() {
                // parts are uploaded when full; a flush does not cut a short part
            }

            @Override
            public void close() {
                // the session finishes the upload explicitly: it knows whether this is the task's last file
            }
        };
    }

    private void append(byte[] b, int off, int len) {
        if (writingDone) {
            throw new IllegalStateException("object " + key + " of task " + taskId + " is finished; no more bytes");
        }
        while (len > 0) {
            int n = Math.min(len, partSize - filled);
            System.arraycopy(b, off, buffer, filled, n);
            filled += n;
            position += n;
            off += n;
            len -= n;
            if (filled == partSize) {
                uploadPart();
            }
        }
    }

    /**
     * Ends the object's bytes.
     *
     * @param keepSmall whether an object that never filled a part may wait, whole in memory, for a PutObject at
     *     {@link #complete()} (only the task's last file: other files upload their tail now, to free the buffer)
     */
    void finish(boolean keepSmall) {
        writingDone = true;
        if (uploadId() == null && keepSmall) {
            return;
        }
        if (filled > 0 || parts.isEmpty()) {
            uploadPart();
        }
        buffer = null;
    }

    /** Makes the object visible: completes its multipart upload, or puts it whole. */
    void complete() {
        if (!writingDone) {
            throw new IllegalStateException("object " + key + " of task " + taskId + " is not finished");
        }
        String id;
        synchronized (this) {
            checkNotAborted("complete");
            id = uploadId;
        }
        if (id == null) {
            int n = filled;
            byte[] bytes = buffer;
            try {
                s3.putObject(PutObjectRequest.builder().bucket(bucket).key(key).contentType(CONTENT_TYPE)
                        .contentLength((long) n).metadata(metadata).checksumAlgorithm(ChecksumAlgorithm.CRC32).build(),
                        RequestBody.fromContentProvider(() -> new ByteArrayInputStream(bytes, 0, n), n, CONTENT_TYPE));
            } catch (RuntimeException e) {
                throw S3Failures.translate("PutObject", target(), taskId, e);
            }
            buffer = null;
        } else {
            try {
                s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(bucket).key(key).uploadId(id)
                        .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()).build());
            } catch (RuntimeException e) {
                throw S3Failures.translate("CompleteMultipartUpload", target(), taskId, e);
            }
        }
        synchronized (this) {
            completed = true;
            uploadId = null;
        }
    }

    /**
     * Aborts the multipart upload, if one was started and not completed. Idempotent; never throws; any thread.
     *
     * @return whether an upload was aborted here
     */
    boolean abort() {
        String id;
        synchronized (this) {
            if (aborted || completed) {
                return false;
            }
            aborted = true;
            id = uploadId;
            uploadId = null;
        }
        if (id == null) {
            return false;
        }
        abortQuietly(id);
        return true;
    }

    private void abortQuietly(String id) {
        try {
            s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(key).uploadId(id).build());
        } catch (RuntimeException e) {
            // the upload stays incomplete and invisible; the bucket's lifecycle rule (README) removes it
            LOG.warn("could not abort the multipart upload of {} for task {}: {}", target(), taskId,
                    S3Failures.redact(S3Failures.rootMessage(e)));
        }
    }

    private synchronized String uploadId() {
        return uploadId;
    }

    private void uploadPart() {
        int number = parts.size() + 1;
        if (number > MAX_PARTS) {
            throw new SinkException("object " + target() + " of task " + taskId + " needs more than " + MAX_PARTS
                    + " parts, S3's limit; raise partSize(…) or split the task's files with maxRowsPerObject(…)", null, false);
        }
        String id = startIfNeeded();
        int n = filled;
        byte[] bytes = buffer;
        UploadPartResponse response;
        try {
            response = s3.uploadPart(UploadPartRequest.builder().bucket(bucket).key(key).uploadId(id).partNumber(number)
                            .contentLength((long) n).checksumAlgorithm(ChecksumAlgorithm.CRC32).build(),
                    RequestBody.fromContentProvider(() -> new ByteArrayInputStream(bytes, 0, n), n, CONTENT_TYPE));
        } catch (RuntimeException e) {
            throw S3Failures.translate("UploadPart #" + number, target(), taskId, e);
        }
        parts.add(CompletedPart.builder().partNumber(number).eTag(response.eTag()).checksumCRC32(response.checksumCRC32()).build());
        filled = 0;
        synchronized (this) {
            checkNotAborted("upload part " + (number + 1));
        }
    }

    private String startIfNeeded() {
        synchronized (this) {
            checkNotAborted("upload a part");
            if (uploadId != null) {
                return uploadId;
            }
        }
        String id;
        try {
            id = s3.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(bucket).key(key)
                    .contentType(CONTENT_TYPE).metadata(metadata).checksumAlgorithm(ChecksumAlgorithm.CRC32).build()).uploadId();
        } catch (RuntimeException e) {
            throw S3Failures.translate("CreateMultipartUpload", target(), taskId, e);
        }
        synchronized (this) {
            if (!aborted) {
                uploadId = id;
                return id;
            }
        }
        abortQuietly(id); // abort() ran while the upload was being created
        throw abortedException("upload a part");
    }

    private void checkNotAborted(String doing) {
        if (aborted) {
            throw abortedException(doing);
        }
    }

    private SinkException abortedException(String doing) {
        return new SinkException("the session of task " + taskId + " was aborted; cannot " + doing + " of " + target(), null, true);
    }

    private String target() {
        return "s3://" + bucket + "/" + key;
    }

    @Override
    public String toString() {
        return "ObjectUpload[" + target() + ", " + position + " bytes, " + parts.size() + " parts]";
    }
}
