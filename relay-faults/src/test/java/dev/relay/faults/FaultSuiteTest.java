package dev.relay.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.kafka.KafkaTopics;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The end-to-end fault suite (issue 8): the whole stack — planner, fair scheduler, Kafka task queue on a broker in
 * its own JVM, JDBC puller on a PostgreSQL source of generated VDS30SEC and config tables, window and snapshot
 * sinks and the completion ledger on a PostgreSQL sink — runs a compressed scenario of several simulated days
 * (10-minute windows of a few districts with a few rows each, daily snapshots of 6 config tables) while a
 * seeded fault plan injects one kind of fault per scenario. After each scenario the sink is checked against the
 * source window by window, the dead-letter topics against the bad inputs, the relay's own permit high-water
 * mark against its source permits, and the config tables against the source.
 *
 * <p>Seed: {@code -Drelay.faults.seed=N} (or RELAY_FAULTS_SEED) replays a run; without it a random seed is drawn
 * and printed. Soak: {@code -Drelay.soak=PT30M} (or RELAY_SOAK) repeats the all-faults scenario with fresh seeds
 * for that long. PostgreSQL: 127.0.0.1:5432, user postgres, database test (or the RELAY_PG_HOST, RELAY_PG_PORT,
 * RELAY_PG_DATABASE, RELAY_PG_USER, RELAY_PG_PASSWORD environment variables); skipped when unreachable unless
 * RELAY_REQUIRE_SERVICES=1.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultSuiteTest {

    /** Simulated days (-Drelay.faults.days); the last one runs in accelerated real time, the others are backlog. */
    static final int DAYS = Integer.getInteger("relay.faults.days", 3);
    /** Districts, each a VDS30SEC table and a series of 144 windows a day (-Drelay.faults.districts, at most 9). */
    static final List<String> DISTRICTS = List.of("D3", "D4", "D7", "D5", "D6", "D8", "D10", "D11", "D12")
            .subList(0, Integer.getInteger("relay.faults.districts", 2));
    /** Includes the autumn DST change (2024-11-03 in America/Los_Angeles) in the last, real-time day. */
    static final LocalDate DAY0 = LocalDate.of(2024, 11, 1);
    /** The real-time last day passes in this many real seconds. */
    static final int LAST_DAY_SECONDS = 12;
    static final int PERMITS = 3;
    /** How long a scenario may take before it counts as failed (generous: the machine is shared). */
    static final Duration SCENARIO_TIMEOUT = Duration.ofMinutes(4);

    enum Fault {
        RELAY_KILL, BROKER_KILL, SINK_OUTAGE, SOURCE_FAULTS, POISON_AND_MALFORMED, REBALANCE
    }

    record Result(String scenario, String faults, long tasks, long rows, long lost, long duplicated, long mismatched,
            long deadLettered, long expectedDeadLetters, long unexpectedDeadLetters, long missingDeadLetters,
            long configDiffs, long maxPermits, Map<String, Long> worstWaitMs, long seed, long seconds,
            boolean exactDeadLetters) {
    }

    private static final long SEED = seed();
    private static final List<Result> RESULTS = new ArrayList<>();
    private static Path workDir;
    private static BrokerProcess broker;

    private static long seed() {
        String s = System.getProperty("relay.faults.seed", System.getenv("RELAY_FAULTS_SEED"));
        return s == null || s.isBlank() ? new SplittableRandom().nextLong() : Long.parseLong(s.trim());
    }

    @BeforeAll
    static void startBroker() throws Exception {
        System.out.printf("[faults] seed %d (replay with -Drelay.faults.seed=%d)%n", SEED, SEED);
        FaultSuite.requirePostgres();
        workDir = Files.createTempDirectory("relay-faults");
        broker = new BrokerProcess(workDir.resolve("broker"));
        broker.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
        if (!RESULTS.isEmpty()) {
            System.out.println(table(RESULTS));
            System.out.printf("[faults] seed %d (replay with -Drelay.faults.seed=%d); work dir %s%n", SEED, SEED, workDir);
        }
        if (workDir != null && RESULTS.stream().allMatch(FaultSuiteTest::passed)) {
            try (java.util.stream.Stream<Path> files = Files.walk(workDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    @Order(1)
    void relayKilledMidTask_restarted_nothingLostOrDoubled() throws Exception {
        verify(run("relay-kill", EnumSet.of(Fault.RELAY_KILL), SEED + 1));
    }

    @Test
    @Order(2)
    void brokerKilled_restarted_nothingLostOrDoubled() throws Exception {
        verify(run("broker-kill", EnumSet.of(Fault.BROKER_KILL), SEED + 2));
    }

    @Test
    @Order(3)
    void sinkDownForOneLane_otherLanesKeepTheirShare() throws Exception {
        verify(run("sink-outage", EnumSet.of(Fault.SINK_OUTAGE), SEED + 3));
    }

    @Test
    @Order(4)
    void sourceQueryTimeoutsAndDroppedConnections_retried() throws Exception {
        verify(run("source-faults", EnumSet.of(Fault.SOURCE_FAULTS), SEED + 4));
    }

    @Test
    @Order(5)
    void poisonTasksAndMalformedRecords_deadLetteredExactly() throws Exception {
        verify(run("poison", EnumSet.of(Fault.POISON_AND_MALFORMED), SEED + 5));
    }

    @Test
    @Order(6)
    void secondInstanceJoinsAndLeaves_nothingLostOrDoubled() throws Exception {
        verify(run("rebalance", EnumSet.of(Fault.REBALANCE), SEED + 6));
    }

    @Test
    @Order(7)
    void soak_allFaults_untilTimeIsUp() throws Exception {
        String soak = System.getProperty("relay.soak", System.getenv("RELAY_SOAK"));
        org.junit.jupiter.api.Assumptions.assumeTrue(soak != null && !soak.isBlank(),
                "soak mode is off; run with -Drelay.soak=PT30M (or RELAY_SOAK=PT30M)");
        long end = System.nanoTime() + Duration.parse(soak.trim()).toNanos();
        for (int i = 0; System.nanoTime() < end; i++) {
            verify(run("soak-" + i, EnumSet.allOf(Fault.class), SEED + 100 + i));
        }
    }

    private static boolean passed(Result r) {
        try {
            verify(r);
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }

    private static void verify(Result r) {
        String where = r.scenario() + " (seed " + r.seed() + ")";
        assertEquals(0, r.lost(), where + ": windows lost");
        assertEquals(0, r.duplicated(), where + ": windows duplicated");
        assertEquals(0, r.mismatched(), where + ": windows whose checksum differs");
        assertEquals(0, r.configDiffs(), where + ": config rows that differ from the source");
        assertEquals(0, r.unexpectedDeadLetters(), where + ": dead letters that are neither poison nor malformed");
        assertEquals(0, r.missingDeadLetters(), where + ": poison or malformed inputs missing from the dead letters");
        if (r.exactDeadLetters()) {
            assertEquals(r.expectedDeadLetters(), r.deadLettered(), where + ": dead letters written more than once");
        }
        assertTrue(r.maxPermits() <= PERMITS, where + ": source permits exceeded: " + r.maxPermits() + " > " + PERMITS);
    }

    /** Runs one scenario with its fault plan and returns what the checks found. */
    private static Result run(String name, Set<Fault> faults, long seed) throws Exception {
        long t0 = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        String tag = name.replace('-', '_') + "_" + UUID.randomUUID().toString().substring(0, 6);
        String src = "faults_src_" + tag;
        String sink = "faults_sink_" + tag;
        Path dir = Files.createDirectories(workDir.resolve(tag));
        Map<String, Integer> configRows = FaultSuite.createSchemas(src, sink, DISTRICTS, DAY0, DAYS, seed);
        KafkaTopics topics = RelayChild.topics("f." + tag + ".");
        FaultSuite.createTopics(broker.bootstrapServers(), topics);
        FaultSuite.BadInputs bad = faults.contains(Fault.POISON_AND_MALFORMED)
                ? FaultSuite.writeBadInputs(broker.bootstrapServers(), topics, DAY0, seed)
                : new FaultSuite.BadInputs(Set.of(), Set.of());
        long expectedTasks = (long) DAYS * 144 * DISTRICTS.size() + Math.min(DAYS, 2L) * RelayChild.CONFIG_TABLES.size();

        Path sinkDownFlag = dir.resolve("sink-down.flag");
        Properties p = FaultSuite.pgProperties();
        p.setProperty("bootstrap", broker.bootstrapServers());
        p.setProperty("prefix", topics.prefix());
        p.setProperty("group", "relay-" + tag);
        p.setProperty("src.schema", src);
        p.setProperty("sink.schema", sink);
        p.setProperty("districts", String.join(",", DISTRICTS));
        p.setProperty("day0", DAY0.toString());
        p.setProperty("days", Integer.toString(DAYS));
        p.setProperty("permits", Integer.toString(PERMITS));
        p.setProperty("seed", Long.toString(seed));
        p.setProperty("inject.source", Boolean.toString(faults.contains(Fault.SOURCE_FAULTS)));
        p.setProperty("sinkdown.flag", sinkDownFlag.toString());
        p.setProperty("sinkdown.lane", "backfill");
        p.setProperty("sink.lock", System.getProperty("relay.faults.sinkLock", "true"));
        p.setProperty("speed", Double.toString(86_400.0 / LAST_DAY_SECONDS));
        Path runProperties = dir.resolve("run.properties");

        // the fault plan: progress points (fractions of the planned tasks completed in the ledger)
        double killAt1 = 0.15 + 0.2 * random.nextDouble();
        double killAt2 = 0.5 + 0.2 * random.nextDouble();
        double brokerAt = 0.25 + 0.25 * random.nextDouble();
        long brokerDownMs = 1_500 + random.nextInt(1_500);
        // the outage starts in the real-time last day, while the realtime lane has windows arriving
        LocalDateTime outageAt = DAY0.plusDays(DAYS - 1L).atTime(2, 0).plusMinutes(random.nextInt(180));
        long outageMs = 3_000 + random.nextInt(2_000);
        double joinAt = 0.1 + 0.15 * random.nextDouble();
        double leaveAt = joinAt + 0.25 + 0.15 * random.nextDouble();
        List<String> injected = new ArrayList<>();
        Map<String, Long> duringOutage = new HashMap<>();

        ChildRelay.Lives lives = new ChildRelay.Lives();
        ChildRelay a = new ChildRelay("relay-a", runProperties, dir, lives);
        ChildRelay b = new ChildRelay("relay-b", runProperties, dir, lives);
        boolean killed1 = false;
        boolean killed2 = false;
        boolean brokerKilled = false;
        boolean outage = false;
        boolean joined = false;
        boolean left = false;
        FaultSuite.Check check;
        try {
            try (Writer w = Files.newBufferedWriter(runProperties)) {
                p.store(w, "fault suite scenario " + name + ", seed " + seed);
            }
            a.start();
            long deadline = System.nanoTime() + SCENARIO_TIMEOUT.toNanos();
            while (true) {
                a.checkAlive();
                b.checkAlive();
                long done = FaultSuite.ledgerCompleted(sink);
                double progress = (double) done / expectedTasks;
                if (faults.contains(Fault.RELAY_KILL) && !killed1 && progress >= killAt1) {
                    killed1 = true;
                    injected.add(killChild(a, progress));
                } else if (faults.contains(Fault.RELAY_KILL) && !killed2 && progress >= killAt2) {
                    killed2 = true;
                    injected.add(killChild(a, progress));
                }
                if (faults.contains(Fault.BROKER_KILL) && !brokerKilled && progress >= brokerAt) {
                    brokerKilled = true;
                    broker.kill();
                    Thread.sleep(brokerDownMs);
                    broker.start();
                    injected.add(String.format(Locale.ROOT, "broker kill -9 at %.0f%%, down %.1fs", progress * 100,
                            brokerDownMs / 1000.0));
                }
                if (faults.contains(Fault.SINK_OUTAGE) && !outage && !simNow(a).isBefore(outageAt)) {
                    outage = true;
                    Files.writeString(sinkDownFlag, "down");
                    Thread.sleep(outageMs);
                    Files.delete(sinkDownFlag);
                    Thread.sleep(2_000); // the child counts only while the flag exists; give it time to write its count
                    Properties counted = new Properties();
                    try (java.io.Reader r = Files.newBufferedReader(dir.resolve("relay-a.outage"))) {
                        counted.load(r);
                    }
                    for (String lane : RelayChild.LANES) {
                        duringOutage.put(lane, figure(counted, lane));
                    }
                    injected.add(String.format(Locale.ROOT, "backfill sink down %.1fs at %.0f%% (completed meanwhile: %s)",
                            outageMs / 1000.0, progress * 100, duringOutage));
                }
                if (faults.contains(Fault.REBALANCE) && !joined && progress >= joinAt) {
                    joined = true;
                    b.start();
                    injected.add(String.format(Locale.ROOT, "2nd instance joins at %.0f%%", progress * 100));
                }
                if (joined && !left && progress >= leaveAt) {
                    left = true;
                    b.stop();
                    injected.add(String.format(Locale.ROOT, "leaves at %.0f%%", progress * 100));
                }
                if (done >= expectedTasks) {
                    check = FaultSuite.check(src, sink, DISTRICTS);
                    if (check.complete() && deadLettersIn(topics, bad)) {
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    check = FaultSuite.check(src, sink, DISTRICTS);
                    System.out.printf("[faults] %s timed out after %s: %d of %d tasks in the ledger; %s%n", name,
                            SCENARIO_TIMEOUT, done, expectedTasks, check);
                    break;
                }
                Thread.sleep(200);
            }
            if (joined && !left) {
                b.stop();
                injected.add("leaves at the end");
            }
            a.stop();
        } finally {
            a.close();
            b.close();
        }
        check = FaultSuite.check(src, sink, DISTRICTS);
        List<String> dlt = FaultSuite.readDeadLetters(broker.bootstrapServers(), topics);
        Set<String> expectedDlt = new HashSet<>(bad.poisonIds());
        expectedDlt.addAll(bad.malformedHex());
        Set<String> unexpected = new HashSet<>(dlt);
        unexpected.removeAll(expectedDlt);
        Set<String> missing = new HashSet<>(expectedDlt);
        missing.removeAll(new HashSet<>(dlt));
        if (faults.contains(Fault.SOURCE_FAULTS)) {
            injected.add("query timeouts " + lives.sum("injected.timeouts", List.of()) + ", connections dropped "
                    + lives.sum("injected.drops", List.of()) + ", retries " + retries(lives));
        }
        if (faults.contains(Fault.POISON_AND_MALFORMED)) {
            injected.add(bad.poisonIds().size() + " poison tasks, " + bad.malformedHex().size() + " malformed records");
        }
        if (faults.contains(Fault.SINK_OUTAGE)) {
            // the other lanes keep their share; the failing lane completes at most what had its sink open already
            assertTrue(duringOutage.getOrDefault("realtime", 0L) + duringOutage.getOrDefault("config", 0L) > 0,
                    name + ": the other lanes completed nothing while the backfill sink was down: " + duringOutage);
            assertTrue(duringOutage.getOrDefault("backfill", 0L) <= PERMITS,
                    name + ": backfill tasks completed while their sink was down: " + duringOutage);
        }
        if (faults.contains(Fault.REBALANCE)) {
            injected.add("2nd instance completed " + sumOf(dir.resolve("relay-b.status")));
        }
        Map<String, Long> waits = new java.util.LinkedHashMap<>();
        for (String lane : RelayChild.LANES) {
            waits.put(lane, lives.max("waitMaxMs." + lane, List.of()));
        }
        Result result = new Result(name, String.join("; ", injected), expectedTasks + bad.size(), check.sinkRows(),
                check.lostWindows(), check.duplicatedWindows(), check.mismatchedWindows(), dlt.size(), expectedDlt.size(),
                unexpected.size(), missing.size(), check.configDiffs(), lives.max("maxPermitsInUse", List.of()), waits, seed,
                Duration.ofNanos(System.nanoTime() - t0).toSeconds(),
                // without crashes or rebalances a dead letter is written exactly once; with them, at least once
                Collections.disjoint(faults, EnumSet.of(Fault.RELAY_KILL, Fault.BROKER_KILL, Fault.REBALANCE)));
        RESULTS.add(result);
        System.out.println(table(List.of(result)));
        if (check.exact() && unexpected.isEmpty() && missing.isEmpty()) {
            FaultSuite.dropSchemas(src, sink);
        } else {
            System.out.printf("[faults] %s kept schemas %s and %s and logs in %s for inspection; config rows %s%n", name, src,
                    sink, dir, configRows);
        }
        return result;
    }

    private static boolean deadLettersIn(KafkaTopics topics, FaultSuite.BadInputs bad) {
        if (bad.size() == 0) {
            return true;
        }
        return new HashSet<>(FaultSuite.readDeadLetters(broker.bootstrapServers(), topics)).size() >= bad.size();
    }

    private static String killChild(ChildRelay child, double progress) throws IOException, InterruptedException {
        // mid-task: wait (briefly) for a moment with tasks in flight
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        long inFlight = figure(child.status(), "inFlight");
        while (inFlight == 0 && System.nanoTime() < until) {
            Thread.sleep(20);
            inFlight = figure(child.status(), "inFlight");
        }
        child.kill();
        child.start();
        return String.format(Locale.ROOT, "relay kill -9 at %.0f%% (%d in flight)", progress * 100, inFlight);
    }

    private static long retries(ChildRelay.Lives lives) {
        long n = 0;
        for (String lane : RelayChild.LANES) {
            n += lives.sum("retried." + lane, List.of());
        }
        return n;
    }

    private static long sumOf(Path status) throws IOException {
        if (!Files.exists(status)) {
            return 0;
        }
        Properties p = new Properties();
        try (java.io.Reader r = Files.newBufferedReader(status)) {
            p.load(r);
        }
        long n = 0;
        for (String lane : RelayChild.LANES) {
            n += figure(p, "completed." + lane);
        }
        return n;
    }

    /** @return the child's simulated time, or the start of time before its first status */
    private static LocalDateTime simNow(ChildRelay child) throws IOException {
        String s = child.status().getProperty("simNow");
        return s == null ? LocalDateTime.MIN : LocalDateTime.parse(s);
    }

    private static long figure(Properties p, String key) {
        return Long.parseLong(p.getProperty(key, "0"));
    }

    static String table(List<Result> results) {
        StringBuilder out = new StringBuilder();
        String format = "| %-14s | %6s | %6s | %4s | %10s | %13s | %-28s | %7s | %4s | %s |%n";
        out.append(String.format(Locale.ROOT, format, "scenario", "tasks", "rows", "lost", "duplicated", "dead-lettered",
                "worst wait ms (rt/bf/cfg)", "permits", "secs", "faults injected"));
        out.append(String.format(Locale.ROOT, format, "-".repeat(14), "-".repeat(6), "-".repeat(6), "-".repeat(4), "-".repeat(10),
                "-".repeat(13), "-".repeat(28), "-".repeat(7), "-".repeat(4), "-".repeat(15)));
        for (Result r : results) {
            out.append(String.format(Locale.ROOT, format, r.scenario(), r.tasks(), r.rows(), r.lost(),
                    r.duplicated() + (r.mismatched() > 0 ? " (" + r.mismatched() + " differ)" : ""),
                    r.deadLettered() + " of " + r.expectedDeadLetters(),
                    r.worstWaitMs().get("realtime") + " / " + r.worstWaitMs().get("backfill") + " / " + r.worstWaitMs().get("config"),
                    r.maxPermits() + "/" + PERMITS, r.seconds(), r.faults()));
        }
        return out.toString();
    }
}
