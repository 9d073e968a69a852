package dev.relay.s3;

import dev.relay.api.Column;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The forked JVM of {@link BoundedMemoryForkTest}, run with a small heap: one task of VDS30SEC-shaped rows (two
 * timestamps, the station and 42 loop values of random, incompressible doubles) generated on the fly and written
 * through the sink with its default sizes until the Parquet object has {@code bytes} bytes. Modes:
 * <ul>
 *   <li>{@code sink ENDPOINT BUCKET BYTES}: streams the rows in chunks of 1,000; prints {@code ROWS n},
 *       {@code VDS_SUM s}, {@code OBJECT_BYTES b}, {@code ETAG e}, {@code MAX_HEAP_MB m} and the heap pools'
 *       peaks;</li>
 *   <li>{@code buffer ENDPOINT BUCKET BYTES}: the control, which first collects the task's rows in memory (as the old
 *       relay read a window whole) and would write them afterwards.</li>
 * </ul>
 * Exits with 3 on OutOfMemoryError.
 */
public final class BigTaskChild {

    static final int LOOPS = 14;
    /** A little less than the Parquet bytes one row takes (42 random doubles, two timestamps, an id: 337). */
    static final int ROW_BYTES = 330;

    static final RowSchema SCHEMA;

    static {
        List<Column> columns = new ArrayList<>();
        columns.add(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP));
        columns.add(new Column("RECV_TIME", JDBCType.TIMESTAMP));
        columns.add(new Column("VDS_ID", JDBCType.INTEGER));
        for (int i = 1; i <= LOOPS; i++) {
            columns.add(new Column("LOOP" + i + "_VOL", JDBCType.DOUBLE));
            columns.add(new Column("LOOP" + i + "_OCC", JDBCType.DOUBLE));
            columns.add(new Column("LOOP" + i + "_SPD", JDBCType.DOUBLE));
        }
        SCHEMA = RowSchema.of(columns);
    }

    static final Task TASK = Task.builder("backfill", "vds30sec")
            .scope(Window.starting(LocalDateTime.of(2024, 3, 14, 0, 0), Duration.ofDays(1))).parameter("district", "D7").build();

    private BigTaskChild() {
    }

    /**
     * @param args mode, endpoint, bucket, bytes
     * @throws Exception on failure (exit code 1)
     */
    public static void main(String[] args) throws Exception {
        ParentWatch.start();
        String mode = args[0];
        URI endpoint = URI.create(args[1]);
        String bucket = args[2];
        long bytes = Long.parseLong(args[3]);
        long rows = bytes / ROW_BYTES + 1;
        try (S3Client s3 = S3Mock.client(endpoint, StaticCredentialsProvider.create(
                AwsBasicCredentials.create(S3Mock.ACCESS_KEY, S3Mock.SECRET_KEY)))) {
            S3ParquetSink sink = S3ParquetSink.builder(bucket).client(s3).layout(S3ParquetSinkTest.PEMS_LAYOUT).build();
            SplittableRandom random = new SplittableRandom(42);
            long vdsSum = 0;
            if (mode.equals("buffer")) {
                List<Row> all = new ArrayList<>();
                for (long r = 0; r < rows; r++) {
                    all.add(row(r, random));
                }
                System.out.println("BUFFERED " + all.size());
                return;
            }
            try (SinkSession session = sink.open(TASK, SCHEMA)) {
                List<Row> chunk = new ArrayList<>(1000);
                for (long r = 0; r < rows; r++) {
                    Row row = row(r, random);
                    vdsSum += (Integer) row.get(2);
                    chunk.add(row);
                    if (chunk.size() == 1000) {
                        session.write(chunk);
                        chunk = new ArrayList<>(1000);
                    }
                }
                session.write(chunk);
                session.commit();
            }
            HeadObjectResponse head = s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(sink.objectKey(TASK, 0)).build());
            System.out.println("ROWS " + rows);
            System.out.println("VDS_SUM " + vdsSum);
            System.out.println("OBJECT_BYTES " + head.contentLength());
            System.out.println("ETAG " + head.eTag().replace("\"", ""));
            System.out.println("MAX_HEAP_MB " + Runtime.getRuntime().maxMemory() / (1024 * 1024));
            System.out.println("HEAP_POOL_PEAKS_MB " + peakHeapMb());
        } catch (OutOfMemoryError e) {
            System.out.println("OOM " + e);
            System.exit(3);
        }
    }

    static Row row(long r, SplittableRandom random) {
        Object[] v = new Object[SCHEMA.size()];
        LocalDateTime at = LocalDateTime.of(2024, 3, 14, 0, 0).plusSeconds(30 * (r / 2000));
        v[0] = at;
        v[1] = at.plusSeconds(5 + r % 20);
        v[2] = 700_000 + (int) (r % 2000);
        for (int i = 3; i < v.length; i++) {
            v[i] = random.nextDouble();
        }
        return Row.wrap(SCHEMA, v);
    }

    private static String peakHeapMb() {
        StringBuilder sb = new StringBuilder();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sb.append(sb.length() == 0 ? "" : ",").append(pool.getName().replace(' ', '_')).append('=')
                        .append(pool.getPeakUsage().getUsed() / (1024 * 1024));
            }
        }
        return sb.toString();
    }
}
