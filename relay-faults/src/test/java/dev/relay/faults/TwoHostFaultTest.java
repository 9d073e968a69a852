package dev.relay.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.handoff.HandoffFormat;
import dev.relay.handoff.HandoffSink;
import dev.relay.handoff.HandoffTopics;
import dev.relay.handoff.Manifest;
import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two hosts, end to end (issue 11): a puller-host relay ({@link PullerHostChild}: planner, Kafka task queue, JDBC
 * puller on a PostgreSQL source, hand-off sink) and an uploader-host relay ({@link UploaderHostChild}: hand-off source,
 * window and snapshot sinks on a PostgreSQL warehouse), each in a JVM of its own, over a broker in a third, run several
 * simulated days of 10-minute windows and daily config snapshots while a seeded plan kills -9 the puller host, the
 * uploader host and the broker, at least 10 times each. Then every window's rows must be in the warehouse exactly
 * once (count and checksum per window against the source), the config tables equal, and every load must come from a
 * committed hand-off (the uploader's audit of the deliveries it loaded against the data topics read
 * {@code read_committed}; aborted hand-offs are counted read_uncommitted). A second test hands one task of 200 MB
 * through to an uploader in {@code -Xmx64m}.
 *
 * <p>Seed: {@code -Drelay.faults.seed=N}; faults per kind: {@code -Drelay.handoff.faults=N} (default 10); soak:
 * {@code -Drelay.handoff.soak=PT30M} repeats the fault scenario with fresh seeds. PostgreSQL as in the fault suite.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoHostFaultTest {

    static final int DAYS = 2;
    static final List<String> DISTRICTS = List.of("D3", "D4");
    static final int PERMITS = 2;
    /** The real-time last day passes in this many real seconds (the faults land while windows keep arriving). */
    static final int LAST_DAY_SECONDS = 30;
    static final int FAULTS_PER_KIND = Integer.getInteger("relay.handoff.faults", 10);
    /** How long the relays may take to finish after the last fault (generous: the machine is shared). */
    static final Duration SCENARIO_TIMEOUT = Duration.ofMinutes(5);
    /** Rows of the bounded-memory task: about 2 KB each, 200 MB in all. */
    static final int BIG_ROWS = 100_000;

    enum Fault { PULLER_KILL, UPLOADER_KILL, BROKER_KILL }

    private static final long SEED = Long.getLong("relay.faults.seed", new SplittableRandom().nextLong());
    private static final List<String> TABLE = new ArrayList<>();
    private static Path workDir;
    private static BrokerProcess broker;

    @BeforeAll
    static void startBroker() throws Exception {
        System.out.printf("[two-hosts] seed %d (replay with -Drelay.faults.seed=%d)%n", SEED, SEED);
        FaultSuite.requirePostgres();
        workDir = Files.createTempDirectory("relay-two-hosts");
        broker = new BrokerProcess(workDir.resolve("broker"));
        broker.start();
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
        if (!TABLE.isEmpty()) {
            System.out.println(String.join("\n", TABLE));
        }
    }

    @Test
    @Order(1)
    void bigTask_200MB_throughAnUploaderInXmx64m_rowsAndChecksumIntact() throws Exception {
        String prefix = "m" + UUID.randomUUID().toString().substring(0, 6) + ".";
        HandoffTopics topics = HandoffTopics.builder().prefix(prefix).partitions(1).build();
        try (Admin admin = FaultSuite.admin(broker.bootstrapServers())) {
            topics.create(admin, List.of("backfill"), Duration.ofSeconds(60));
        }
        Path result = workDir.resolve("big-task.result");
        Process uploader = new ProcessBuilder(Jvm.command("64m", BigTaskUploaderChild.class.getName(), List.of(broker.bootstrapServers(),
                prefix, "big-" + prefix, result.toString(), Long.toString(ProcessHandle.current().pid()))))
                .redirectErrorStream(true).redirectOutput(workDir.resolve("big-task-uploader.log").toFile()).start();
        long t0 = System.nanoTime();
        CRC32C expected = new CRC32C();
        long bytes;
        try (HandoffSink sink = HandoffSink.builder().bootstrapServers(broker.bootstrapServers()).transactionalIdPrefix("big-" + prefix)
                .topics(topics).producers(1).transactionTimeout(Duration.ofMinutes(5)).build()) {
            Task task = Task.builder("backfill", "vds30sec").scope(Window.starting(LocalDateTime.of(2024, 3, 14, 10, 0),
                    Duration.ofMinutes(10))).parameter("district", "D4").build();
            try (SinkSession session = sink.open(task, BigTask.SCHEMA)) {
                List<dev.relay.api.Row> batch = new ArrayList<>(1_000);
                for (int i = 0; i < BIG_ROWS; i++) {
                    dev.relay.api.Row r = BigTask.row(SEED, i);
                    BigTask.hash(expected, r);
                    batch.add(r);
                    if (batch.size() == 1_000) {
                        session.write(batch);
                        batch = new ArrayList<>(1_000);
                    }
                }
                session.write(batch);
                session.commit();
            }
            bytes = 0;
            // commitTransaction returns once the coordinator has prepared the commit; the markers that move the partition's
            // last stable offset are written after that, so a read_committed reader may see nothing for a moment.
            List<ConsumerRecord<byte[], byte[]>> manifests = List.of();
            long visibleBy = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (manifests.isEmpty() && System.nanoTime() < visibleBy) {
                manifests = readAll(topics.tasksTopic("backfill"), "read_committed");
                if (manifests.isEmpty()) {
                    Thread.sleep(200);
                }
            }
            assertEquals(1, manifests.size(), "manifests visible to a read_committed reader within 60 s");
            for (ConsumerRecord<byte[], byte[]> r : manifests) {
                Manifest m = HandoffFormat.decodeManifest(r.value());
                bytes = m.payloadBytes();
                assertEquals(BIG_ROWS, m.rowCount());
            }
        }
        assertTrue(bytes >= 200_000_000L, "the task is " + bytes + " bytes");
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (!Files.exists(result)) {
            assertTrue(uploader.isAlive(), "the uploader exited: " + ChildRelay.tail(workDir.resolve("big-task-uploader.log"), 40));
            assertTrue(System.nanoTime() < deadline, "no result within 3 minutes");
            Thread.sleep(100);
        }
        uploader.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(result)) {
            p.load(r);
        }
        long seconds = Duration.ofNanos(System.nanoTime() - t0).toSeconds();
        String line = String.format(Locale.ROOT, "[two-hosts] one task of %,d bytes (%,d rows) through an uploader in -Xmx64m"
                + " (max heap %,d): peak heap used %,d bytes, old generation peak %,d bytes; %d s; retries %s",
                bytes, BIG_ROWS, Long.parseLong(p.getProperty("maxHeap")), Long.parseLong(p.getProperty("peakHeapUsed")),
                Long.parseLong(p.getProperty("peakOldGen")), seconds, p.getProperty("retried"));
        System.out.println(line);
        TABLE.add(line);
        assertEquals("1", p.getProperty("completed"));
        assertEquals("0", p.getProperty("retried"), "the load failed at least once (out of memory?): " + p);
        assertEquals(Long.toString(BIG_ROWS), p.getProperty("rows"));
        assertEquals(Long.toString(expected.getValue()), p.getProperty("crc"), "checksum of the rows loaded");
        assertTrue(Long.parseLong(p.getProperty("maxHeap")) <= 64L * 1024 * 1024);
    }

    @Test
    @Order(2)
    void twoHosts_pullerUploaderAndBrokerKilled_everyWindowOnce_noAbortedRowsLoaded() throws Exception {
        verify(run("two-hosts", SEED + 11));
    }

    @Test
    @Order(3)
    void soak_twoHosts_untilTimeIsUp() throws Exception {
        String soak = System.getProperty("relay.handoff.soak");
        org.junit.jupiter.api.Assumptions.assumeTrue(soak != null && !soak.isBlank(),
                "soak mode is off; run with -Drelay.handoff.soak=PT30M");
        long end = System.nanoTime() + Duration.parse(soak.trim()).toNanos();
        for (int i = 0; System.nanoTime() < end; i++) {
            verify(run("soak-" + i, SEED + 100 + i));
        }
    }

    record Result(String scenario, long tasks, long rows, FaultSuite.Check check, Map<Fault, Integer> injected,
            int midTask, long abortedHandoffs, long loads, long loadsNotCommitted, long seconds, long seed) {
    }

    private static void verify(Result r) {
        String where = r.scenario() + " (seed " + r.seed() + ")";
        assertEquals(0, r.check().lostWindows(), where + ": windows lost");
        assertEquals(0, r.check().duplicatedWindows(), where + ": windows duplicated");
        assertEquals(0, r.check().mismatchedWindows(), where + ": windows whose checksum differs");
        assertEquals(r.check().sourceRows(), r.check().sinkRows(), where + ": rows");
        assertEquals(0, r.check().configDiffs(), where + ": config rows that differ from the source");
        assertEquals(0, r.loadsNotCommitted(), where + ": loads of deliveries that never committed");
        for (Fault f : Fault.values()) {
            assertTrue(r.injected().getOrDefault(f, 0) >= FAULTS_PER_KIND, where + ": only " + r.injected() + " faults");
        }
    }

    private static Result run(String name, long seed) throws Exception {
        long t0 = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        String tag = name.replace('-', '_') + "_" + UUID.randomUUID().toString().substring(0, 6);
        String src = "twohost_src_" + tag;
        String sink = "twohost_sink_" + tag;
        String state = "twohost_state_" + tag;
        Path dir = Files.createDirectories(workDir.resolve(tag));
        FaultSuite.createSchemas(src, sink, DISTRICTS, FaultSuiteTest.DAY0, DAYS, seed);
        try (Connection c = FaultSuite.dataSource(null).getConnection(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + state + " CASCADE");
            s.execute("CREATE SCHEMA " + state);
        }
        JdbcCompletionLedger.builder(Jdbi.create(FaultSuite.dataSource(state))).table(FaultSuite.LEDGER_TABLE).build()
                .createTableIfNotExists();
        String prefix = "h." + tag + ".";
        FaultSuite.createTopics(broker.bootstrapServers(), RelayChild.topics(prefix));
        HandoffTopics handoffTopics = PullerHostChild.handoffTopics(prefix);
        try (Admin admin = FaultSuite.admin(broker.bootstrapServers())) {
            handoffTopics.create(admin, RelayChild.LANES, Duration.ofSeconds(60));
        }
        long expectedTasks = (long) DAYS * 144 * DISTRICTS.size() + Math.min(DAYS, 2L) * RelayChild.CONFIG_TABLES.size();
        Properties p = FaultSuite.pgProperties();
        p.setProperty("bootstrap", broker.bootstrapServers());
        p.setProperty("prefix", prefix);
        p.setProperty("group", "twohost-" + tag);
        p.setProperty("src.schema", src);
        p.setProperty("sink.schema", sink);
        p.setProperty("state.schema", state);
        p.setProperty("districts", String.join(",", DISTRICTS));
        p.setProperty("day0", FaultSuiteTest.DAY0.toString());
        p.setProperty("days", Integer.toString(DAYS));
        p.setProperty("permits", Integer.toString(PERMITS));
        p.setProperty("seed", Long.toString(seed));
        p.setProperty("speed", Double.toString(86_400.0 / LAST_DAY_SECONDS));
        Path runProperties = dir.resolve("run.properties");
        try (Writer w = Files.newBufferedWriter(runProperties)) {
            p.store(w, "two-host scenario " + name + ", seed " + seed);
        }
        List<Fault> plan = new ArrayList<>();
        for (Fault f : Fault.values()) {
            for (int i = 0; i < FAULTS_PER_KIND; i++) {
                plan.add(f);
            }
        }
        Collections.shuffle(plan, new java.util.Random(seed));
        Map<Fault, Integer> injected = new java.util.EnumMap<>(Fault.class);
        int midTask = 0;
        ChildRelay.Lives lives = new ChildRelay.Lives();
        ChildRelay puller = new ChildRelay("puller", runProperties, dir, lives, PullerHostChild.class.getName(), "320m");
        ChildRelay uploader = new ChildRelay("uploader", runProperties, dir, lives, UploaderHostChild.class.getName(), "256m");
        FaultSuite.Check check;
        try {
            puller.start();
            uploader.start();
            // faults are spread over the run by progress, not by the clock (the machine may be slow): before each, the
            // warehouse must have loaded a few more tasks since the last one (or all of them)
            long stride = Math.max(2, expectedTasks / (plan.size() + 10));
            long last = 0;
            for (Fault f : plan) {
                long waitUntil = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                long done;
                while ((done = FaultSuite.ledgerCompleted(sink)) < Math.min(expectedTasks, last + stride + random.nextInt((int) stride))
                        && System.nanoTime() < waitUntil) {
                    puller.checkAlive();
                    uploader.checkAlive();
                    Thread.sleep(50);
                }
                last = done;
                switch (f) {
                    case PULLER_KILL -> midTask += kill(puller);
                    case UPLOADER_KILL -> midTask += kill(uploader);
                    case BROKER_KILL -> {
                        broker.kill();
                        Thread.sleep(200 + random.nextInt(800));
                        broker.start();
                    }
                    default -> throw new AssertionError(f);
                }
                injected.merge(f, 1, Integer::sum);
            }
            long deadline = System.nanoTime() + SCENARIO_TIMEOUT.toNanos();
            while (true) {
                puller.checkAlive();
                uploader.checkAlive();
                if (FaultSuite.ledgerCompleted(sink) >= expectedTasks) {
                    check = FaultSuite.check(src, sink, DISTRICTS);
                    if (check.exact()) {
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    System.out.printf("[two-hosts] %s timed out: %d of %d tasks loaded%n", name, FaultSuite.ledgerCompleted(sink),
                            expectedTasks);
                    break;
                }
                Thread.sleep(200);
            }
            puller.stop();
            uploader.stop();
        } finally {
            puller.close();
            uploader.close();
        }
        check = FaultSuite.check(src, sink, DISTRICTS);
        // the audit: every delivery the uploader loaded committed; count the hand-offs that were aborted
        Set<String> committed = new HashSet<>();
        Set<String> all = new HashSet<>();
        for (String lane : RelayChild.LANES) {
            for (ConsumerRecord<byte[], byte[]> r : readAll(handoffTopics.dataTopic(lane), "read_committed")) {
                manifestOrNull(r.value(), committed);
            }
            for (ConsumerRecord<byte[], byte[]> r : readAll(handoffTopics.dataTopic(lane), "read_uncommitted")) {
                all.add(delivery(r.value()));
            }
        }
        all.removeAll(committed);
        List<String> loads = Files.exists(dir.resolve("uploader.loads"))
                ? Files.readAllLines(dir.resolve("uploader.loads"), StandardCharsets.UTF_8) : List.of();
        long notCommitted = loads.stream().filter(l -> !committed.contains(l)).count();
        Result result = new Result(name, expectedTasks, check.sinkRows(), check, injected, midTask, all.size(), loads.size(),
                notCommitted, Duration.ofNanos(System.nanoTime() - t0).toSeconds(), seed);
        String table = table(result);
        System.out.println(table);
        TABLE.add(table);
        if (check.exact() && notCommitted == 0) {
            FaultSuite.dropSchemas(src, sink, state);
        } else {
            System.out.printf("[two-hosts] %s kept schemas %s, %s, %s and logs in %s%n", name, src, sink, state, dir);
        }
        return result;
    }

    /** kill -9 (mid-task if it gets one within 3 s) and restart at once; @return 1 if it had tasks in flight */
    private static int kill(ChildRelay child) throws IOException, InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        long inFlight = Long.parseLong(child.status().getProperty("inFlight", "0"));
        while (inFlight == 0 && System.nanoTime() < until) {
            Thread.sleep(10);
            inFlight = Long.parseLong(child.status().getProperty("inFlight", "0"));
        }
        child.kill();
        child.start();
        return inFlight > 0 ? 1 : 0;
    }

    private static void manifestOrNull(byte[] value, Set<String> committed) {
        if (isManifest(value)) {
            Manifest m = HandoffFormat.decodeManifest(value);
            committed.add(m.task().id() + " " + m.delivery());
        }
    }

    private static boolean isManifest(byte[] value) {
        long fp = 0;
        for (int i = 0; i < 8; i++) {
            fp |= (value[2 + i] & 0xffL) << (8 * i);
        }
        return fp == HandoffFormat.manifestFingerprint();
    }

    /** @return "task delivery" of a chunk or manifest record */
    private static String delivery(byte[] value) {
        if (isManifest(value)) {
            Manifest m = HandoffFormat.decodeManifest(value);
            return m.task().id() + " " + m.delivery();
        }
        try {
            BinaryDecoder in = DecoderFactory.get().binaryDecoder(value, 10, value.length - 10, null);
            return in.readString() + " " + in.readString();
        } catch (IOException e) {
            throw new AssertionError("a data record that is neither a chunk nor a manifest", e);
        }
    }

    static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo pi : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                parts.add(new TopicPartition(topic, pi.partition()));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                boolean done = true;
                for (TopicPartition tp : parts) {
                    done &= c.position(tp, Duration.ofSeconds(30)) >= end.get(tp);
                }
                if (done) {
                    return out;
                }
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            throw new AssertionError("could not read " + topic + " to its end within 60 s");
        }
    }

    static String table(Result r) {
        String format = "| %-10s | %5s | %6s | %4s | %10s | %-34s | %9s | %-24s | %4s |%n";
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, format, "scenario", "tasks", "rows", "lost", "duplicated",
                "kill -9: puller / uploader / broker", "mid-task", "aborted hand-offs (loaded)", "secs"));
        out.append(String.format(Locale.ROOT, format, "-".repeat(10), "-".repeat(5), "-".repeat(6), "-".repeat(4), "-".repeat(10),
                "-".repeat(34), "-".repeat(9), "-".repeat(24), "-".repeat(4)));
        out.append(String.format(Locale.ROOT, format, r.scenario(), r.tasks(), r.rows(), r.check().lostWindows(),
                r.check().duplicatedWindows() + (r.check().mismatchedWindows() > 0 ? " (" + r.check().mismatchedWindows() + " differ)" : ""),
                r.injected().getOrDefault(Fault.PULLER_KILL, 0) + " / " + r.injected().getOrDefault(Fault.UPLOADER_KILL, 0) + " / "
                        + r.injected().getOrDefault(Fault.BROKER_KILL, 0) + " (restarted)",
                r.midTask() + " of " + (r.injected().getOrDefault(Fault.PULLER_KILL, 0) + r.injected().getOrDefault(Fault.UPLOADER_KILL, 0)),
                r.abortedHandoffs() + " (" + r.loadsNotCommitted() + " of " + r.loads() + " loads)", r.seconds()));
        return out.toString();
    }
}
