package dev.relay.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * One KRaft broker ({@code kafka.Kafka} through {@link BrokerMain}, combined broker and controller) in a JVM of its own, so that the suite
 * can kill -9 it and start it again on the same ports and log directory.
 *
 * <p>Not threadsafe: one test thread drives it.
 */
final class BrokerProcess implements AutoCloseable {

    static final long START_TIMEOUT_SECONDS = 120;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(START_TIMEOUT_SECONDS);

    private final Path dir;
    private final Path config;
    private final int port;
    private Process process;
    private int starts;

    BrokerProcess(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.port = Jvm.freePort();
        int controller = Jvm.freePort();
        this.config = dir.resolve("broker.properties");
        Files.writeString(config, String.join("\n", List.of(
                "process.roles=broker,controller",
                "node.id=0",
                "controller.quorum.bootstrap.servers=127.0.0.1:" + controller,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + dir.resolve("logs"),
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=3",
                "group.initial.rebalance.delay.ms=0",
                "group.min.session.timeout.ms=1000",
                "num.network.threads=2",
                "num.io.threads=2",
                // share groups (KIP-932): the share-state topic fits one broker; short locks and sessions allowed
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "share.coordinator.state.topic.num.partitions=3",
                "group.share.min.record.lock.duration.ms=1000",
                "group.share.min.session.timeout.ms=1000",
                "group.share.min.heartbeat.interval.ms=100",
                "log.flush.interval.messages=1")) + "\n");
        Process format = new ProcessBuilder(Jvm.command("256m", "kafka.tools.StorageTool", List.of("format",
                "--standalone", "-t", Uuid.randomUuid().toString(), "-c", config.toString())))
                .redirectErrorStream(true).redirectOutput(dir.resolve("format.log").toFile()).start();
        try {
            if (!format.waitFor(120, TimeUnit.SECONDS) || format.exitValue() != 0) {
                format.destroyForcibly();
                throw new IOException("formatting the broker's storage failed: " + Files.readString(dir.resolve("format.log")));
            }
        } catch (InterruptedException e) {
            format.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while formatting", e);
        }
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** Starts the broker and returns once it answers a metadata request. */
    void start() throws IOException, InterruptedException {
        starts++;
        process = new ProcessBuilder(Jvm.command("512m", BrokerMain.class.getName(),
                        List.of(Long.toString(ProcessHandle.current().pid()), config.toString())))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile()))
                .start();
        awaitAnswer(process, dir, Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    /**
     * Waits until a broker process started in {@code dir} answers an admin client, or fails naming its log.
     *
     * @param process the broker's process
     * @param dir its directory (holding {@code broker.log})
     * @param admin the admin client's settings (bootstrap servers, security); request timeouts are added
     * @throws IOException if the process exits or does not answer within {@value #START_TIMEOUT_SECONDS} s
     * @throws InterruptedException if interrupted
     */
    static void awaitAnswer(Process process, Path dir, Map<String, Object> admin) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Map<String, Object> p = new java.util.HashMap<>(admin);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000);
        try (Admin client = Admin.create(p)) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IOException("broker exited with " + process.exitValue() + "; see " + dir.resolve("broker.log"));
                }
                try {
                    if (!client.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("broker did not answer within " + START_TIMEOUT + "; see " + dir.resolve("broker.log"), e);
                    }
                }
                Thread.sleep(200);
            }
        }
    }

    /** kill -9 (SIGKILL), then waits for the process to be gone. */
    void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
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
    public String toString() {
        return "BrokerProcess[" + bootstrapServers() + ", started " + starts + " times, " + dir + "]";
    }
}
