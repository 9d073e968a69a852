package dev.relay.s3;

import dev.relay.api.Column;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rows per second of one PeMS-shaped task written to S3 (S3Mock on this machine) by {@link S3ParquetSink}, beside
 * a plain loop doing the same work by hand: parquet-java's {@code ParquetWriter} with a {@code WriteSupport} written
 * for this one schema (no type dispatch, no checks), into a buffer uploaded as the same 8 MiB multipart parts, same
 * compression, row group, page and dictionary sizes. Both generate the same rows on the fly (VDS30SEC: two
 * timestamps, the station, 14 loops of INTEGER volume, NUMERIC occupancy as {@code BigDecimal}, DOUBLE speed), and
 * both write the same Parquet schema. One warm-up run each, then runs alternating between the two; medians and
 * ranges reported. Not a test. Run (from the repository root):
 *
 * <pre>
 * mvn -q -pl relay-s3 -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -DincludeScope=test
 * java -cp relay-s3/target/test-classes:relay-s3/target/classes:$(cat relay-s3/target/cp.txt) \
 *     -Drelay.s3mock.jar=$HOME/.m2/repository/com/adobe/testing/s3mock/4.12.4/s3mock-4.12.4-exec.jar \
 *     dev.relay.s3.S3SinkThroughput [rows=300000] [runs=5]
 * </pre>
 */
public final class S3SinkThroughput {

    static final int LOOPS = 14;
    static final int PART = 8 * 1024 * 1024;
    static final long ROW_GROUP = 16L * 1024 * 1024;
    static final int PAGE = 1024 * 1024;
    static final int DICTIONARY = 32 * 1024;
    static final RowSchema SCHEMA;

