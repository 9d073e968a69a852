package dev.relay.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.faults.SourceSampler.Sample;
import dev.relay.kafka.KafkaTaskQueue;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Cluster-wide source permits end to end: three relay processes (separate JVMs), {@code P} = 4, a PostgreSQL source
 * whose relay sessions are sampled from {@code pg_stat_activity} every 10 ms for the whole run, a broker in a process of
 * its own, the lanes' partitions spread over the processes by the task queue's group. Seeded faults: kill -9 of a
 * holder at 10 points, SIGSTOP of a holder past its lease then SIGCONT, a cold start of every process at once with the
 * permits of the killed ones still stale. Checked: never more than {@code P} pulls on the source outside the frozen
 * window, and within it never more than {@code P} plus the frozen holder's pulls; all {@code P} permits held again
 * after the crashes (no leak); every row in the sink exactly once. Reported: the sampled maxima per phase and the
 * cluster-wide source-time shares of the lanes against their weights.
 *
 * <p>{@code -Drelay.permits.seed=N} changes the fault schedule; the run's directory (logs of every process) is printed.
 */
class ClusterPermitsTest {

    private static final int P = 4;
    private static final long SEED = Long.getLong("relay.permits.seed", 12L);
    /** Long enough that a JVM starved on a busy 2-core machine still renews; short enough to keep the run short. */
    private static final Duration LEASE = Duration.ofMillis(5_000);
    /** The fault-free phase over which the cluster-wide shares are measured. */
    private static final Duration STEADY = Duration.ofSeconds(10);
    private static final LocalDateTime DAY0 = LocalDateTime.of(2024, 3, 14, 0, 0);
    private static final int ROWS_PER_WINDOW = 12;
    private static final String SCHEMA_PREFIX = "permits_it_";

    private static Path workDir;
    private static BrokerProcess broker;

