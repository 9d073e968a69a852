package dev.relay.s3;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Adobe S3Mock (a real S3 API: buckets, objects, multipart uploads) as a child process of the test JVM, started
 * once per JVM on free ports and stopped when the JVM exits. The executable jar comes from Maven (the pom passes
 * its path as {@code relay.s3mock.jar}); its log goes to {@code target/s3mock-<pid>.log}. S3Mock accepts any
 * credentials; tests of rejected credentials use {@link S3Stub}.
 */
final class S3Mock {

    /** Credentials the tests sign with (S3Mock does not check them). */
    static final String ACCESS_KEY = "AKIARELAYTESTKEY0001";
    static final String SECRET_KEY = "relay-test-secret-do-not-log";

    private static final Pattern STARTED = Pattern.compile("Tomcat started on ports? (.*) with context path");
    private static final Pattern HTTP_PORT = Pattern.compile("(\\d+) \\(http\\)");
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    private static S3Mock shared;

    private final Process process;
    private final int port;
    private final Path root;

    private S3Mock(Process process, int port, Path root) {
        this.process = process;
        this.port = port;
        this.root = root;
    }

    /** @return the JVM's S3Mock, started on first use */
    static synchronized S3Mock shared() {
        if (shared == null) {
            shared = start(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
            S3Mock s = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "s3mock-stop"));
        }
        return shared;
    }

    /**
     * @param jvmOptions options of S3Mock's JVM
     * @return a started S3Mock; the caller stops it
     */
    static S3Mock start(List<String> jvmOptions) {
        String jar = System.getProperty("relay.s3mock.jar");
        if (jar == null || !new File(jar).isFile()) {
            throw new IllegalStateException("S3Mock's jar is not at relay.s3mock.jar=" + jar
                    + "; run the tests through Maven (the pom resolves com.adobe.testing:s3mock:exec and passes its path)");
        }
        try {
            Path root = Files.createTempDirectory("relay-s3mock-");
            Path log = Paths.get("target", "s3mock-" + ProcessHandle.current().pid() + ".log").toAbsolutePath();
            Files.createDirectories(log.getParent());
            List<String> command = new ArrayList<>();
            command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmOptions);
            String launcher = Paths.get(S3MockLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
            command.addAll(List.of("-cp", jar + File.pathSeparator + launcher, S3MockLauncher.class.getName(),
                    "--server.port=0", "--com.adobe.testing.s3mock.httpPort=0",
                    "--com.adobe.testing.s3mock.store.root=" + root,
                    "--com.adobe.testing.s3mock.store.retainFilesOnExit=false",
                    "--spring.main.banner-mode=off", "--logging.level.root=WARN",
                    "--logging.level.org.springframework.boot.web.embedded.tomcat=INFO"));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            CompletableFuture<Integer> port = new CompletableFuture<>();
            Thread pump = new Thread(() -> pump(p, log, port), "s3mock-log");
            pump.setDaemon(true);
            pump.start();
            int http;
            try {
                http = port.get(90, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
                throw new IllegalStateException("S3Mock did not start within 90 s; see " + log, e);
            }
            return new S3Mock(p, http, root);
        } catch (IOException | java.net.URISyntaxException e) {
            throw new IllegalStateException("could not start S3Mock", e);
        }
    }

    private static void pump(Process p, Path log, CompletableFuture<Integer> port) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8), true)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.println(line);
                Matcher m = STARTED.matcher(line);
                if (m.find()) {
                    Matcher h = HTTP_PORT.matcher(m.group(1));
                    if (h.find()) {
                        port.complete(Integer.parseInt(h.group(1)));
                    }
                }
            }
        } catch (IOException e) {
            port.completeExceptionally(e);
        }
        port.completeExceptionally(new IllegalStateException("S3Mock's output ended before it listened; see " + log));
    }

    /** Stops the process and deletes its store. */
    void stop() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind
        }
    }

    /** @return the endpoint, {@code http://127.0.0.1:port} */
    URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** @return a new client of this S3Mock, signing with the test credentials */
    S3Client client() {
        return client(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
    }

    /**
     * @param credentials the credentials provider
     * @return a new client of this S3Mock
     */
    S3Client client(AwsCredentialsProvider credentials) {
        return client(endpoint(), credentials);
    }

    /**
     * @param endpoint an S3 endpoint on this machine
     * @param credentials the credentials provider
     * @return a path-style client of it
     */
    static S3Client client(URI endpoint, AwsCredentialsProvider credentials) {
        return S3Client.builder().endpointOverride(endpoint).region(Region.US_WEST_2).credentialsProvider(credentials)
                .forcePathStyle(true).build();
    }

    /**
     * @param s3 a client
     * @param name a name for the test
     * @return a new bucket of that name and a number unique in this JVM
     */
    static String bucket(S3Client s3, String name) {
        String bucket = (name + "-" + ProcessHandle.current().pid() + "-" + BUCKETS.incrementAndGet()).toLowerCase(Locale.ROOT);
        s3.createBucket(CreateBucketRequest.builder().bucket(bucket).build());
        return bucket;
    }

    /** @return the keys under a prefix */
    static List<String> keys(S3Client s3, String bucket, String prefix) {
        List<String> keys = new ArrayList<>();
        for (S3Object o : s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).prefix(prefix).build()).contents()) {
            keys.add(o.key());
        }
        return keys;
    }

    /** @return the incomplete multipart uploads under a prefix */
    static List<MultipartUpload> uploads(S3Client s3, String bucket, String prefix) {
        return s3.listMultipartUploads(ListMultipartUploadsRequest.builder().bucket(bucket).prefix(prefix).build()).uploads();
    }

    /** Aborts every incomplete multipart upload in the bucket. */
    static void abortAll(S3Client s3, String bucket) {
        for (MultipartUpload u : uploads(s3, bucket, "")) {
            s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(u.key()).uploadId(u.uploadId()).build());
        }
    }

    /** @return an object's bytes */
    static byte[] get(S3Client s3, String bucket, String key) {
        return s3.getObject(GetObjectRequest.builder().bucket(bucket).key(key).build(), ResponseTransformer.toBytes()).asByteArray();
    }
}
