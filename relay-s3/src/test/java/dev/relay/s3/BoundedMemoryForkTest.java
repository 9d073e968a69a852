package dev.relay.s3;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A task whose Parquet object is 200 MB, written by a JVM with {@code -Xmx64m} and the sink's default sizes: rows
 * stream into bounded row groups and 8 MiB parts, so it fits; the control that collects the same task's rows first
 * (as the old relay read a window whole) dies of OutOfMemoryError in the same heap.
 */
class BoundedMemoryForkTest {

    static final long BYTES = 200L * 1024 * 1024;

    static S3Client s3;
    static String bucket;

    @BeforeAll
    static void start() {
        s3 = S3Mock.shared().client();
        bucket = S3Mock.bucket(s3, "bigtask");
    }

    @AfterAll
    static void closeClient() {
        s3.close();
    }

    static Result fork(String mode) throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:+ExitOnOutOfMemoryError", "-XX:+UseSerialGC",
                "-Duser.timezone=America/Los_Angeles", "-cp", System.getProperty("java.class.path"),
                BigTaskChild.class.getName(), mode, S3Mock.shared().endpoint().toString(), bucket, Long.toString(BYTES)));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "child finished");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    record Result(int exit, String output) {
        String value(String key) {
            for (String line : output.split("\\R")) {
                if (line.startsWith(key + " ")) {
                    return line.substring(key.length() + 1).trim();
                }
            }
            throw new AssertionError("no " + key + " in child output:\n" + output);
        }
    }

    @Test
    void commit_200MbTaskInA64MbHeap_streamsEveryRowThroughMultipartParts() throws Exception {
        Result r = fork("sink");
        assertEquals(0, r.exit(), r.output());
        long objectBytes = Long.parseLong(r.value("OBJECT_BYTES"));
        assertTrue(objectBytes >= BYTES, "object of " + objectBytes + " bytes");
        assertTrue(Long.parseLong(r.value("MAX_HEAP_MB")) <= 64, r.output());
        String etag = r.value("ETAG");
        int parts = Integer.parseInt(etag.substring(etag.indexOf('-') + 1));
        assertTrue(parts >= 25, "a multipart object of 8 MiB parts: " + etag);

        Path file = Files.createTempFile("relay-big-", ".parquet");
        try {
            Files.delete(file); // the SDK writes a new file
            s3.getObject(GetObjectRequest.builder().bucket(bucket).key(keyOfBigTask()).build(), ResponseTransformer.toFile(file));
            assertEquals(Long.parseLong(r.value("ROWS")), ParquetRead.rowCount(file));
            assertEquals(Long.parseLong(r.value("VDS_SUM")), ParquetRead.sum(file, "VDS_ID"));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void buffer_sameTaskCollectedInMemoryFirst_runsOutOfMemory() throws Exception {
        // the control: proves the task is too big to hold, so the test above proves streaming
        Result r = fork("buffer");
        assertEquals(3, r.exit(), "expected the child to die of OutOfMemoryError:\n" + r.output());
        assertTrue(r.output().contains("OutOfMemoryError"), r.output());
    }

    static String keyOfBigTask() {
        return S3ParquetSink.builder(bucket).client(s3).layout(S3ParquetSinkTest.PEMS_LAYOUT).build().objectKey(BigTaskChild.TASK, 0);
    }
}
