package dev.relay.faults;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.SaslConfigs;

/**
 * One KRaft broker (combined broker and controller, {@code kafka.Kafka} through {@link BrokerMain}) in a JVM of its
 * own whose only client listener is {@code SASL_PLAINTEXT} with the PLAIN mechanism, and whose authorizer is the
 * {@code StandardAuthorizer} with {@code allow.everyone.if.no.acl.found=false}: a client needs valid credentials and
 * an ACL for everything it does. In a child JVM so that every log line of the test's JVM comes from the clients and
 * relay (the tests count them).
 *
 * <p>Users (PLAIN, in the listener's JAAS config): {@value #ADMIN} (a super user, for the tests' setup and ACLs),
 * {@value #RELAY} and {@value #STRANGER} (authenticated, no ACLs unless a test grants them). The controller listener
 * is PLAINTEXT on a port no test client uses; its principal {@code ANONYMOUS} is a super user so that the broker can
 * talk to its own controller.
 *
 * <p>Not threadsafe: one test thread drives it.
 */
final class SaslBroker implements AutoCloseable {

    static final String ADMIN = "admin";
    static final String RELAY = "relay";
    static final String STRANGER = "stranger";


    private final Path dir;
    private final Path config;
    private final int port;
    private final Map<String, String> passwords;
    private Process process;

    /**
     * Writes the configuration and formats the storage (in this JVM).
     *
     * @param dir the broker's directory
     * @param passwords user → password for {@link #ADMIN}, {@link #RELAY} and {@link #STRANGER}
     */
    SaslBroker(Path dir, Map<String, String> passwords) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.passwords = Map.copyOf(passwords);
        this.port = Jvm.freePort();
        int controller = Jvm.freePort();
        this.config = dir.resolve("broker.properties");
        StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                + ADMIN + "\" password=\"" + passwords.get(ADMIN) + "\"");
        for (Map.Entry<String, String> u : this.passwords.entrySet()) {
            jaas.append(" user_").append(u.getKey()).append("=\"").append(u.getValue()).append('"');
        }
        jaas.append(';');
        Files.writeString(config, String.join("\n", List.of(
                "process.roles=broker,controller",
                "node.id=0",
                "controller.quorum.bootstrap.servers=127.0.0.1:" + controller,
                "listeners=SASL_PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
                "advertised.listeners=SASL_PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=SASL_PLAINTEXT",
                "sasl.enabled.mechanisms=PLAIN",
                "sasl.mechanism.inter.broker.protocol=PLAIN",
                "listener.name.sasl_plaintext.plain.sasl.jaas.config=" + jaas,
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found=false",
                "super.users=User:" + ADMIN + ";User:ANONYMOUS",
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
                "num.io.threads=2")) + "\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = kafka.tools.StorageTool.execute(new String[] {"format", "--standalone", "-t", Uuid.randomUuid().toString(),
            "-c", config.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8));
        if (rc != 0) {
            throw new IOException("formatting " + dir + " failed: " + out.toString(StandardCharsets.UTF_8));
        }
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /**
     * @param user a user name
     * @param password its password (or a wrong one)
     * @return the client properties of a SASL/PLAIN client
     */
    static Map<String, Object> saslClient(String user, String password) {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        p.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
        p.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                + user + "\" password=\"" + password + "\";");
        return p;
    }

    /** @return an admin client of the super user */
    Admin admin() {
        Map<String, Object> p = saslClient(ADMIN, passwords.get(ADMIN));
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return Admin.create(p);
    }

    /** Starts the broker and returns once it answers the super user's metadata request. */
    void start() throws IOException, InterruptedException {
        process = new ProcessBuilder(Jvm.command("512m", BrokerMain.class.getName(),
                        List.of(Long.toString(ProcessHandle.current().pid()), config.toString())))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile()))
                .start();
        Map<String, Object> p = saslClient(ADMIN, passwords.get(ADMIN));
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        BrokerProcess.awaitAnswer(process, dir, p);
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
        return "SaslBroker[" + bootstrapServers() + ", " + dir + "]";
    }
}
