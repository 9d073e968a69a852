package dev.relay.s3;

import dev.relay.api.Column;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListPartsRequest;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.Part;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sink against a real S3 API (S3Mock): keys, visibility, multipart parts, determinism, failures. */
class S3ParquetSinkTest {

    static final String PEMS_LAYOUT =
            "tables/VDS30SEC/district={param:district}/year={year}/month={month}/day={day}/{id}.parquet";
    static final String SNAPSHOT_LAYOUT = "tables/{SOURCE}/date={date}/{id}-{file}.parquet";

    static final RowSchema VDS = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP),
            new Column("RECV_TIME", JDBCType.TIMESTAMP), new Column("VDS_ID", JDBCType.INTEGER),
            new Column("LOOP1_VOL", JDBCType.NUMERIC), new Column("LOOP1_OCC", JDBCType.NUMERIC),
            new Column("LOOP1_SPD", JDBCType.NUMERIC));
    static final RowSchema BLOBS = RowSchema.of(new Column("ID", JDBCType.BIGINT), new Column("PAYLOAD", JDBCType.VARBINARY));

    static S3Client s3;

    @BeforeAll
    static void start() {
        s3 = S3Mock.shared().client();
    }

    @AfterAll
    static void closeClient() {
        s3.close();
    }

    static Task window(String district, LocalDateTime start) {
        return Task.builder("realtime", "vds30sec").scope(Window.starting(start, Duration.ofMinutes(10)))
                .parameter("district", district).build();
    }

    static S3ParquetSink.Builder sink(String bucket) {
        return S3ParquetSink.builder(bucket).client(s3).layout(PEMS_LAYOUT).snapshotLayout(SNAPSHOT_LAYOUT);
    }

    static List<Row> vdsRows(LocalDateTime start, int stations, int samples) {
        List<Row> rows = new ArrayList<>();
        for (int t = 0; t < samples; t++) {
            for (int s = 0; s < stations; s++) {
                LocalDateTime at = start.plusSeconds(30L * t);
                rows.add(Row.of(VDS, at, at.plusSeconds(7), 717_000 + s, BigDecimal.valueOf((t + s) % 23),
                        s % 5 == 0 ? null : new BigDecimal("0.0" + (t % 10) + (s % 10)), new BigDecimal(60 + s % 9 + ".5")));
            }
        }
        return rows;
    }

    /** Rows of incompressible payload, about {@code bytes} bytes in all. */
    static List<Row> blobRows(long seed, int count, int size) {
        Random random = new Random(seed);
        List<Row> rows = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte[] b = new byte[size];
            random.nextBytes(b);
            rows.add(Row.of(BLOBS, (long) i, b));
        }
        return rows;
    }

    static void writeAll(SinkSession session, List<Row> rows) {
        for (int i = 0; i < rows.size(); i += 1000) {
            session.write(rows.subList(i, Math.min(rows.size(), i + 1000)));
        }
    }

    static String trace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    @Test
    void commit_pemsWindow_onePutObjectUnderThePemsKeyWithLocalTimestampsAndMeta() {
        String bucket = S3Mock.bucket(s3, "pems");
        S3ParquetSink sink = sink(bucket).metaColumn("meta").build();
        Task task = window("D4", LocalDateTime.of(2024, 3, 14, 10, 0));
        List<Row> rows = new ArrayList<>(vdsRows(task.window().orElseThrow().start(), 3, 20));
        // wall-clock times that do not exist or exist twice in the JVM's zone (America/Los_Angeles) come back as written
        rows.add(Row.of(VDS, LocalDateTime.of(2024, 3, 10, 2, 30), LocalDateTime.of(2024, 11, 3, 1, 30, 0, 123_456_000), 1, null, null, null));

        try (SinkSession session = sink.open(task, VDS)) {
            writeAll(session, rows);
            assertEquals(List.of(), S3Mock.keys(s3, bucket, ""), "nothing visible before commit");
            session.commit();
        }

        String key = "tables/VDS30SEC/district=D4/year=2024/month=3/day=14/" + task.id() + ".parquet";
        assertEquals(List.of(key), S3Mock.keys(s3, bucket, ""));
        assertEquals(key, sink.objectKey(task, 0));
        HeadObjectResponse head = s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build());
        assertFalse(head.eTag().contains("-"), "a small task is one PutObject, not a multipart upload: " + head.eTag());
        assertEquals(task.id(), head.metadata().get("relay-task-id"));
        assertEquals(ObjectUpload.CONTENT_TYPE, head.contentType());

        ParquetRead.File file = ParquetRead.read(S3Mock.get(s3, bucket, key));
        assertEquals("TIMESTAMP", file.info("SAMPLE_TIME").duckType(), "a local timestamp, not WITH TIME ZONE");
        assertFalse(ParquetRead.utc(file.info("SAMPLE_TIME").logical()), file.info("SAMPLE_TIME").logical());
        assertEquals("DECIMAL(38,9)", file.info("LOOP1_OCC").duckType());
        assertEquals("INTEGER", file.info("VDS_ID").duckType());
        assertEquals(List.of("SNAPPY"), file.compressions());
        assertEquals(task.id(), file.metadata().get("relay.task.id"));
        assertEquals("window:2024-03-14T10:00/2024-03-14T10:10", file.metadata().get("relay.task.scope"));
        assertEquals(rows.size(), file.rows().size());
        for (int r = 0; r < rows.size(); r++) {
            Object[] got = file.rows().get(r);
            Row want = rows.get(r);
            assertEquals(want.get(0), got[0], "SAMPLE_TIME of row " + r);
            assertEquals(want.get(1), got[1], "RECV_TIME of row " + r);
            assertEquals(((Number) want.get(2)).longValue(), got[2]);
            for (int i = 3; i < 6; i++) {
                assertEquals(want.get(i) == null ? null : ((BigDecimal) want.get(i)).setScale(9), got[i], "column " + i + " of row " + r);
            }
            assertEquals("{\"relay_task_id\":\"" + task.id() + "\",\"source\":\"vds30sec\",\"scope\":\"window:2024-03-14T10:00/"
                    + "2024-03-14T10:10\",\"parameters\":{\"district\":\"D4\"}}", got[file.column("meta")]);
        }
    }

    @Test
    void write_moreThanAPart_partsOfExactlyPartSizeStayInvisibleUntilCommit() {
        String bucket = S3Mock.bucket(s3, "parts");
        int partSize = S3ParquetSink.MIN_PART_SIZE;
        S3ParquetSink sink = sink(bucket).compression(Compression.UNCOMPRESSED).partSize(partSize)
                .rowGroupSize(2 * 1024 * 1024).build();
        Task task = window("D7", LocalDateTime.of(2024, 3, 14, 11, 0));
        String key = sink.objectKey(task, 0);
        List<Row> rows = blobRows(1, 13_000, 1_000); // ~13 MB: two full parts and a tail

        SinkSession session = sink.open(task, BLOBS);
        writeAll(session, rows);
        assertEquals(List.of(), S3Mock.keys(s3, bucket, ""), "no object before commit");
        List<MultipartUpload> uploads = S3Mock.uploads(s3, bucket, "");
        assertEquals(1, uploads.size(), "one multipart upload in progress");
        assertEquals(key, uploads.get(0).key());
        List<Part> parts = s3.listParts(ListPartsRequest.builder().bucket(bucket).key(key).uploadId(uploads.get(0).uploadId()).build()).parts();
        assertTrue(parts.size() >= 2, "parts uploaded while writing: " + parts.size());
        for (Part p : parts) {
            assertEquals(partSize, p.size(), "every part before the last is exactly the part size");
        }

        session.commit();
        session.close();
        assertEquals(List.of(key), S3Mock.keys(s3, bucket, ""));
        assertEquals(List.of(), S3Mock.uploads(s3, bucket, ""), "the upload is completed");
        HeadObjectResponse head = s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build());
        assertTrue(head.eTag().matches("\"?[0-9a-f]+-[3-9]\"?"), "a multipart object of 3+ parts: " + head.eTag());
        assertTrue(head.contentLength() > 2L * partSize, "size " + head.contentLength());

        ParquetRead.File file = ParquetRead.read(S3Mock.get(s3, bucket, key));
        assertEquals(rows.size(), file.rows().size());
        assertTrue(file.rowGroups() >= 5, "bounded row groups: " + file.rowGroups());
        for (int i = 0; i < rows.size(); i += 997) {
            assertArrayEquals((byte[]) rows.get(i).get(1), (byte[]) file.rows().get(i)[1], "payload of row " + i);
        }
    }

    @Test
    void abort_midUpload_leavesNoObjectAndNoIncompleteUpload() {
        String bucket = S3Mock.bucket(s3, "abort");
        S3ParquetSink sink = sink(bucket).compression(Compression.UNCOMPRESSED).partSize(S3ParquetSink.MIN_PART_SIZE)
                .rowGroupSize(1024 * 1024).build();
        Task task = window("D3", LocalDateTime.of(2024, 3, 14, 12, 0));
        SinkSession session = sink.open(task, BLOBS);
        writeAll(session, blobRows(2, 8_000, 1_000));
        assertEquals(1, S3Mock.uploads(s3, bucket, "").size(), "parts were uploaded");

        session.abort();
        session.abort(); // idempotent
        session.close();
        assertEquals(List.of(), S3Mock.keys(s3, bucket, ""));
        assertEquals(List.of(), S3Mock.uploads(s3, bucket, ""));
        assertThrows(IllegalStateException.class, () -> session.write(List.of()));
    }

    @Test
    void commit_sameTaskTwice_sameKeyAndByteIdenticalObject() {
        String bucket = S3Mock.bucket(s3, "again");
        S3ParquetSink sink = sink(bucket).metaColumn("meta").build();
        Task task = window("D11", LocalDateTime.of(2024, 3, 14, 13, 0));
        List<Row> rows = vdsRows(task.window().orElseThrow().start(), 50, 20);
        List<byte[]> bodies = new ArrayList<>();
        for (int attempt = 1; attempt <= 2; attempt++) {
            try (SinkSession session = sink.open(task.withAttempt(attempt).withLane(attempt == 1 ? "realtime" : "backfill"), VDS)) {
                writeAll(session, rows);
                session.commit();
            }
            List<String> keys = S3Mock.keys(s3, bucket, "");
            assertEquals(1, keys.size(), "one object whatever the attempt or lane: " + keys);
            bodies.add(S3Mock.get(s3, bucket, keys.get(0)));
        }
        assertArrayEquals(bodies.get(0), bodies.get(1), "a retry writes the same bytes");
    }

    @Test
    void commit_snapshotSplitIntoFiles_allVisibleOnlyAfterCommitAndAShorterRetryDropsTheExtraFile() {
        String bucket = S3Mock.bucket(s3, "snap");
        S3ParquetSink sink = sink(bucket).maxRowsPerObject(100).build();
        Task task = Task.snapshot("config", "detector_config", Snapshot.of(LocalDate.of(2024, 3, 14)));
        RowSchema schema = RowSchema.of(new Column("DETECTOR_ID", JDBCType.BIGINT), new Column("NAME", JDBCType.VARCHAR));
        String prefix = "tables/DETECTOR_CONFIG/date=2024-03-14/";

        SinkSession session = sink.open(task, schema);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            rows.add(Row.of(schema, (long) i, "detector " + i));
        }
        session.write(rows);
        assertEquals(List.of(), S3Mock.keys(s3, bucket, ""), "no file of the set visible before commit");
        assertEquals(2, S3Mock.uploads(s3, bucket, prefix).size(), "the two full files wait, uploaded, for the commit");
        session.commit();
        List<String> expected = List.of(prefix + task.id() + "-00000.parquet", prefix + task.id() + "-00001.parquet",
                prefix + task.id() + "-00002.parquet");
        assertEquals(expected, S3Mock.keys(s3, bucket, ""));
        long[] counts = expected.stream().mapToLong(k -> ParquetRead.read(S3Mock.get(s3, bucket, k), false).rows().size()).toArray();
        assertEquals("[100, 100, 50]", Arrays.toString(counts));

        // the same day again, after the table lost rows: the set is replaced, not mixed
        try (SinkSession retry = sink.open(task.withAttempt(2), schema)) {
            retry.write(rows.subList(0, 150));
            retry.commit();
        }
        assertEquals(expected.subList(0, 2), S3Mock.keys(s3, bucket, ""));
        assertEquals(List.of(), S3Mock.uploads(s3, bucket, ""));
    }

    @Test
    void commit_emptyWindow_writesAnEmptyObject() {
        String bucket = S3Mock.bucket(s3, "empty");
        S3ParquetSink sink = sink(bucket).build();
        Task task = window("D5", LocalDateTime.of(2024, 3, 10, 2, 0)); // the spring-forward hour: no rows
        try (SinkSession session = sink.open(task, VDS)) {
            session.write(List.of());
            session.commit();
        }
        ParquetRead.File file = ParquetRead.read(S3Mock.get(s3, bucket, sink.objectKey(task, 0)));
        assertEquals(0, file.rows().size());
        assertEquals(VDS.size(), file.columns().size(), "the schema is there");
    }

    @Test
    void open_missingBucket_failsNonRetryableBeforeAnyRowIsRead() {
        S3ParquetSink sink = sink("relay-no-such-bucket-" + ProcessHandle.current().pid()).build();
        SinkException e = assertThrows(SinkException.class, () -> sink.open(window("D4", LocalDateTime.of(2024, 3, 14, 10, 0)), VDS));
        assertFalse(e.retryable(), e.getMessage());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void commit_missingBucketWithoutVerification_failsNonRetryableNamingNoSuchBucket() {
        String bucket = "relay-no-such-bucket-" + ProcessHandle.current().pid();
        S3ParquetSink sink = sink(bucket).verifyBucket(false).build();
        SinkSession session = sink.open(window("D4", LocalDateTime.of(2024, 3, 14, 10, 0)), VDS);
        session.write(vdsRows(LocalDateTime.of(2024, 3, 14, 10, 0), 2, 2));
        SinkException e = assertThrows(SinkException.class, session::commit);
        session.abort();
        assertFalse(e.retryable(), e.getMessage());
        assertTrue(e.getMessage().contains("NoSuchBucket") && e.getMessage().contains(bucket), e.getMessage());
    }

    @Test
    void open_noCredentialsInTheProviderChain_failsNonRetryable() {
        String bucket = S3Mock.bucket(s3, "nocreds");
        // a chain that finds nothing, as the SDK's default chain does on a host without credentials
        try (S3Client anonymous = S3Mock.shared().client(AwsCredentialsProviderChain.builder()
                .credentialsProviders(SystemPropertyCredentialsProvider.create()).build())) {
            S3ParquetSink sink = S3ParquetSink.builder(bucket).client(anonymous).layout(PEMS_LAYOUT).build();
            SinkException e = assertThrows(SinkException.class, () -> sink.open(window("D4", LocalDateTime.of(2024, 3, 14, 10, 0)), VDS));
            assertFalse(e.retryable(), e.getMessage());
            assertTrue(e.getMessage().contains("credentials"), e.getMessage());
        }
    }

    @Test
    void writeAndCommit_credentialsRejectedByS3_failNonRetryableWithoutCredentialsInAnyMessage() throws Exception {
        try (S3Stub stub = S3Stub.rejectingCredentials();
             S3Client client = S3Mock.client(stub.endpoint(), StaticCredentialsProvider.create(
                     AwsBasicCredentials.create(S3Mock.ACCESS_KEY, S3Mock.SECRET_KEY)))) {
            Task task = window("D4", LocalDateTime.of(2024, 3, 14, 10, 0));
            S3ParquetSink verifying = S3ParquetSink.builder("pems-raw").client(client).layout(PEMS_LAYOUT).build();
            SinkException atOpen = assertThrows(SinkException.class, () -> verifying.open(task, VDS));
            assertFalse(atOpen.retryable(), atOpen.getMessage());
            assertTrue(atOpen.getMessage().contains("403"), atOpen.getMessage());

            S3ParquetSink sink = S3ParquetSink.builder("pems-raw").client(client).layout(PEMS_LAYOUT).verifyBucket(false).build();
            SinkSession session = sink.open(task, VDS);
            session.write(vdsRows(LocalDateTime.of(2024, 3, 14, 10, 0), 2, 2));
            SinkException atCommit = assertThrows(SinkException.class, session::commit);
            session.abort();
            assertFalse(atCommit.retryable(), atCommit.getMessage());
            assertTrue(atCommit.getMessage().contains("InvalidAccessKeyId"), atCommit.getMessage());
            assertTrue(stub.requests() >= 2, "the requests reached S3");
            for (SinkException e : List.of(atOpen, atCommit)) {
                String all = trace(e);
                assertFalse(all.contains(S3Mock.SECRET_KEY), all);
                assertFalse(all.contains(S3Mock.ACCESS_KEY), all);
                assertFalse(all.matches("(?s).*Signature=[0-9a-f]{16}.*"), all);
            }
        }
    }

    @Test
    void write_valueThatWouldLoseDigits_failsNonRetryableNamingRowColumnAndValue() {
        String bucket = S3Mock.bucket(s3, "badvalue");
        S3ParquetSink sink = sink(bucket).decimal("LOOP1_OCC", 10, 2).build();
        Task task = window("D4", LocalDateTime.of(2024, 3, 14, 10, 0));
        SinkSession session = sink.open(task, VDS);
        LocalDateTime t = LocalDateTime.of(2024, 3, 14, 10, 0);
        SinkException e = assertThrows(SinkException.class, () -> session.write(List.of(
                Row.of(VDS, t, t, 1, BigDecimal.ONE, new BigDecimal("0.25"), BigDecimal.TEN),
                Row.of(VDS, t, t, 2, BigDecimal.ONE, new BigDecimal("0.125"), BigDecimal.TEN))));
        session.abort();
        assertFalse(e.retryable());
        assertTrue(e.getMessage().contains("row 2") && e.getMessage().contains("LOOP1_OCC") && e.getMessage().contains("0.125"),
                e.getMessage());
        assertEquals(List.of(), S3Mock.keys(s3, bucket, ""));
    }

    @Test
    void open_columnTypeWithoutMapping_failsNonRetryableNamingTheColumn() {
        S3ParquetSink sink = sink(S3Mock.bucket(s3, "array")).build();
        RowSchema schema = RowSchema.of(new Column("VDS_ID", JDBCType.INTEGER), new Column("LANES", JDBCType.ARRAY));
        SinkException e = assertThrows(SinkException.class, () -> sink.open(window("D4", LocalDateTime.of(2024, 3, 14, 10, 0)), schema));
        assertFalse(e.retryable());
        assertTrue(e.getMessage().contains("LANES") && e.getMessage().contains("ARRAY"), e.getMessage());
    }

    @Test
    void open_taskWithoutTheLayoutsParameter_failsNonRetryableNamingIt() {
        S3ParquetSink sink = sink(S3Mock.bucket(s3, "noparam")).build();
        Task task = Task.window("realtime", "vds30sec", Window.starting(LocalDateTime.of(2024, 3, 14, 10, 0), Duration.ofMinutes(10)));
        SinkException e = assertThrows(SinkException.class, () -> sink.open(task, VDS));
        assertFalse(e.retryable());
        assertTrue(e.getMessage().contains("'district'"), e.getMessage());

        Task slash = window("D4/../D7", LocalDateTime.of(2024, 3, 14, 10, 0));
        SinkException unsafe = assertThrows(SinkException.class, () -> sink.open(slash, VDS));
        assertFalse(unsafe.retryable());
        assertTrue(unsafe.getMessage().contains("D4/../D7"), unsafe.getMessage());
    }

    @Test
    void open_snapshotTaskWithoutSnapshotLayout_failsNonRetryable() {
        S3ParquetSink sink = S3ParquetSink.builder(S3Mock.bucket(s3, "nosnap")).client(s3).layout(PEMS_LAYOUT).build();
        SinkException e = assertThrows(SinkException.class,
                () -> sink.open(Task.snapshot("config", "station_config", Snapshot.of(LocalDate.of(2024, 3, 14))), VDS));
        assertFalse(e.retryable());
        assertTrue(e.getMessage().contains("snapshotLayout"), e.getMessage());
    }

    @Test
    void open_staleUploadOfTheSameTask_isAbortedOnlyWhenConfigured() {
        String bucket = S3Mock.bucket(s3, "stale");
        Task task = window("D8", LocalDateTime.of(2024, 3, 14, 10, 0));
        S3ParquetSink plain = sink(bucket).build();
        String key = plain.objectKey(task, 0);
        s3.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(bucket).key(key).build());
        s3.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(bucket).key(key + ".other").build());

        plain.open(task, VDS).close();
        assertEquals(2, S3Mock.uploads(s3, bucket, "").size(), "left alone by default");

        S3ParquetSink cleaning = sink(bucket).abortStaleUploads(Duration.ZERO).build();
        cleaning.open(task, VDS).close();
        List<String> left = S3Mock.uploads(s3, bucket, "").stream().map(MultipartUpload::key).toList();
        assertEquals(List.of(key + ".other"), left, "only the task's own upload is aborted");
        assertNotEquals(key, left.get(0));
        S3Mock.abortAll(s3, bucket);
    }
}
