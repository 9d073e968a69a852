package dev.relay.s3;

import dev.relay.api.LaneSpec;
import dev.relay.core.Relay;
import dev.relay.inmemory.InMemoryTaskQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListPartsRequest;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 of a relay JVM in the middle of a multipart upload: no object (partial or whole) becomes visible, only an
 * incomplete upload that S3 keeps invisible; the task's retry in a new relay writes the same key with every row and,
 * with {@code abortStaleUploads}, removes the dead process's upload.
 */
class KillMidUploadTest {

    static S3Client s3;

    @BeforeAll
    static void start() {
        s3 = S3Mock.shared().client();
    }

    @AfterAll
    static void closeClient() {
        s3.close();
    }

    @Test
    void killMidUpload_thenRetry_noPartialObjectAndTheRetryWritesTheSameKey() throws Exception {
        String bucket = S3Mock.bucket(s3, "kill");
        String key = RelayChild.sink(s3, bucket).build().objectKey(RelayChild.TASK, 0);
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process child = new ProcessBuilder(java, "-Xmx128m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                RelayChild.class.getName(), "stall", S3Mock.shared().endpoint().toString(), bucket).redirectErrorStream(true).start();
        CompletableFuture<String> stalled = new CompletableFuture<>();
        StringBuilder output = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                    if (line.startsWith("STALLED")) {
                        stalled.complete(line);
                    }
                }
            } catch (java.io.IOException ignored) {
                // the child was killed
            }
            stalled.complete("EXITED");
        }, "child-output");
        reader.setDaemon(true);
        reader.start();
        try {
            assertTrue(stalled.get(120, TimeUnit.SECONDS).startsWith("STALLED"), () -> "child output:\n" + output);
            List<MultipartUpload> uploads = S3Mock.uploads(s3, bucket, "");
            assertEquals(1, uploads.size(), () -> "an upload in progress; child output:\n" + output);
            int parts = s3.listParts(ListPartsRequest.builder().bucket(bucket).key(key).uploadId(uploads.get(0).uploadId()).build())
                    .parts().size();
            assertTrue(parts >= 2, "parts uploaded before the kill: " + parts);
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no abort
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child died");
        }

        assertEquals(List.of(), S3Mock.keys(s3, bucket, ""), "no object, partial or whole");
        assertThrows(NoSuchKeyException.class, () -> s3.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build()));
        List<MultipartUpload> left = S3Mock.uploads(s3, bucket, "");
        assertEquals(1, left.size(), "the dead relay's upload stays incomplete (and invisible)");
        assertEquals(key, left.get(0).key(), "it was writing the task's key");

        // the retry: a new relay (here in the test JVM) runs the task again
        InMemoryTaskQueue queue = InMemoryTaskQueue.create();
        Relay relay = Relay.builder().queue(queue).puller(RelayChild.puller(-1))
                .sink(RelayChild.sink(s3, bucket).abortStaleUploads(Duration.ZERO).build())
                .sourcePermits(1).lane(LaneSpec.builder("backfill").build()).build().start();
        try {
            queue.offer(RelayChild.TASK.withAttempt(2));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (relay.snapshot().completed() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, relay.snapshot().completed(), () -> "the retry completed: " + relay.snapshot());
        } finally {
            relay.shutdown(Duration.ofSeconds(10));
        }
        assertEquals(List.of(key), S3Mock.keys(s3, bucket, ""), "the retry wrote the same key");
        assertEquals(List.of(), S3Mock.uploads(s3, bucket, ""), "and aborted the dead relay's upload");
        ParquetRead.File file = ParquetRead.read(S3Mock.get(s3, bucket, key), false);
        List<dev.relay.api.Row> rows = RelayChild.rows();
        assertEquals(rows.size(), file.rows().size());
        for (int i = 0; i < rows.size(); i += 1009) {
            assertEquals(rows.get(i).get(0), file.rows().get(i)[0]);
            assertArrayEquals((byte[]) rows.get(i).get(1), (byte[]) file.rows().get(i)[1], "payload of row " + i);
        }
    }
}