    static {
        List<Column> columns = new ArrayList<>();
        columns.add(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP));
        columns.add(new Column("RECV_TIME", JDBCType.TIMESTAMP));
        columns.add(new Column("VDS_ID", JDBCType.INTEGER));
        for (int i = 1; i <= LOOPS; i++) {
            columns.add(new Column("LOOP" + i + "_VOL", JDBCType.INTEGER));
            columns.add(new Column("LOOP" + i + "_OCC", JDBCType.NUMERIC));
            columns.add(new Column("LOOP" + i + "_SPD", JDBCType.DOUBLE));
        }
        SCHEMA = RowSchema.of(columns);
    }

    private S3SinkThroughput() {
    }

    /** The i-th row of the task: 2,000 stations, a sample every 30 s; some detectors report nothing. */
    static Row row(int i) {
        Object[] v = new Object[SCHEMA.size()];
        int station = i % 2000;
        LocalDateTime at = LocalDateTime.of(2024, 3, 14, 0, 0).plusSeconds(30L * (i / 2000));
        v[0] = at;
        v[1] = at.plusSeconds(3 + station % 11);
        v[2] = 716_000 + station;
        for (int l = 0; l < LOOPS; l++) {
            if ((station + l) % 11 == 0) {
                continue;
            }
            v[3 + 3 * l] = (station * 7 + i / 2000 + l) % 23;
            v[4 + 3 * l] = BigDecimal.valueOf((station + i / 2000 + l) % 1000, 4);
            v[5 + 3 * l] = 40.0 + (station + l) % 35 + ((i / 2000) % 10) / 10.0;
        }
        return Row.wrap(SCHEMA, v);
    }

    /**
     * @param args [rows] [runs]
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        S3Mock mock = S3Mock.start(List.of("-Xmx1g"));
        try (S3Client s3 = mock.client()) {
            String bucket = S3Mock.bucket(s3, "throughput");
            S3ParquetSink sink = S3ParquetSink.builder(bucket).client(s3)
                    .layout("tables/VDS30SEC/district={param:district}/year={year}/month={month}/day={day}/{id}.parquet")
                    .rowGroupSize(ROW_GROUP).pageSize(PAGE).dictionaryPageSize(DICTIONARY).partSize(PART).build();
            System.out.printf(Locale.ROOT, "task of %,d VDS30SEC rows (%d columns), SNAPPY, row group %d MiB, part %d MiB, "
                            + "%d runs each; java %s, %d cores%n", rows, SCHEMA.size(), ROW_GROUP >> 20, PART >> 20, runs,
                    System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
            long[] bytes = new long[2];
            List<Double> relay = new ArrayList<>();
            List<Double> plain = new ArrayList<>();
            for (int run = 0; run <= runs; run++) {
                Task task = Task.builder("backfill", "vds30sec").scope(Window.starting(LocalDateTime.of(2024, 3, 14, 0, 0)
                        .plusDays(run), Duration.ofDays(1))).parameter("district", "D4").build();
                double r = timed(rows, () -> {
                    try (SinkSession session = sink.open(task, SCHEMA)) {
                        List<Row> chunk = new ArrayList<>(1000);
                        for (int i = 0; i < rows; i++) {
                            chunk.add(row(i));
                            if (chunk.size() == 1000) {
                                session.write(chunk);
                                chunk = new ArrayList<>(1000);
                            }
                        }
                        session.write(chunk);
                        session.commit();
                    }
                });
                bytes[0] = size(s3, bucket, sink.objectKey(task, 0));
                double p = timed(rows, () -> bytes[1] = plainLoop(s3, bucket, "plain/run-" + System.nanoTime() + ".parquet", rows));
                if (run > 0) {
                    relay.add(r);
                    plain.add(p);
                }
                System.out.printf(Locale.ROOT, "%s relay %,.0f rows/s (%,d bytes)   plain %,.0f rows/s (%,d bytes)%n",
                        run == 0 ? "warm-up" : "run " + run, r, bytes[0], p, bytes[1]);
            }
            double mr = median(relay);
            double mp = median(plain);
            System.out.printf(Locale.ROOT, "relay: median %,.0f rows/s (range %,.0f..%,.0f)%n", mr, min(relay), max(relay));
            System.out.printf(Locale.ROOT, "plain: median %,.0f rows/s (range %,.0f..%,.0f)%n", mp, min(plain), max(plain));
            System.out.printf(Locale.ROOT, "ratio relay/plain: %.2f (range of run ratios %.2f..%.2f)%n", mr / mp,
                    minRatio(relay, plain), maxRatio(relay, plain));
        } finally {
            mock.stop();
        }
    }

    interface Body {
        void run() throws Exception;
    }

    static double timed(int rows, Body body) throws Exception {
        long t0 = System.nanoTime();
        body.run();
        return rows / ((System.nanoTime() - t0) / 1e9);
    }

    static long size(S3Client s3, String bucket, String key) {
        return s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build()).contentLength();
    }

    /** The baseline: a typed WriteSupport, a ParquetWriter into a part buffer, a hand-made multipart upload. */
    static long plainLoop(S3Client s3, String bucket, String key, int rows) throws Exception {
        String uploadId = s3.createMultipartUpload(CreateMultipartUploadRequest.builder().bucket(bucket).key(key)
                .checksumAlgorithm(ChecksumAlgorithm.CRC32).build()).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        byte[] buffer = new byte[PART];
        int[] filled = {0};
        long[] position = {0};
        Runnable flush = () -> {
            int n = filled[0];
            int number = parts.size() + 1;
            UploadPartResponse r = s3.uploadPart(UploadPartRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
                            .partNumber(number).contentLength((long) n).checksumAlgorithm(ChecksumAlgorithm.CRC32).build(),
                    RequestBody.fromContentProvider(() -> new ByteArrayInputStream(buffer, 0, n), n, "application/octet-stream"));
            parts.add(CompletedPart.builder().partNumber(number).eTag(r.eTag()).checksumCRC32(r.checksumCRC32()).build());
            filled[0] = 0;
        };
        PositionOutputStream out = new PositionOutputStream() {
            @Override
            public long getPos() {
                return position[0];
            }

            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                while (len > 0) {
                    int n = Math.min(len, PART - filled[0]);
                    System.arraycopy(b, off, buffer, filled[0], n);
                    filled[0] += n;
                    position[0] += n;
                    off += n;
                    len -= n;
                    if (filled[0] == PART) {
                        flush.run();
                    }
                }
            }
        };
        OutputFile file = new OutputFile() {
            @Override
            public PositionOutputStream create(long blockSizeHint) {
                return out;
            }

            @Override
            public PositionOutputStream createOrOverwrite(long blockSizeHint) {
                return out;
            }

            @Override
            public boolean supportsBlockSize() {
                return false;
            }

            @Override
            public long defaultBlockSize() {
                return 0;
            }
        };
        try (ParquetWriter<Row> w = new PlainBuilder(file).withConf(new PlainParquetConfiguration()).withCodecFactory(new Codecs())
                .withCompressionCodec(CompressionCodecName.SNAPPY).withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .withRowGroupSize(ROW_GROUP).withPageSize(PAGE).withDictionaryPageSize(DICTIONARY).withMaxPaddingSize(0).build()) {
            for (int i = 0; i < rows; i++) {
                w.write(row(i));
            }
        }
        flush.run();
        s3.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
                .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()).build());
        return position[0];
    }

    /** The same Parquet schema as the sink writes for {@link #SCHEMA}. */
    static MessageType plainSchema() {
        List<Type> fields = new ArrayList<>();
        LogicalTypeAnnotation ts = LogicalTypeAnnotation.timestampType(false, LogicalTypeAnnotation.TimeUnit.MICROS);
        fields.add(Types.optional(PrimitiveTypeName.INT64).as(ts).named("SAMPLE_TIME"));
        fields.add(Types.optional(PrimitiveTypeName.INT64).as(ts).named("RECV_TIME"));
        fields.add(Types.optional(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.intType(32, true)).named("VDS_ID"));
        for (int i = 1; i <= LOOPS; i++) {
            fields.add(Types.optional(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.intType(32, true)).named("LOOP" + i + "_VOL"));
            fields.add(Types.optional(PrimitiveTypeName.FIXED_LEN_BYTE_ARRAY).length(16)
                    .as(LogicalTypeAnnotation.decimalType(9, 38)).named("LOOP" + i + "_OCC"));
            fields.add(Types.optional(PrimitiveTypeName.DOUBLE).named("LOOP" + i + "_SPD"));
        }
        return new MessageType("vds30sec", fields);
    }

    /** A WriteSupport written for this one schema: what a user would write by hand. */
    static final class PlainWriteSupport extends WriteSupport<Row> {
        private final MessageType schema = plainSchema();
        private RecordConsumer rc;

        @Override
        public WriteContext init(ParquetConfiguration configuration) {
            return new WriteContext(schema, Map.of());
        }

        @Override
        @Deprecated
        public WriteContext init(org.apache.hadoop.conf.Configuration configuration) {
            return new WriteContext(schema, Map.of());
        }

        @Override
        public void prepareForWrite(RecordConsumer recordConsumer) {
            rc = recordConsumer;
        }

        @Override
        public void write(Row row) {
            rc.startMessage();
            for (int i = 0; i < 2; i++) {
                LocalDateTime t = (LocalDateTime) row.get(i);
                rc.startField(schema.getFieldName(i), i);
                rc.addLong(t.toEpochSecond(ZoneOffset.UTC) * 1_000_000L + t.getNano() / 1_000);
                rc.endField(schema.getFieldName(i), i);
            }
            rc.startField("VDS_ID", 2);
            rc.addInteger((Integer) row.get(2));
            rc.endField("VDS_ID", 2);
            for (int i = 3; i < row.size(); i++) {
                Object v = row.get(i);
                if (v == null) {
                    continue;
                }
                String name = schema.getFieldName(i);
                rc.startField(name, i);
                switch ((i - 3) % 3) {
                    case 0 -> rc.addInteger((Integer) v);
                    case 1 -> {
                        byte[] raw = ((BigDecimal) v).setScale(9, RoundingMode.UNNECESSARY).unscaledValue().toByteArray();
                        byte[] b = new byte[16];
                        Arrays.fill(b, 0, 16 - raw.length, raw[0] < 0 ? (byte) -1 : 0);
                        System.arraycopy(raw, 0, b, 16 - raw.length, raw.length);
                        rc.addBinary(Binary.fromConstantByteArray(b));
                    }
                    default -> rc.addDouble((Double) v);
                }
                rc.endField(name, i);
            }
            rc.endMessage();
        }
    }

    static final class PlainBuilder extends ParquetWriter.Builder<Row, PlainBuilder> {
        PlainBuilder(OutputFile file) {
            super(file);
        }

        @Override
        protected PlainBuilder self() {
            return this;
        }

        @Override
        protected WriteSupport<Row> getWriteSupport(ParquetConfiguration conf) {
            return new PlainWriteSupport();
        }

        @Override
        @Deprecated
        protected WriteSupport<Row> getWriteSupport(org.apache.hadoop.conf.Configuration conf) {
            return new PlainWriteSupport();
        }
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static double min(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    static double max(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    static double minRatio(List<Double> a, List<Double> b) {
        double m = Double.MAX_VALUE;
        for (int i = 0; i < a.size(); i++) {
            m = Math.min(m, a.get(i) / b.get(i));
        }
        return m;
    }

    static double maxRatio(List<Double> a, List<Double> b) {
        double m = 0;
        for (int i = 0; i < a.size(); i++) {
            m = Math.max(m, a.get(i) / b.get(i));
        }
        return m;
    }
}
