package dev.relay.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.relay.api.Column;
import dev.relay.api.Health;
import dev.relay.api.HealthIssue;
import dev.relay.api.HealthStatus;
import dev.relay.api.LaneSpec;
import dev.relay.api.QueueException;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.kafka.KafkaTaskQueue;
import dev.relay.kafka.KafkaTopics;
import java.nio.file.Path;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Relay against a secured cluster (issue 19): a broker whose only listener is SASL_PLAINTEXT (PLAIN) with the
 * {@code StandardAuthorizer} and {@code allow.everyone.if.no.acl.found=false} ({@link SaslBroker}, one per class).
 * The right user with the ACLs of the README's "Secured clusters" relays everything; a wrong password, no credentials
 * and a user without ACLs each reach a clear state in {@link Relay#health()} within seconds, write a bounded number of
 * log lines a minute (counted by {@link CountingLogs} over a fixed window, {@value #OBSERVE_DEFAULT} by default,
 * {@code -Drelay.secured.observe=PT60S} for a longer one), and never log a password; granting the ACL while the relay
 * runs lets it recover without a restart. The three failure cases run side by side (their log lines are told apart by
 * their group, lane and thread names); each case's figures are printed as a table.
 *
 * <p>Runs in the {@code secured-kafka} surefire execution of this module (the counting log provider); skipped in
 * any other.
 */
class SecuredKafkaTest {

    static final String OBSERVE_DEFAULT = "PT10S";
    /** The observation window of the log counts. */
    static final Duration OBSERVE = Duration.parse(System.getProperty("relay.secured.observe", OBSERVE_DEFAULT));
    /**
     * Most log lines a minute a failure case may write in the window right after it began, when the retries are most
     * frequent (before issue 19: 200,000 to 300,000 a minute). Each attempt costs the Kafka client a dozen lines
     * (making and closing its admin client); relay's own lines are one per cause and minute.
     */
    static final double MAX_LINES_PER_MINUTE = 200;
    static final Duration EVENTUALLY = Duration.ofSeconds(60);

    static final String SALT = UUID.randomUUID().toString().substring(0, 8);
    static final String ADMIN_PASSWORD = "admin-secret-" + SALT;
    static final String RELAY_PASSWORD = "relay-secret-" + SALT;
    static final String STRANGER_PASSWORD = "stranger-secret-" + SALT;
    static final String WRONG_PASSWORD = "wrong-secret-" + SALT;
    static final List<String> SECRETS = List.of(ADMIN_PASSWORD, RELAY_PASSWORD, STRANGER_PASSWORD, WRONG_PASSWORD);

    /** Every lane topic of these tests: the relay user's ACLs are on this prefix. */
    static final String PREFIX = "sec.";
    /** Every group of these tests starts so: the relay user's group ACL is on this prefix. */
    static final String GROUP_PREFIX = "sec-";

    static SaslBroker broker;
    static final RowSchema SCHEMA = RowSchema.of(new Column("N", JDBCType.INTEGER));

    /** What a failure case showed, for its test and the table. */
    record Observation(String name, HealthIssue.Kind kind, long startMillis, long clearMillis, Health health, long lines,
            double linesPerMinute, boolean recovered, long recoveryMillis) {
    }

    private static Map<String, Observation> observed;

    @BeforeAll
    static void startBroker() throws Exception {
        Assumptions.assumeTrue(CountingLogs.active(), "runs in the secured-kafka surefire execution (counting log provider)"
                + " only");
        broker = new SaslBroker(Path.of("target", "sasl-broker-" + SALT).toAbsolutePath(), Map.of(SaslBroker.ADMIN,
                ADMIN_PASSWORD, SaslBroker.RELAY, RELAY_PASSWORD, SaslBroker.STRANGER, STRANGER_PASSWORD));
        broker.start();
        grant(SaslBroker.RELAY, GROUP_PREFIX);
    }

    @AfterAll
    static void stopBroker() {
        if (observed != null) {
            System.out.printf("%-16s %-22s %12s %16s %10s %14s %12s%n", "case", "clear state", "start() ms",
                    "to clear state ms", "lines", "lines/min", "recovery ms");
            for (Observation o : observed.values()) {
                System.out.printf("%-16s %-22s %12d %16d %10d %14.1f %12s%n", o.name(), o.kind(), o.startMillis(),
                        o.clearMillis(), o.lines(), o.linesPerMinute(), o.recovered() ? Long.toString(o.recoveryMillis()) : "-");
            }
            System.out.printf("(lines counted over %s after the clear state, at INFO and above, Kafka clients and relay)%n",
                    OBSERVE);
        }
        if (broker != null) {
            broker.close();
        }
    }

    /** Grants a user what relay needs: topics by prefix {@value #PREFIX}, its group(s) by prefix. */
    static void grant(String user, String groupPrefix) throws Exception {
        List<AclBinding> acls = new ArrayList<>();
        ResourcePattern topics = new ResourcePattern(ResourceType.TOPIC, PREFIX, PatternType.PREFIXED);
        for (AclOperation op : List.of(AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE,
                AclOperation.DESCRIBE_CONFIGS)) {
            acls.add(new AclBinding(topics, new AccessControlEntry("User:" + user, "*", op, AclPermissionType.ALLOW)));
        }
        acls.add(new AclBinding(new ResourcePattern(ResourceType.GROUP, groupPrefix, PatternType.PREFIXED),
                new AccessControlEntry("User:" + user, "*", AclOperation.READ, AclPermissionType.ALLOW)));
        try (Admin admin = broker.admin()) {
            admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
        }
    }

    // ------------------------------------------------------------------ the right user

    @Test
    void rightUserWithAcls_relaysRetriesAndDeadLetters_healthUp_noPasswordLogged() throws Exception {
        long logStart = System.nanoTime();
        Map<String, Object> client = SaslBroker.saslClient(SaslBroker.RELAY, RELAY_PASSWORD);
        Set<String> done = ConcurrentHashMap.newKeySet();
        Set<String> deadLettered = ConcurrentHashMap.newKeySet();
        AtomicInteger flakyAttempts = new AtomicInteger();
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            tasks.add(task("flow", i));
        }
        String flaky = tasks.get(4).id();
        String poison = tasks.get(5).id();
        Sink sink = (task, schema) -> new SinkSession() {
            @Override
            public void write(List<Row> rows) {
                if (task.id().equals(poison) || task.id().equals(flaky) && flakyAttempts.incrementAndGet() == 1) {
                    throw new IllegalStateException("refused by the test sink");
                }
            }

            @Override
            public void commit() {
                done.add(task.id());
            }

            @Override
            public void abort() {
            }

            @Override
            public void close() {
            }
        };
        KafkaTaskQueue queue = queue("flow", client, Duration.ofSeconds(1), Duration.ofSeconds(30));
        Relay relay = relay("flow", queue, sink, new RelayListener() {
            @Override
            public void deadLettered(Task task, Instant at, String reason) {
                deadLettered.add(task.id());
            }
        });
        try {
            relay.start();
            queue.offerAll(tasks);
            await(() -> done.size() == 5 && deadLettered.contains(poison), "five tasks done and the poison dead-lettered: "
                    + done.size() + " done, dead letters " + deadLettered);
            assertTrue(done.contains(flaky), "the flaky task completed on its retry");
            assertTrue(flakyAttempts.get() >= 2, "the flaky task was retried");
            assertTrue(queue.flush(Duration.ofSeconds(30)), "offsets committed");
            await(() -> relay.health().status() == HealthStatus.UP, "health UP: " + relay.health());
        } finally {
            relay.shutdown(Duration.ofSeconds(10));
            queue.close();
        }
        assertNoSecret(CountingLogs.since(logStart));
    }

    // ------------------------------------------------------------------ one set of client properties for all

    /**
     * Every Kafka client relay makes takes the same client properties, given as a map: here the SASL credentials
     * (without which no client gets in) and a {@link RecordingReporter} that names each client configured with them.
     */
    @Test
    void clientPropertiesMap_reachesEveryClientRelayMakes() throws Exception {
        Map<String, Object> client = new HashMap<>(SaslBroker.saslClient(SaslBroker.RELAY, RELAY_PASSWORD));
        client.put("metric.reporters", RecordingReporter.class.getName());
        try (Admin admin = broker.admin()) {
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TRANSACTIONAL_ID, GROUP_PREFIX,
                    PatternType.PREFIXED), new AccessControlEntry("User:" + SaslBroker.RELAY, "*", AclOperation.WRITE,
                    AclPermissionType.ALLOW)))).all().get(30, TimeUnit.SECONDS);
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(PREFIX + "legacy", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        // the queue: consumer at build, admin at subscribe, producer at the first offer
        try (KafkaTaskQueue q = KafkaTaskQueue.builder().bootstrapServers(broker.bootstrapServers())
                .groupId(GROUP_PREFIX + "props").clientId("props-queue").createTopics(true)
                .topics(KafkaTopics.builder().prefix(PREFIX + "props.").partitions(1).replicationFactor(1).build())
                .clientProperties(client).build()) {
            q.subscribe(Set.of("props"));
            q.offer(task("props", 1));
        }
        assertEquals(Set.of("consumer", "producer", "admin"), RecordingReporter.kinds("props-queue"));
        // the layout migration: its transactional producer, its consumer, its admin (it creates the lane topics)
        dev.relay.kafka.LayoutMigration.Result moved = dev.relay.kafka.LayoutMigration.builder()
                .bootstrapServers(broker.bootstrapServers()).sourceTopic(PREFIX + "legacy")
                .topics(KafkaTopics.builder().prefix(PREFIX + "migrated.").partitions(1).replicationFactor(1).build())
                .router(Task::lane).groupId(GROUP_PREFIX + "migration").transactionalId(GROUP_PREFIX + "migration")
                .createTopics(true).clientProperties(client).clientProperty("client.id", "props-migration").build().run();
        assertEquals(0, moved.migrated(), "the legacy topic is empty");
        assertEquals(Set.of("consumer", "producer", "admin"), RecordingReporter.kinds("props-migration"),
                "the migration's clients: " + RecordingReporter.CLIENTS);
        // the hand-off sink (a transactional producer per slot) and source (its consumer and dead-letter producer)
        dev.relay.handoff.HandoffTopics handoffTopics = dev.relay.handoff.HandoffTopics.builder().prefix(PREFIX + "handoff.")
                .partitions(1).replicationFactor(1).build();
        try (dev.relay.handoff.HandoffSink sink = dev.relay.handoff.HandoffSink.builder()
                .bootstrapServers(broker.bootstrapServers()).transactionalIdPrefix(GROUP_PREFIX + "handoff-sink")
                .topics(handoffTopics).producers(1).clientProperties(client).build()) {
            sink.start();
        }
        assertTrue(RecordingReporter.kinds(GROUP_PREFIX + "handoff-sink").contains("producer"), RecordingReporter.CLIENTS.toString());
        int before = RecordingReporter.CLIENTS.values().stream().mapToInt(Set::size).sum();
        try (dev.relay.handoff.HandoffSource source = dev.relay.handoff.HandoffSource.builder()
                .bootstrapServers(broker.bootstrapServers()).groupId(GROUP_PREFIX + "handoff-source").topics(handoffTopics)
                .clientProperties(client).build()) {
            assertNotNull(source.queue());
        }
        assertTrue(RecordingReporter.CLIENTS.values().stream().mapToInt(Set::size).sum() >= before + 2,
                "the hand-off source's consumer and producer: "
                + RecordingReporter.CLIENTS);
        // the cluster-wide source permits: their consumer and admin (which creates the permits topic)
        dev.relay.kafka.permits.KafkaSourcePermits permits = dev.relay.kafka.permits.KafkaSourcePermits.builder()
                .bootstrapServers(broker.bootstrapServers()).groupId(GROUP_PREFIX + "permits").topic(PREFIX + "permits")
                .permits(1).createTopic(true, 1).clientId("props-permits").startTimeout(Duration.ofSeconds(60))
                .clientProperties(client).build();
        try {
            permits.start(new dev.relay.api.PermitHolder() {
                @Override
                public void granted(int permit) {
                }

                @Override
                public void revoked(int permit, Duration grace, Runnable giveBack) {
                    giveBack.run();
                }

                @Override
                public void lost(int permit) {
                }
            });
        } finally {
            permits.close();
        }
        assertEquals(Set.of("consumer", "admin"), RecordingReporter.kinds("props-permits"), RecordingReporter.CLIENTS.toString());
    }

    // ------------------------------------------------------------------ the failure cases

    @Test
    void wrongPassword_clearStateWithinSeconds_fewLinesPerMinute_noSecret() {
        Observation o = observations().get("wrongpw");
        assertEquals(HealthIssue.Kind.AUTHENTICATION_FAILED, o.kind());
        String message = o.health().issuesOf("kafka-admin").get(0).message();
        assertTrue(message.contains("sasl.jaas.config") && message.contains(broker.bootstrapServers()), message);
        assertBounded(o);
    }

    @Test
    void noCredentials_clearStateNamingTheLikelyCauseAndTheAddress_fewLinesPerMinute() {
        Observation o = observations().get("nocreds");
        assertEquals(HealthIssue.Kind.QUEUE_UNREACHABLE, o.kind());
        String message = o.health().issuesOf("kafka-admin").get(0).message();
        assertTrue(message.contains(broker.bootstrapServers()) && message.contains("security.protocol PLAINTEXT"), message);
        assertBounded(o);
    }

    @Test
    void unauthorizedUser_clearState_fewLinesPerMinute_recoversWhenTheAclIsGranted() {
        Observation o = observations().get("stranger");
        assertEquals(HealthIssue.Kind.AUTHORIZATION_FAILED, o.kind());
        assertBounded(o);
        assertTrue(o.recovered(), "the relay relayed a task after the ACL was granted, without a restart");
    }

    private static void assertBounded(Observation o) {
        assertTrue(o.health().status() == HealthStatus.DOWN, o.health().toString());
        assertFalse(o.health().issuesOf(HealthIssue.QUEUE).isEmpty(), "the refused subscription is reported: " + o.health());
        assertTrue(o.linesPerMinute() <= MAX_LINES_PER_MINUTE, o.name() + ": " + o.lines() + " lines in " + OBSERVE
                + " = " + o.linesPerMinute() + " a minute");
        assertNoSecret(CountingLogs.events(e -> true));
    }

    private static void assertNoSecret(List<CountingLogs.Event> events) {
        for (CountingLogs.Event e : events) {
            for (String secret : SECRETS) {
                if (e.contains(secret)) {
                    fail("a password was logged by " + e.logger() + ": " + e.text());
                }
            }
        }
    }

    /** Runs the three failure cases side by side, once for the class. */
    private static synchronized Map<String, Observation> observations() {
        if (observed == null) {
            try {
                observed = runFailureCases();
            } catch (Exception e) {
                throw new IllegalStateException("the failure cases did not run", e);
            }
        }
        return observed;
    }

    private static Map<String, Observation> runFailureCases() throws Exception {
        Map<String, Map<String, Object>> clients = new java.util.LinkedHashMap<>();
        clients.put("wrongpw", SaslBroker.saslClient(SaslBroker.RELAY, WRONG_PASSWORD));
        clients.put("nocreds", Map.of());
        clients.put("stranger", SaslBroker.saslClient(SaslBroker.STRANGER, STRANGER_PASSWORD));
        Map<String, HealthIssue.Kind> expected = Map.of("wrongpw", HealthIssue.Kind.AUTHENTICATION_FAILED, "nocreds",
                HealthIssue.Kind.QUEUE_UNREACHABLE, "stranger", HealthIssue.Kind.AUTHORIZATION_FAILED);
        Map<String, KafkaTaskQueue> queues = new HashMap<>();
        Map<String, Relay> relays = new HashMap<>();
        Map<String, Long> startMillis = new HashMap<>();
        Map<String, Long> t0 = new HashMap<>();
        Map<String, Long> clear = new HashMap<>();
        Map<String, Health> health = new HashMap<>();
        Set<String> done = ConcurrentHashMap.newKeySet();
        Sink sink = recording(done);
        try {
            for (String name : clients.keySet()) {
                // the default backoff (5 s doubling to 60 s), except the unauthorized case, which must recover within the
                // test (5 s, not doubling)
                Duration max = name.equals("stranger") ? Duration.ofSeconds(5) : Duration.ofSeconds(60);
                KafkaTaskQueue q = queue(name, clients.get(name), Duration.ofSeconds(5), max);
                queues.put(name, q);
                Relay r = relay(name, q, sink, RelayListener.NONE);
                relays.put(name, r);
                long s = System.nanoTime();
                t0.put(name, s);
                r.start();
                startMillis.put(name, (System.nanoTime() - s) / 1_000_000);
                checkClear(name, r, expected.get(name), clear, health); // start() returns at once; the subscription follows
            }
            long deadline = System.nanoTime() + EVENTUALLY.toNanos();
            while (clear.size() < clients.size() && System.nanoTime() < deadline) {
                for (String name : clients.keySet()) {
                    checkClear(name, relays.get(name), expected.get(name), clear, health);
                }
                Thread.sleep(20);
            }
            for (String name : clients.keySet()) {
                assertNotNull(clear.get(name), name + " reached no clear state within " + EVENTUALLY + ": "
                        + relays.get(name).health());
            }
            long from = clear.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            Thread.sleep(OBSERVE.toMillis());
            long to = System.nanoTime();
            List<CountingLogs.Event> window = CountingLogs.events(e -> e.nanos() - from >= 0 && to - e.nanos() >= 0);
            // the stranger is granted its ACLs now, while its relay runs
            long grantAt = System.nanoTime();
            grant(SaslBroker.STRANGER, GROUP_PREFIX + "stranger");
            Task t = task("stranger", 1);
            boolean recovered = offerUntilAccepted(queues.get("stranger"), t)
                    && awaitQuietly(() -> done.contains(t.id()), EVENTUALLY);
            long recoveryMillis = (System.nanoTime() - grantAt) / 1_000_000;
            if (recovered) {
                awaitQuietly(() -> relays.get("stranger").health().status() == HealthStatus.UP, EVENTUALLY);
            }
            Map<String, Observation> out = new java.util.LinkedHashMap<>();
            long attributed = 0;
            for (String name : clients.keySet()) {
                Predicate<CountingLogs.Event> mine = e -> e.text().contains(name) || e.thread().contains(name);
                long lines = window.stream().filter(mine).count();
                attributed += lines;
                double perMinute = lines * 60_000.0 / ((to - from) / 1_000_000.0);
                out.put(name, new Observation(name, expected.get(name), startMillis.get(name),
                        (clear.get(name) - t0.get(name)) / 1_000_000, health.get(name), lines, perMinute,
                        name.equals("stranger") && recovered, recoveryMillis));
            }
            long unattributed = window.size() - attributed;
            if (unattributed > 0) {
                System.out.println(unattributed + " line(s) of the window belong to no case:");
                window.stream().filter(e -> clients.keySet().stream().noneMatch(n -> e.text().contains(n)
                        || e.thread().contains(n))).limit(20).forEach(e -> System.out.println("  [" + e.thread() + "] "
                        + e.logger() + " " + e.text().lines().findFirst().orElse("")));
            }
            return out;
        } finally {
            for (String name : clients.keySet()) {
                Relay r = relays.get(name);
                if (r != null) {
                    r.shutdown(Duration.ofSeconds(5));
                }
                KafkaTaskQueue q = queues.get(name);
                if (q != null) {
                    q.close();
                }
            }
        }
    }

    /** Records when a relay's health first shows its case's clear state: the admin client's kind and the queue down. */
    private static void checkClear(String name, Relay r, HealthIssue.Kind kind, Map<String, Long> clear,
            Map<String, Health> health) {
        if (clear.containsKey(name)) {
            return;
        }
        Health h = r.health();
        if (h.issues().stream().anyMatch(i -> i.kind() == kind && i.component().equals("kafka-admin"))
                && !h.issuesOf(HealthIssue.QUEUE).isEmpty()) {
            clear.put(name, System.nanoTime());
            health.put(name, h);
        }
    }

    private static boolean offerUntilAccepted(KafkaTaskQueue q, Task t) throws InterruptedException {
        long deadline = System.nanoTime() + EVENTUALLY.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                q.offer(t);
                return true;
            } catch (QueueException e) {
                Thread.sleep(200); // still backing off, or the grant has not reached the broker's authorizer yet
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ helpers

    static KafkaTaskQueue queue(String name, Map<String, Object> client, Duration backoff, Duration backoffMax) {
        return KafkaTaskQueue.builder().bootstrapServers(broker.bootstrapServers()).groupId(GROUP_PREFIX + name)
                .topics(KafkaTopics.builder().prefix(PREFIX + name + ".").partitions(1).replicationFactor(1).build())
                .createTopics(true).adminTimeout(Duration.ofSeconds(5)).offerTimeout(Duration.ofSeconds(10))
                .revocationTimeout(Duration.ofSeconds(5)).commitInterval(Duration.ofMillis(200))
                .failureBackoff(backoff, backoffMax).clientProperties(client).clientProperty("session.timeout.ms", "6000")
                .clientProperty("heartbeat.interval.ms", "500").build();
    }

    static Relay relay(String name, KafkaTaskQueue queue, Sink sink, RelayListener listener) {
        AtomicInteger n = new AtomicInteger();
        return Relay.builder().name("sec-" + name).queue(queue)
                .puller(task -> RowCursor.of(SCHEMA, List.of(Row.of(SCHEMA, 1)), 10))
                .lane(LaneSpec.builder(name).retryPolicy(RetryPolicy.builder().maxAttempts(2)
                        .initialDelay(Duration.ofMillis(100)).maxDelay(Duration.ofMillis(200)).build()).build(), sink)
                .sourcePermits(2).idlePollInterval(Duration.ofMillis(100)).shutdownTimeout(Duration.ofSeconds(5))
                .listener(listener).threadFactory(r -> {
                    Thread t = new Thread(r, "relay-" + name + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }).build();
    }

    static Sink recording(Set<String> done) {
        return (task, schema) -> new SinkSession() {
            @Override
            public void write(List<Row> rows) {
            }

            @Override
            public void commit() {
                done.add(task.id());
            }

            @Override
            public void abort() {
            }

            @Override
            public void close() {
            }
        };
    }

    static Task task(String lane, int i) {
        return Task.window(lane, "sec.source", Window.starting(LocalDateTime.of(2026, 1, 1, 0, 0).plusMinutes(10L * i),
                Duration.ofMinutes(10)));
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        if (!awaitQuietly(condition, EVENTUALLY)) {
            fail("not within " + EVENTUALLY + ": " + what);
        }
    }

    static boolean awaitQuietly(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}
