package dev.relay.kafka;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;

/**
 * A single KRaft broker (combined broker and controller) in its own JVM, so a test can kill -9 it
 * ({@link Process#destroyForcibly()}) and start it again on the same port and log directory.
 */
final class ProcessBroker implements AutoCloseable {

    private final Path dir;
    private final int port;
    private final int controllerPort;
    private final Path properties;
    private Process process;

    ProcessBroker() throws IOException {
        this.dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "process-broker");
        this.port = freePort();
        this.controllerPort = freePort();
        this.properties = dir.resolve("server.properties");
        Files.writeString(properties, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.bootstrap.servers=localhost:" + controllerPort,
                "listeners=PLAINTEXT://localhost:" + port + ",CONTROLLER://localhost:" + controllerPort,
                "advertised.listeners=PLAINTEXT://localhost:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + dir.resolve("data"),
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=2",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=2",
                "group.initial.rebalance.delay.ms=0",
                "group.min.session.timeout.ms=1000",
                "auto.create.topics.enable=false",
                "num.network.threads=2",
                "num.io.threads=2",
                // share groups (KIP-932): the share-state topic fits one broker; short locks and sessions allowed
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "share.coordinator.state.topic.num.partitions=2",
                "group.share.min.record.lock.duration.ms=1000",
                "group.share.min.session.timeout.ms=1000",
                "group.share.min.heartbeat.interval.ms=100",
                "") + "\n");
        // format the log directory in-process (saves a JVM start)
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int rc = kafka.tools.StorageTool.execute(new String[] {"format", "--standalone", "-t",
            Uuid.randomUuid().toString(), "-c", properties.toString()}, new java.io.PrintStream(out, true, "UTF-8"));
        if (rc != 0) {
            throw new IOException("formatting " + dir + " failed: " + out.toString("UTF-8"));
        }
    }

    String bootstrapServers() {
        return "localhost:" + port;
    }

    /** Starts the broker and waits until it answers. */
    void start() throws Exception {
        List<String> cmd = javaCommand(List.of("kafka.Kafka", properties.toString()));
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 2000, "default.api.timeout.ms", 3000))) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("broker exited with " + process.exitValue() + "; see " + dir.resolve("broker.log"));
                }
                try {
                    admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                    if (!admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("broker did not answer within 90 s; see " + dir.resolve("broker.log"), e);
                    }
                    Thread.sleep(200);
                }
            }
        }
    }

    /** kill -9. */
    void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        kill();
        try {
            EmbeddedKafka.deleteRecursively(dir);
        } catch (IOException e) {
            // a temp directory left behind
        }
    }

    private static List<String> javaCommand(List<String> args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", cp));
        cmd.addAll(args);
        return cmd;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    @SuppressWarnings("unused")
    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("localhost", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "ProcessBroker[" + bootstrapServers() + ", " + dir + File.separator + "]";
    }
}