    @BeforeAll
    static void startBroker() throws Exception {
        FaultSuite.requirePostgres();
        workDir = Files.createTempDirectory("relay-permits");
        broker = new BrokerProcess(workDir.resolve("broker"));
        broker.start();
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    /** The scenario's fixture: schemas, tasks, processes, sampler. */
    private static final class Run implements AutoCloseable {
        final String name;
        final String src;
        final String sink;
        final Map<String, Integer> tasks;
        final Path dir;
        final Path props;
        final List<PermitsProcess> processes = new ArrayList<>();
        final SourceSampler sampler;
        final Map<String, long[]> phases = new LinkedHashMap<>();
        final List<String> notes = new ArrayList<>();

        Run(String name, String store, Map<String, Integer> tasks) throws Exception {
            this.name = name;
            long pid = ProcessHandle.current().pid();
            this.src = SCHEMA_PREFIX + name + "_src_" + pid;
            this.sink = SCHEMA_PREFIX + name + "_sink_" + pid;
            this.tasks = tasks;
            this.dir = Files.createDirectories(workDir.resolve(name));
            createSchemas();
            Properties p = FaultSuite.pgProperties();
            p.setProperty("store", store);
            p.setProperty("permits", Integer.toString(P));
            p.setProperty("lease.ms", Long.toString(LEASE.toMillis()));
            p.setProperty("renew.ms", "500");
            p.setProperty("margin.ms", "1000");
            p.setProperty("bootstrap", broker.bootstrapServers());
            p.setProperty("prefix", "permits-" + name + "-" + pid + ".");
            p.setProperty("group", "permits-" + name + "-" + pid + "-relay");
            p.setProperty("permits.group", "permits-" + name + "-" + pid + "-permits");
            p.setProperty("permits.topic", "permits-" + name + "-" + pid + ".permits");
            p.setProperty("permits.table", "relay_permits");
            p.setProperty("src.schema", src);
            p.setProperty("sink.schema", sink);
            p.setProperty("query.seconds", "0.15");
            this.props = dir.resolve("run.properties");
            try (Writer w = Files.newBufferedWriter(props)) {
                p.store(w, null);
            }
            offerTasks(p);
            for (String instance : List.of("a", "b", "c")) {
                processes.add(new PermitsProcess(instance, props, dir));
            }
            sampler = new SourceSampler(FaultSuite.dataSource(null));
        }

        private void createSchemas() throws SQLException {
            try (Connection c = FaultSuite.dataSource(null).getConnection(); Statement s = c.createStatement()) {
                List<String> stale = new ArrayList<>();
                try (ResultSet rs = s.executeQuery("SELECT nspname FROM pg_namespace WHERE nspname LIKE '" + SCHEMA_PREFIX + "%'")) {
                    while (rs.next()) {
                        String n = rs.getString(1);
                        String pidPart = n.substring(n.lastIndexOf('_') + 1);
                        if (pidPart.matches("[0-9]+") && ProcessHandle.of(Long.parseLong(pidPart)).isEmpty()) {
                            stale.add(n);
                        }
                    }
                }
                for (String n : stale) {
                    s.execute("DROP SCHEMA IF EXISTS " + n + " CASCADE");
                }
                for (String schema : List.of(src, sink)) {
                    s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                    s.execute("CREATE SCHEMA " + schema);
                }
                for (Map.Entry<String, Integer> lane : tasks.entrySet()) {
                    String l = lane.getKey();
                    s.execute("CREATE TABLE " + src + ".src_" + l + " (sample_time TIMESTAMP NOT NULL, id BIGINT NOT NULL, v INTEGER NOT NULL)");
                    s.execute("INSERT INTO " + src + ".src_" + l + " SELECT TIMESTAMP '" + DAY0 + "' + i * interval '5 seconds', i, (i * 7) % 101"
                            + " FROM generate_series(0, " + (lane.getValue() * ROWS_PER_WINDOW - 1) + ") i");
                    s.execute("CREATE INDEX ON " + src + ".src_" + l + " (sample_time)");
                    s.execute("CREATE TABLE " + sink + ".dst_" + l + " (sample_time TIMESTAMP NOT NULL, id BIGINT NOT NULL, v INTEGER NOT NULL)");
                }
            }
        }

        private void offerTasks(Properties p) {
            try (KafkaTaskQueue queue = KafkaTaskQueue.builder().bootstrapServers(p.getProperty("bootstrap"))
                    .groupId(p.getProperty("group") + "-offer").clientId(name + "-offer")
                    .topics(PermitsChild.topics(p.getProperty("prefix"))).createTopics(true).build()) {
                queue.subscribe(PermitsChild.lanes());
                List<Task> all = new ArrayList<>();
                for (Map.Entry<String, Integer> lane : tasks.entrySet()) {
                    for (int w = 0; w < lane.getValue(); w++) {
                        all.add(Task.builder(lane.getKey(), "src").scope(Window.starting(DAY0.plusMinutes(w), Duration.ofMinutes(1)))
                                .parameter("lane", lane.getKey()).build());
                    }
                }
                java.util.Collections.shuffle(all, new Random(SEED));
                queue.offerAll(all);
            }
        }

        void startAll() throws IOException {
            for (PermitsProcess p : processes) {
                p.start();
            }
        }

        /** Marks the start of a phase; {@link #end} closes it. */
        void begin(String phase) {
            phases.put(phase, new long[] {System.nanoTime(), Long.MAX_VALUE});
        }

        void end(String phase) {
            phases.get(phase)[1] = System.nanoTime();
        }

        int held() throws IOException {
            int sum = 0;
            for (PermitsProcess p : processes) {
                if (p.alive()) {
                    sum += p.held();
                }
            }
            return sum;
        }

        /** @return rows in the sink per lane: {count, distinct ids, ids missing from the source's offered windows} */
        Map<String, long[]> sinkCounts() throws SQLException {
            Map<String, long[]> out = new TreeMap<>();
            try (Connection c = FaultSuite.dataSource(null).getConnection(); Statement s = c.createStatement()) {
                for (String l : tasks.keySet()) {
                    try (ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT id), (SELECT count(*) FROM " + src + ".src_" + l
                            + " x WHERE NOT EXISTS (SELECT 1 FROM " + sink + ".dst_" + l + " d WHERE d.id = x.id)) FROM " + sink + ".dst_" + l)) {
                        rs.next();
                        out.put(l, new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)});
                    }
                }
            }
            return out;
        }

        boolean sinkComplete() throws SQLException {
            for (Map.Entry<String, long[]> e : sinkCounts().entrySet()) {
                if (e.getValue()[2] != 0) {
                    return false;
                }
            }
            return true;
        }

        /** @return the most pulls in progress sampled in the phase */
        int maxOpen(String phase) {
            long[] w = phases.get(phase);
            int max = 0;
            for (Sample s : sampler.samples()) {
                if (s.nanos() >= w[0] && s.nanos() <= w[1]) {
                    max = Math.max(max, s.open());
                }
            }
            return max;
        }

        int maxActive(String phase) {
            long[] w = phases.get(phase);
            int max = 0;
            for (Sample s : sampler.samples()) {
                if (s.nanos() >= w[0] && s.nanos() <= w[1]) {
                    max = Math.max(max, s.active());
                }
            }
            return max;
        }

        /** Prints a line of the report and keeps it for the run's report file. */
        void say(String line) {
            String l = "[permits " + name + "] " + line;
            System.out.println(l);
            try {
                Files.writeString(dir.resolve("report.txt"), l + "\n", java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        void report() {
            say("run directory " + dir);
            say("samples " + sampler.samples().size());
            phases.forEach((phase, w) -> say("phase " + phase + ": " + Duration.ofNanos(w[1] - w[0]).toMillis()
                    + " ms, max pulls in progress " + maxOpen(phase) + ", max queries running " + maxActive(phase)));
            notes.forEach(this::say);
        }

        @Override
        public void close() throws SQLException {
            for (PermitsProcess p : processes) {
                p.close();
            }
            sampler.close();
            try (Connection c = FaultSuite.dataSource(null).getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA IF EXISTS " + src + " CASCADE");
                s.execute("DROP SCHEMA IF EXISTS " + sink + " CASCADE");
            }
        }
    }

    @Test
    void kafkaPermits_threeProcessesUnderFaults_neverMoreThanPOnTheSource() throws Exception {
        Map<String, Integer> tasks = new LinkedHashMap<>();
        // backlogs in the weights' proportions: if the shares follow the weights, no lane runs dry before the others
        tasks.put("realtime", 200);
        tasks.put("backfill", 100);
        tasks.put("config", 50);
        try (Run run = new Run("kafka", "kafka", tasks)) {
            try {
                kafkaScenario(run);
            } finally {
                run.report();
            }
        }
    }

    private void kafkaScenario(Run run) throws Exception {
        Random random = new Random(SEED);
        run.begin("start");
        run.startAll();
        waitFor(() -> run.held() == P && run.sampler.latest() != null && run.sampler.latest().open() > 0,
                "all permits held and pulls running");
        run.end("start");

        // fairness: every lane backlogged, every process holding a partition of every lane (the task queue's group has
        // settled: every process has work of every lane at hand)
        waitFor(() -> everyLaneAtHand(run), "every process holding work of every lane");
        run.begin("steady");
        Thread.sleep(STEADY.toMillis());
        run.end("steady");
        StringBuilder spread = new StringBuilder("permits held in phase steady:");
        for (PermitsProcess p : run.processes) {
            spread.append(' ').append(p.instance).append('=').append(p.held());
        }
        run.notes.add(spread.toString());

        // a holder with pulls in progress freezes past its lease: the others get its permits meanwhile
        PermitsProcess frozen = holderWithPulls(run, random, Duration.ofSeconds(20));
        int frozenHeld = frozen.held();
        run.begin("SIGSTOP");
        frozen.signal("STOP");
        Sample atStop = run.sampler.latest();
        Duration freeze = LEASE.plus(Duration.ofSeconds(3));
        run.notes.add("SIGSTOP of " + frozen.instance + " holding " + frozenHeld + " permits with "
                + (atStop == null ? 0 : atStop.instances().getOrDefault(frozen.instance, 0)) + " pulls in progress, for "
                + freeze.toMillis() + " ms (lease " + LEASE.toMillis() + " ms)");
        Thread.sleep(freeze.toMillis());
        frozen.signal("CONT");
        Thread.sleep(1_000); // its overdue fence timer runs first: the excess ends within this second
        run.end("SIGSTOP");
        run.begin("after SIGCONT");
        waitFor(() -> run.held() == P, "all permits held after the freeze");
        run.end("after SIGCONT");

        run.begin("kill -9");
        for (int k = 0; k < 10; k++) {
            PermitsProcess victim = holderWithPulls(run, random);
            Sample before = run.sampler.latest();
            int pulls = before == null ? 0 : before.instances().getOrDefault(victim.instance, 0);
            int held = victim.held();
            victim.kill();
            run.notes.add("kill -9 #" + (k + 1) + ": " + victim.instance + " holding " + held + " permits with " + pulls
                    + " pulls in progress");
            victim.start();
            Thread.sleep(400 + random.nextInt(1_600));
        }
        run.end("kill -9");

        // cold start: every process killed at once while holding permits, and started again at once
        run.begin("cold start");
        waitFor(() -> run.held() == P, "all permits held before the cold start");
        for (PermitsProcess p : run.processes) {
            p.kill();
        }
        run.startAll();
        waitFor(() -> run.held() == P, "all permits held after the cold start");
        run.end("cold start");
        run.notes.add("leak check: after " + countKills(run) + " kills and the cold start, the live processes hold "
                + run.held() + " of " + P + " permits");

        run.begin("drain");
        waitFor(run::sinkComplete, "every offered window in the sink", Duration.ofMinutes(5));
        run.end("drain");
        for (PermitsProcess p : run.processes) {
            p.stop();
        }
        summarize(run);
        run.sampler.close();
        reportShares(run, "steady");
        for (String phase : run.phases.keySet()) {
            int limit = phase.equals("SIGSTOP") ? P + frozenHeld : P;
            assertTrue(run.maxOpen(phase) <= limit, "phase " + phase + ": " + run.maxOpen(phase)
                    + " pulls on the source, more than " + limit);
        }
        assertNoLossNoDouble(run);
    }

    /**
     * The same cluster with lease rows on PostgreSQL instead of Kafka: kill -9 of holders, then a cold start of every
     * process at once while the killed ones' rows are still leased to them. A longer run, off by default
     * ({@code -Drelay.permits.soak=true}): the JDBC store's fencing, crash cycles and stale rows are tested in-process on
     * PostgreSQL by {@code relay-jdbc}, and its fairness across processes by {@link ClusterFairnessTest}.
     */
    @Test
    @EnabledIfSystemProperty(named = "relay.permits.soak", matches = "true")
    void jdbcPermits_threeProcessesUnderFaults_neverMoreThanPOnTheSource() throws Exception {
        Map<String, Integer> tasks = new LinkedHashMap<>();
        tasks.put("realtime", 90);
        tasks.put("backfill", 60);
        tasks.put("config", 40);
        try (Run run = new Run("jdbc", "jdbc", tasks)) {
            try {
                jdbcScenario(run);
            } finally {
                run.report();
            }
        }
    }

    private void jdbcScenario(Run run) throws Exception {
        {
            createPermitTable(run);
            Random random = new Random(SEED + 1);
            run.begin("start");
            run.startAll();
            waitFor(() -> run.held() == P && run.sampler.latest() != null && run.sampler.latest().open() > 0, "all permits held and pulls running");
            run.end("start");

            run.begin("kill -9");
            for (int k = 0; k < 3; k++) {
                PermitsProcess victim = holderWithPulls(run, random);
                int held = victim.held();
                victim.kill();
                run.notes.add("kill -9 #" + (k + 1) + ": " + victim.instance + " holding " + held + " permits");
                victim.start();
                Thread.sleep(700 + random.nextInt(1_500));
            }
            run.end("kill -9");

            run.begin("cold start");
            waitFor(() -> run.held() == P, "all permits held before the cold start");
            for (PermitsProcess p : run.processes) {
                p.kill();
            }
            run.notes.add("cold start: rows still leased to the killed processes: " + leasedRows(run));
            run.startAll();
            waitFor(() -> run.held() == P, "all permits held after the cold start");
            run.end("cold start");
            run.notes.add("leak check: after " + countKills(run) + " kills and the cold start, the live processes hold "
                    + run.held() + " of " + P + " permits");

            run.begin("drain");
            waitFor(run::sinkComplete, "every offered window in the sink", Duration.ofMinutes(5));
            run.end("drain");
            for (PermitsProcess p : run.processes) {
                p.stop();
            }
            summarize(run);
            run.sampler.close();
            for (String phase : run.phases.keySet()) {
                assertTrue(run.maxOpen(phase) <= P, "phase " + phase + ": " + run.maxOpen(phase) + " pulls on the source, more than " + P);
            }
            assertNoLossNoDouble(run);
        }
    }

    private static void createPermitTable(Run run) throws SQLException {
        try (Connection c = FaultSuite.dataSource(run.sink).getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE relay_permits (permit_no NUMERIC(10) NOT NULL PRIMARY KEY, holder VARCHAR(200), "
                    + "token NUMERIC(19) NOT NULL, lease_until NUMERIC(19) NOT NULL)");
            s.execute("CREATE TABLE relay_permits_members (member_id VARCHAR(200) NOT NULL PRIMARY KEY, lease_until NUMERIC(19) NOT NULL)");
        }
    }

    private static long leasedRows(Run run) throws SQLException {
        try (Connection c = FaultSuite.dataSource(run.sink).getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM relay_permits WHERE holder IS NOT NULL")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Notes what the processes counted over all their lives: losses, cancellations, revocations, forced releases. */
    private static void summarize(Run run) throws IOException {
        long losses = 0;
        long cancellations = 0;
        long revocations = 0;
        long forced = 0;
        long failed = 0;
        for (PermitsProcess p : run.processes) {
            losses += p.total("permits.losses");
            cancellations += p.total("permits.cancellations");
            revocations += p.total("permits.revocations");
            forced += p.total("permits.forcedReleases");
            failed += p.total("permits.failedRenewals");
        }
        run.notes.add("over all lives: " + revocations + " revocations, " + losses + " losses (self-fenced or found gone), "
                + cancellations + " queries cancelled, " + forced + " forced releases, " + failed + " failed renewals");
    }

    private static long countKills(Run run) {
        long lives = 0;
        for (PermitsProcess p : run.processes) {
            lives += p.lives() - 1;
        }
        return lives;
    }

    /** A live process that holds a permit and has pulls in progress (any live holder if none has). */
    private static PermitsProcess holderWithPulls(Run run, Random random) throws Exception {
        return holderWithPulls(run, random, Duration.ofSeconds(3));
    }

    /** @return whether every live process has tasks of every lane buffered or running */
    private static boolean everyLaneAtHand(Run run) throws IOException {
        for (PermitsProcess p : run.processes) {
            Properties s = p.status();
            for (String lane : PermitsChild.lanes()) {
                if (Long.parseLong(s.getProperty("buffered." + lane, "0")) + Long.parseLong(s.getProperty("inFlight." + lane, "0")) == 0) {
                    return false;
                }
            }
        }
        return true;
    }

    private static PermitsProcess holderWithPulls(Run run, Random random, Duration patience) throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        List<PermitsProcess> holders = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            holders.clear();
            Sample s = run.sampler.latest();
            for (PermitsProcess p : run.processes) {
                if (p.alive() && p.held() > 0 && s != null && s.instances().getOrDefault(p.instance, 0) > 0) {
                    holders.add(p);
                }
            }
            if (!holders.isEmpty()) {
                return holders.get(random.nextInt(holders.size()));
            }
            Thread.sleep(20);
        }
        long holderDeadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < holderDeadline) {
            for (PermitsProcess p : run.processes) {
                if (p.alive() && p.held() > 0) {
                    return p;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no live process holds a permit: " + run.processes);
    }

    private static void assertNoLossNoDouble(Run run) throws SQLException {
        Map<String, long[]> counts = run.sinkCounts();
        for (Map.Entry<String, Integer> lane : run.tasks.entrySet()) {
            long[] c = counts.get(lane.getKey());
            long expected = (long) lane.getValue() * ROWS_PER_WINDOW;
            run.say("sink " + lane.getKey() + ": rows " + c[0] + ", distinct " + c[1] + ", missing " + c[2] + ", expected "
                    + expected);
            assertEquals(expected, c[0], "rows of lane " + lane.getKey() + " in the sink");
            assertEquals(expected, c[1], "distinct rows of lane " + lane.getKey() + " (a row twice would differ)");
            assertEquals(0, c[2], "source rows of lane " + lane.getKey() + " missing from the sink");
        }
    }

    /**
     * Source time per lane across the cluster, from the sampler: each sample's pulls per lane, summed over the phase
     * (10 ms each), against the weights 4 : 2 : 1.
     */
    private static void reportShares(Run run, String phase) {
        long[] w = run.phases.get(phase);
        Map<String, Long> lane = new TreeMap<>();
        long total = 0;
        for (Sample s : run.sampler.samples()) {
            if (s.nanos() >= w[0] && s.nanos() <= w[1]) {
                for (Map.Entry<String, Integer> e : s.lanes().entrySet()) {
                    lane.merge(e.getKey(), (long) e.getValue(), Long::sum);
                    total += e.getValue();
                }
            }
        }
        int weights = PermitsChild.LANES.values().stream().mapToInt(Integer::intValue).sum();
        StringBuilder b = new StringBuilder("cluster-wide source-time shares in phase " + phase + ":");
        for (Map.Entry<String, Integer> e : PermitsChild.LANES.entrySet()) {
            double share = total == 0 ? 0 : lane.getOrDefault(e.getKey(), 0L) / (double) total;
            b.append(String.format(" %s %.3f (weight share %.3f)", e.getKey(), share, e.getValue() / (double) weights));
        }
        run.say(b.toString());
    }

    interface Check {
        boolean get() throws Exception;
    }

    static void waitFor(Check condition, String what) throws Exception {
        waitFor(condition, what, Duration.ofMinutes(2));
    }

    static void waitFor(Check condition, String what, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
