package dev.relay.s3;

import dev.relay.api.LaneSpec;
import dev.relay.api.PullException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.inmemory.InMemoryTaskQueue;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * A relay in a child JVM for {@link KillMidUploadTest}: the engine with the in-memory queue, a puller of
 * {@link #ROWS} generated rows (1,000 incompressible bytes each) and the S3 sink with 5 MiB parts. Mode
 * {@code stall} stops the pull for good after {@link #STALL_AFTER} rows, so that the task hangs mid-upload with
 * parts uploaded (the parent then kills the JVM); mode {@code run} relays the whole task. Prints {@code DONE} when
 * the task completed.
 */
public final class RelayChild {

    static final RowSchema SCHEMA = S3ParquetSinkTest.BLOBS;
    static final int ROWS = 14_000;
    static final int STALL_AFTER = 12_000;
    static final Task TASK = Task.builder("backfill", "vds30sec")
            .scope(Window.starting(LocalDateTime.of(2024, 3, 14, 10, 0), Duration.ofMinutes(10))).parameter("district", "D12").build();

    private RelayChild() {
    }

    /** @return the sink of the test, writing through {@code s3} */
    static S3ParquetSink.Builder sink(S3Client s3, String bucket) {
        return S3ParquetSink.builder(bucket).client(s3).layout(S3ParquetSinkTest.PEMS_LAYOUT)
                .compression(Compression.UNCOMPRESSED).partSize(S3ParquetSink.MIN_PART_SIZE).rowGroupSize(1024 * 1024);
    }

    /** @return the task's rows, the same on every call */
    static List<Row> rows() {
        return S3ParquetSinkTest.blobRows(7, ROWS, 1_000);
    }

    /**
     * @param stallAfter rows after which the cursor blocks for good, or -1
     * @return a puller of {@link #rows()}
     */
    static dev.relay.api.Puller puller(int stallAfter) {
        return task -> new RowCursor() {
            private final List<Row> rows = rows();
            private int next;
            private volatile boolean cancelled;

            @Override
            public RowSchema schema() {
                return SCHEMA;
            }

            @Override
            public List<Row> next() {
                if (stallAfter >= 0 && next >= stallAfter) {
                    System.out.println("STALLED " + next);
                    System.out.flush();
                    while (!cancelled) {
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            break;
                        }
                    }
                }
                if (cancelled) {
                    throw new PullException("cancelled", null);
                }
                List<Row> chunk = new ArrayList<>(rows.subList(next, Math.min(rows.size(), next + 500)));
                next += chunk.size();
                return chunk;
            }

            @Override
            public void cancel() {
                cancelled = true;
            }

            @Override
            public void close() {
                // nothing held
            }
        };
    }

    /**
     * @param args mode ({@code stall} or {@code run}), S3 endpoint, bucket
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        ParentWatch.start();
        boolean stall = args[0].equals("stall");
        try (S3Client s3 = S3Mock.client(URI.create(args[1]), StaticCredentialsProvider.create(
                AwsBasicCredentials.create(S3Mock.ACCESS_KEY, S3Mock.SECRET_KEY)))) {
            InMemoryTaskQueue queue = InMemoryTaskQueue.create();
            Relay relay = Relay.builder().queue(queue).puller(puller(stall ? STALL_AFTER : -1)).sink(sink(s3, args[2]).build())
                    .sourcePermits(1).lane(LaneSpec.builder("backfill").build()).build().start();
            queue.offer(TASK);
            while (relay.snapshot().completed() < 1) {
                Thread.sleep(20);
            }
            relay.shutdown(Duration.ofSeconds(10));
            System.out.println("DONE");
        }
    }
}
