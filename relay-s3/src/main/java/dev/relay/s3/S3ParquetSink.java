package dev.relay.s3;

import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A {@link Sink} that writes each task's rows as Parquet objects to an S3 bucket, under keys derived from the task,
 * for a pipe that loads from the bucket (Snowpipe with auto-ingest, an external table, Athena, …). Built for the
 * PeMS warehouse, whose pipe loads {@code RAW.DB96.VDS30SEC} from
 * {@code db96_export_staging_area/tables/VDS30SEC/district=D4/year=2024/month=3/day=14/…}:
 *
 * <pre>{@code
 * S3ParquetSink sink = S3ParquetSink.builder("caltrans-pems-prd-us-west-2-raw")
 *         .layout("db96_export_staging_area/tables/VDS30SEC/district={param:district}/year={year}/month={month}/day={day}/{id}.parquet")
 *         .snapshotLayout("db96_export_staging_area/tables/{SOURCE}/date={date}/{id}-{file}.parquet")
 *         .maxRowsPerObject(1_000_000)      // only layouts with {file} split a task into several objects
 *         .metaColumn("meta")               // the pipe reads $1:"meta" into META
 *         .build();                         // credentials and region: the SDK's default provider chains
 * }</pre>
 *
 * <p><b>Idempotent on the task id.</b> An object's key is a function of the task's id inputs (source, window or
 * snapshot day, parameters) and the file index only, so a retry or a crash-repeat overwrites the same keys, and the
 * same rows in the same order give byte-identical objects (give the source query an {@code ORDER BY} where that
 * matters to the pipe: Snowpipe skips a file it loaded unless its content changed).
 *
 * <p><b>Nothing visible before commit.</b> Rows stream into row groups of {@code rowGroupSize} bytes; the file's bytes
 * go out as the parts of a multipart upload ({@code partSize} bytes, at least S3's 5 MiB, except the last), so
 * memory stays at one row group plus one part whatever the size of the task. The uploads are completed only in
 * {@link SinkSession#commit()}, after every file of the task is written; {@link SinkSession#abort()} aborts them. A
 * task smaller than one part is sent by a single {@code PutObject} at commit. Killing the process leaves an
 * incomplete multipart upload (invisible; remove it with the bucket's {@code AbortIncompleteMultipartUpload}
 * lifecycle rule, or let the retry remove it with {@link Builder#abortStaleUploads(Duration)}).
 *
 * <p><b>Failures.</b> A missing bucket, rejected credentials, a missing permission, a layout a task cannot fill, a
 * column type without a Parquet mapping and a value that would lose precision are non-retryable
 * {@link SinkException}s naming the problem; network failures, throttling and S3's 5xx are retryable (after the
 * SDK's own retries). No message or cause carries a credential.
 *
 * <p>The column mapping (JDBC type to Parquet logical type) is in the package documentation; the layout's
 * placeholders are at {@link Builder#layout(String)}.
 *
 * <p>Threadsafe: sessions of different tasks run at once and share the S3 client. {@link #close()} closes the
 * client only if the sink built it.
 */
public final class S3ParquetSink implements Sink, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(S3ParquetSink.class);

    /** S3's smallest part (every part of a multipart upload but the last). */
    public static final int MIN_PART_SIZE = 5 * 1024 * 1024;
    /** The largest part this sink buffers. */
    public static final int MAX_PART_SIZE = 1024 * 1024 * 1024;

    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    private final S3Client client;
    private final boolean ownsClient;
    private final String bucket;
    private final KeyLayout layout;
    private final KeyLayout snapshotLayout;
    private final Compression compression;
    private final TimestampUnit timestampUnit;
    private final ColumnMapping.Decimal defaultDecimal;
    private final Map<String, ColumnMapping.Decimal> decimals;
    private final String metaColumn;
    private final long rowGroupSize;
    private final int pageSize;
    private final int dictionaryPageSize;
    private final int partSize;
    private final long maxRowsPerObject;
    private final boolean verifyBucket;
    private final Duration staleUploadAge;
    private final Clock clock;

    /** Set once HeadBucket succeeded; a race only repeats the check. */
    private volatile boolean bucketVerified;

    private S3ParquetSink(Builder b, S3Client client, boolean ownsClient, KeyLayout layout, KeyLayout snapshotLayout) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.bucket = b.bucket;
        this.layout = layout;
        this.snapshotLayout = snapshotLayout;
        this.compression = b.compression;
        this.timestampUnit = b.timestampUnit;
        this.defaultDecimal = b.defaultDecimal;
        this.decimals = Map.copyOf(b.decimals);
        this.metaColumn = b.metaColumn;
        this.rowGroupSize = b.rowGroupSize;
        this.pageSize = b.pageSize;
        this.dictionaryPageSize = b.dictionaryPageSize;
        this.partSize = b.partSize;
        this.maxRowsPerObject = b.maxRowsPerObject == 0 ? Long.MAX_VALUE : b.maxRowsPerObject;
        this.verifyBucket = b.verifyBucket;
        this.staleUploadAge = b.staleUploadAge;
        this.clock = b.clock;
    }

    /**
     * @param bucket the bucket's name (the S3 client's region must be the bucket's)
     * @return a builder
     */
    public static Builder builder(String bucket) {
        return new Builder(bucket);
    }

    /**
     * Opens the write of one task. Checks the bucket once per sink (if {@link Builder#verifyBucket(boolean)}), maps
     * the schema and names the task's first object, so that a task this sink cannot write fails here, before its
     * rows are read.
     *
     * @throws SinkException non-retryable for a missing bucket, rejected credentials, a layout the task cannot fill
     *     or a column type without a mapping; retryable for network failures
     */
    @Override
    public SinkSession open(Task task, RowSchema schema) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(schema, "schema");
        KeyLayout l = layoutOf(task);
        String firstKey;
        try {
            firstKey = l.render(task, 0);
        } catch (IllegalArgumentException e) {
            throw new SinkException(e.getMessage(), null, false);
        }
        ColumnMapping mapping;
        try {
            mapping = ColumnMapping.of(schema, timestampUnit, defaultDecimal, decimals, metaColumn,
                    metaColumn == null ? null : Json.taskMeta(task));
        } catch (IllegalArgumentException e) {
            throw new SinkException("task " + task.id() + " cannot be written as Parquet: " + e.getMessage(), null, false);
        }
        if (verifyBucket && !bucketVerified) {
            verifyBucket(task);
        }
        if (staleUploadAge != null) {
            abortStaleUploads(task, l, firstKey);
        }
        return new S3ParquetSession(this, task, schema, l, new RowWriteSupport(mapping, fileMetadata(task)));
    }

    private KeyLayout layoutOf(Task task) {
        if (task.window().isPresent()) {
            return layout;
        }
        if (snapshotLayout == null) {
            throw new SinkException("snapshot task " + task.id() + " (" + task.source() + " " + task.scope()
                    + ") reached an S3 sink without a snapshot layout; set snapshotLayout(…) on the sink", null, false);
        }
        return snapshotLayout;
    }

    /**
     * The key of one of a task's objects (for checks and for tools; the session names its objects the same way).
     *
     * @param task a task
     * @param file the file index from 0 (always 0 for a layout without {@code {file}})
     * @return the object key
     * @throws IllegalArgumentException if the task cannot fill the layout (a missing or unsafe parameter)
     * @throws SinkException for a snapshot task when the sink has no snapshot layout
     */
    public String objectKey(Task task, int file) {
        return layoutOf(task).render(task, file);
    }

    /** @return the bucket */
    public String bucket() {
        return bucket;
    }

    private void verifyBucket(Task task) {
        try {
            client.headBucket(HeadBucketRequest.builder().bucket(bucket).build());
            bucketVerified = true;
        } catch (NoSuchBucketException e) {
            throw new SinkException("S3 bucket '" + bucket + "' does not exist (HeadBucket: 404), so task " + task.id()
                    + " cannot be written; create it or fix the sink's bucket; not retryable", S3Failures.sanitize(e), false);
        } catch (AwsServiceException e) {
            if (e.statusCode() == 404) {
                throw new SinkException("S3 bucket '" + bucket + "' does not exist (HeadBucket: 404), so task " + task.id()
                        + " cannot be written; create it or fix the sink's bucket; not retryable", S3Failures.sanitize(e), false);
            }
            if (e.statusCode() == 403) {
                throw new SinkException("S3 refused HeadBucket on '" + bucket + "' (403) for task " + task.id()
                        + ": the credentials the SDK's provider chain supplied are invalid, or lack s3:ListBucket (then "
                        + "build the sink with verifyBucket(false)); not retryable", S3Failures.sanitize(e), false);
            }
            throw S3Failures.translate("HeadBucket", "s3://" + bucket, task.id(), e);
        } catch (SdkException e) {
            throw S3Failures.translate("HeadBucket", "s3://" + bucket, task.id(), e);
        }
    }

    private void abortStaleUploads(Task task, KeyLayout l, String firstKey) {
        String prefix = l.hasFile() ? l.prefixBeforeFile(task) : firstKey;
        Instant before = clock.instant().minus(staleUploadAge);
        try {
            String keyMarker = null;
            String uploadMarker = null;
            do {
                ListMultipartUploadsResponse r = client.listMultipartUploads(ListMultipartUploadsRequest.builder()
                        .bucket(bucket).prefix(prefix).keyMarker(keyMarker).uploadIdMarker(uploadMarker).build());
                for (MultipartUpload u : r.uploads()) {
                    boolean ours = l.hasFile() ? isFileOf(u.key(), prefix, l.render(task, 0).substring(prefix.length()
                            + KeyLayout.FILE_DIGITS)) : u.key().equals(firstKey);
                    if (ours && u.initiated() != null && !u.initiated().isAfter(before)) {
                        client.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(u.key())
                                .uploadId(u.uploadId()).build());
                        LOG.info("task {}: aborted a stale multipart upload of s3://{}/{} started {}", task.id(), bucket,
                                u.key(), u.initiated());
                    }
                }
                boolean more = Boolean.TRUE.equals(r.isTruncated());
                keyMarker = more ? r.nextKeyMarker() : null;
                uploadMarker = more ? r.nextUploadIdMarker() : null;
            } while (keyMarker != null);
        } catch (SdkException e) {
            // housekeeping only: the task can still be written
            LOG.warn("task {}: could not list or abort stale multipart uploads under s3://{}/{}: {}", task.id(), bucket,
                    prefix, S3Failures.redact(S3Failures.rootMessage(e)));
        }
    }

    private static boolean isFileOf(String key, String prefix, String suffix) {
        if (key.length() != prefix.length() + KeyLayout.FILE_DIGITS + suffix.length() || !key.startsWith(prefix)
                || !key.endsWith(suffix)) {
            return false;
        }
        return key.substring(prefix.length(), prefix.length() + KeyLayout.FILE_DIGITS).chars().allMatch(Character::isDigit);
    }

    /** The Parquet footer's key-value metadata: what the file holds, without anything of the attempt. */
    private static Map<String, String> fileMetadata(Task task) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("relay.task.id", task.id());
        m.put("relay.task.source", task.source());
        m.put("relay.task.scope", task.scope().canonical());
        m.put("relay.task.parameters", Json.object(task.parameters()));
        return m;
    }

    /**
     * @param task a task
     * @return the S3 user metadata of its objects
     */
    Map<String, String> objectMetadata(Task task) {
        return Map.of("relay-task-id", task.id());
    }

    S3Client client() {
        return client;
    }

    Compression compression() {
        return compression;
    }

    long rowGroupSize() {
        return rowGroupSize;
    }

    int pageSize() {
        return pageSize;
    }

    int dictionaryPageSize() {
        return dictionaryPageSize;
    }

    int partSize() {
        return partSize;
    }

    long maxRowsPerObject() {
        return maxRowsPerObject;
    }

    /** Closes the S3 client if this sink built it; a client passed to the builder stays open. */
    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "S3ParquetSink[s3://" + bucket + "/" + layout + (snapshotLayout == null ? "" : ", snapshots " + snapshotLayout)
                + ", " + compression + "]";
    }

    /**
     * Builds an {@link S3ParquetSink}. Not threadsafe; {@link #build()} copies the settings, so a builder may be
     * reused. Every setter checks its value at once; {@link #build()} checks them together.
     */
    public static final class Builder {
        private final String bucket;
        private S3Client client;
        private String layout;
        private String snapshotLayout;
        private Compression compression = Compression.SNAPPY;
        private TimestampUnit timestampUnit = TimestampUnit.MICROS;
        private ColumnMapping.Decimal defaultDecimal = new ColumnMapping.Decimal(ColumnMapping.DEFAULT_PRECISION, ColumnMapping.DEFAULT_SCALE);
        private final Map<String, ColumnMapping.Decimal> decimals = new LinkedHashMap<>();
        private String metaColumn;
        private long rowGroupSize = 16L * 1024 * 1024;
        private int pageSize = 1024 * 1024;
        private int dictionaryPageSize = 32 * 1024;
        private int partSize = 8 * 1024 * 1024;
        private long maxRowsPerObject;
        private boolean verifyBucket = true;
        private Duration staleUploadAge;
        private Clock clock = Clock.systemUTC();

        private Builder(String bucket) {
            Objects.requireNonNull(bucket, "bucket");
            if (!BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
                throw new IllegalArgumentException("'" + bucket + "' is not an S3 bucket name (3 to 63 lower-case letters, "
                        + "digits, '.' and '-', starting and ending with a letter or digit)");
            }
            this.bucket = bucket;
        }

        /**
         * @param client the S3 client to use; the caller keeps it and closes it. Without one, {@link #build()} builds
         *     a client with the SDK's default region and credential provider chains (environment variables, Java
         *     system properties, {@code ~/.aws} profiles, web identity, container and instance credentials), which
         *     the sink closes in {@link S3ParquetSink#close()}
         * @return this builder
         */
        public Builder client(S3Client client) {
            this.client = Objects.requireNonNull(client, "client");
            return this;
        }

        /**
         * The key template of window tasks' objects. Placeholders: {@code {id}} (the task id; required),
         * {@code {source}} and {@code {SOURCE}} (the source name as is and in upper case), {@code {year}},
         * {@code {month}}, {@code {day}} (of the window's start, unpadded: {@code month=3}), {@code {date}}
         * ({@code 2024-03-14}), {@code {hour}}, {@code {minute}}, {@code {start}} and {@code {end}}
         * ({@code 20240314T100000}), {@code {file}} (the file index, {@code 00000}; see {@link #maxRowsPerObject})
         * and {@code {param:NAME}} (a task parameter, such as {@code {param:district}}). Literal text may hold letters,
         * digits, {@code / ! - _ . * ' ( ) =}.
         *
         * @param template for example
         *     {@code tables/VDS30SEC/district={param:district}/year={year}/month={month}/day={day}/{id}.parquet}
         * @return this builder
         * @throws IllegalArgumentException naming what is wrong with the template
         */
        public Builder layout(String template) {
            KeyLayout.parse(template, false);
            this.layout = template;
            return this;
        }

        /**
         * The key template of snapshot tasks' objects (one object set per task, that is per table and day): the
         * placeholders of {@link #layout(String)} except the time-of-day ones; {@code {year}}, {@code {month}},
         * {@code {day}} and {@code {date}} are the snapshot's day. Without it, a snapshot task fails (non-retryable).
         *
         * @param template for example {@code tables/{SOURCE}/date={date}/{id}-{file}.parquet}
         * @return this builder
         * @throws IllegalArgumentException naming what is wrong with the template
         */
        public Builder snapshotLayout(String template) {
            KeyLayout.parse(template, true);
            this.snapshotLayout = template;
            return this;
        }

        /**
         * @param compression the page compression; default {@link Compression#SNAPPY}
         * @return this builder
         */
        public Builder compression(Compression compression) {
            this.compression = Objects.requireNonNull(compression, "compression");
            return this;
        }

        /**
         * @param unit the unit of TIMESTAMP and TIME columns; default {@link TimestampUnit#MICROS}
         * @return this builder
         */
        public Builder timestampUnit(TimestampUnit unit) {
            this.timestampUnit = Objects.requireNonNull(unit, "timestamp unit");
            return this;
        }

        /**
         * The precision and scale of NUMERIC and DECIMAL columns (the row schema carries the JDBC type only). A value
         * with more fractional digits than the scale, or more integer digits than precision − scale, fails the task
         * (non-retryable, naming the value): nothing is rounded.
         *
         * @param precision 1..38; default 38
         * @param scale 0..precision; default 9
         * @return this builder
         */
        public Builder decimal(int precision, int scale) {
            this.defaultDecimal = new ColumnMapping.Decimal(precision, scale);
            return this;
        }

        /**
         * @param column a NUMERIC or DECIMAL column's name (any case)
         * @param precision 1..38
         * @param scale 0..precision
         * @return this builder
         */
        public Builder decimal(String column, int precision, int scale) {
            Objects.requireNonNull(column, "column");
            if (column.isBlank()) {
                throw new IllegalArgumentException("decimal column name must not be blank");
            }
            decimals.put(column.toUpperCase(Locale.ROOT), new ColumnMapping.Decimal(precision, scale));
            return this;
        }

        /**
         * Adds a string column after the row's columns holding, on every row, a JSON object that names the task
         * ({@code relay_task_id}, {@code source}, {@code scope}, {@code parameters}): PeMS's pipe loads
         * {@code $1:"meta"} into {@code META}. Nothing of the attempt goes in, so a retry's bytes are the same.
         *
         * @param name the column's name, e.g. {@code meta}; it must not be one of the rows' columns
         * @return this builder
         */
        public Builder metaColumn(String name) {
            Objects.requireNonNull(name, "meta column");
            if (name.isBlank()) {
                throw new IllegalArgumentException("meta column name must not be blank");
            }
            this.metaColumn = name;
            return this;
        }

        /**
         * @param bytes the buffered size at which a row group is written out; with {@link #partSize(int)} it bounds
         *     the memory of one session; 1 MiB..1 GiB, default 16 MiB
         * @return this builder
         */
        public Builder rowGroupSize(long bytes) {
            if (bytes < 1024 * 1024 || bytes > 1024L * 1024 * 1024) {
                throw new IllegalArgumentException("row group size must be within 1 MiB..1 GiB but was " + bytes + " bytes");
            }
            this.rowGroupSize = bytes;
            return this;
        }

        /**
         * @param bytes the Parquet page size; 8 KiB..64 MiB, default 1 MiB
         * @return this builder
         */
        public Builder pageSize(int bytes) {
            if (bytes < 8 * 1024 || bytes > 64 * 1024 * 1024) {
                throw new IllegalArgumentException("page size must be within 8 KiB..64 MiB but was " + bytes + " bytes");
            }
            this.pageSize = bytes;
            return this;
        }

        /**
         * The size at which a column's dictionary gives up and the column falls back to plain encoding, for the rest
         * of the row group. Low-cardinality columns (PeMS's volumes, speeds, station ids) stay well below it; a
         * high-cardinality column falls back early, which is both smaller and what bounds the memory: a dictionary's
         * hash table takes several times its encoded size, once per column.
         *
         * @param bytes 1 KiB..16 MiB, default 32 KiB
         * @return this builder
         */
        public Builder dictionaryPageSize(int bytes) {
            if (bytes < 1024 || bytes > 16 * 1024 * 1024) {
                throw new IllegalArgumentException("dictionary page size must be within 1 KiB..16 MiB but was " + bytes + " bytes");
            }
            this.dictionaryPageSize = bytes;
            return this;
        }

        /**
         * @param bytes the size of every multipart-upload part but the last; {@value S3ParquetSink#MIN_PART_SIZE} (S3's minimum)
         *     to {@value S3ParquetSink#MAX_PART_SIZE}, default 8 MiB. An object may have at most 10,000 parts
         * @return this builder
         */
        public Builder partSize(int bytes) {
            if (bytes < MIN_PART_SIZE || bytes > MAX_PART_SIZE) {
                throw new IllegalArgumentException("part size must be within " + MIN_PART_SIZE + ".." + MAX_PART_SIZE
                        + " bytes (S3's smallest part is 5 MiB) but was " + bytes);
            }
            this.partSize = bytes;
            return this;
        }

        /**
         * Splits a task into objects of at most this many rows, for layouts with {@code {file}} (numbered from
         * {@code 00000}); a layout without {@code {file}} writes one object per task. All the files are completed at
         * commit, after the last is written; a commit deletes files of an earlier attempt beyond its own last file.
         *
         * @param rows at least 1
         * @return this builder
         */
        public Builder maxRowsPerObject(long rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("max rows per object must be at least 1 but was " + rows);
            }
            this.maxRowsPerObject = rows;
            return this;
        }

        /**
         * @param verify whether the first session checks the bucket with {@code HeadBucket} (needs
         *     {@code s3:ListBucket}), so that a missing bucket or rejected credentials fail the first task before its
         *     rows are read; default true
         * @return this builder
         */
        public Builder verifyBucket(boolean verify) {
            this.verifyBucket = verify;
            return this;
        }

        /**
         * At each session's open, aborts the task's own incomplete multipart uploads started at least {@code age}
         * ago (left by a killed process; needs {@code s3:ListBucketMultipartUploads}). Keep {@code age} above the
         * longest task, or a second process still writing the same task loses its upload (its commit then fails and
         * is retried). Off by default: the bucket's {@code AbortIncompleteMultipartUpload} lifecycle rule does the
         * same for every key.
         *
         * @param age at least zero
         * @return this builder
         */
        public Builder abortStaleUploads(Duration age) {
            Objects.requireNonNull(age, "stale upload age");
            if (age.isNegative()) {
                throw new IllegalArgumentException("stale upload age must not be negative but was " + age);
            }
            this.staleUploadAge = age;
            return this;
        }

        /**
         * @param clock the clock {@link #abortStaleUploads(Duration)} measures ages with; default the system UTC clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @return the sink
         * @throws IllegalStateException if no layout was set, {@code maxRowsPerObject} was set without a layout
         *     holding {@code {file}}, or no client was given and the SDK's default chains find no region
         */
        public S3ParquetSink build() {
            if (layout == null) {
                throw new IllegalStateException("S3 sink for bucket '" + bucket + "' needs a layout(…) of its object keys");
            }
            KeyLayout windows = KeyLayout.parse(layout, false);
            KeyLayout snapshots = snapshotLayout == null ? null : KeyLayout.parse(snapshotLayout, true);
            if (maxRowsPerObject > 0 && !windows.hasFile() && (snapshots == null || !snapshots.hasFile())) {
                throw new IllegalStateException("maxRowsPerObject(" + maxRowsPerObject + ") splits only layouts holding {file}, "
                        + "and neither '" + layout + "'" + (snapshots == null ? "" : " nor '" + snapshotLayout + "'") + " does");
            }
            S3Client c = client;
            boolean owns = false;
            if (c == null) {
                try {
                    c = S3Client.create();
                    owns = true;
                } catch (SdkException e) {
                    throw new IllegalStateException("S3 sink for bucket '" + bucket + "': the SDK could not build a default "
                            + "S3 client (" + S3Failures.redact(S3Failures.rootMessage(e)) + "); set AWS_REGION or "
                            + "-Daws.region, or pass client(…)", S3Failures.sanitize(e));
                }
            }
            return new S3ParquetSink(this, c, owns, windows, snapshots);
        }
    }
}
