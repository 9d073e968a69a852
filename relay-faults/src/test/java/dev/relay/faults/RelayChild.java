package dev.relay.faults;

import dev.relay.api.LaneSpec;
import dev.relay.api.Puller;
import dev.relay.api.RetryPolicy;
import dev.relay.api.RowCursor;
import dev.relay.api.SeriesKey;
import dev.relay.api.Sink;
import dev.relay.api.Task;
import dev.relay.core.LaneSnapshot;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.core.RelaySnapshot;
import dev.relay.core.plan.PlanningLoop;
import dev.relay.core.plan.RealtimeTicker;
import dev.relay.core.plan.SnapshotSchedule;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.JdbcPuller;
import dev.relay.jdbc.SnapshotSink;
import dev.relay.jdbc.SourceQuery;
import dev.relay.jdbc.WindowSink;
import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import dev.relay.kafka.KafkaTaskQueue;
import dev.relay.kafka.KafkaTopics;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The relay under test, in a JVM of its own so that the suite can kill -9 it: Kafka task queue, planner (realtime
 * ticker and daily config snapshots on an accelerated clock), fair scheduler, JDBC puller on the PostgreSQL
 * source, window and snapshot sinks and the completion ledger on the PostgreSQL sink.
 *
 * <p>Arguments: the run's properties file, the instance name, the status file, the stop file. Every 100 ms it
 * writes its {@link RelaySnapshot} figures to the status file (atomically); when the stop file appears it shuts
 * down gracefully (leaving the consumer group) and exits 0. Source faults (query timeouts, dropped connections)
 * are injected here on the first attempt of the window tasks {@link FaultPick} names; a sink outage is injected
 * while the run's flag file exists.
 */
public final class RelayChild {

    static final ZoneId ZONE = ZoneId.of("America/Los_Angeles");
    static final List<String> LANES = List.of("realtime", "backfill", "config");
    static final List<String> CONFIG_TABLES = List.of("CONTROLLER_CONFIG", "CONTROLLER_CONFIG_LOG", "DETECTOR_CONFIG",
            "DETECTOR_CONFIG_LOG", "STATION_CONFIG", "STATION_CONFIG_LOG");
    /** The planner's lateness: a window is planned this long after it closed. */
    static final Duration LATENESS = Duration.ofMinutes(5);
    /** The time of day the config snapshots are due. */
    static final LocalTime SNAPSHOT_TIME = LocalTime.of(19, 0);

    private static final ThreadLocal<Integer> LAST_SOURCE_PID = new ThreadLocal<>();

    private RelayChild() {
    }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[0]))) {
            p.load(r);
        }
        String instance = args[1];
        Path status = Path.of(args[2]);
        Path stop = Path.of(args[3]);
        long seed = Long.parseLong(p.getProperty("seed"));
        boolean injectSource = Boolean.parseBoolean(p.getProperty("inject.source", "false"));
        Path sinkDownFlag = Path.of(p.getProperty("sinkdown.flag"));
        String sinkDownLane = p.getProperty("sinkdown.lane", "backfill");
        List<String> districts = List.of(p.getProperty("districts").split(","));
        LocalDate day0 = LocalDate.parse(p.getProperty("day0"));
        int days = Integer.parseInt(p.getProperty("days"));
        int permits = Integer.parseInt(p.getProperty("permits"));

        DataSource source = pool(pg(p, p.getProperty("src.schema"), "relay-src-" + instance), permits + 2);
        DataSource sink = pool(pg(p, p.getProperty("sink.schema"), "relay-sink-" + instance), permits + 3);
        DataSource admin = pg(p, null, "relay-admin-" + instance);

        KafkaTopics topics = topics(p.getProperty("prefix"));
        KafkaTaskQueue queue = KafkaTaskQueue.builder()
                .bootstrapServers(p.getProperty("bootstrap"))
                .groupId(p.getProperty("group"))
                .clientId(instance)
                .topics(topics)
                .createTopics(true)
                .prefetchPerLane(64)
                .commitInterval(Duration.ofMillis(200))
                .offerTimeout(Duration.ofSeconds(10))
                .revocationTimeout(Duration.ofSeconds(5))
                .clientProperty("session.timeout.ms", "6000")
                .clientProperty("heartbeat.interval.ms", "500")
                .clientProperty("reconnect.backoff.max.ms", "500")
                .build();

        JdbcCompletionLedger ledger = JdbcCompletionLedger.builder(Jdbi.create(sink)).table(FaultSuite.LEDGER_TABLE).build();

        String vdsSql = "SELECT * FROM VDS30SEC_${district} WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end";
        String configSql = "SELECT * FROM ${table}";
        JdbcPuller puller = JdbcPuller.builder(new PidRecordingDataSource(source), Dialect.POSTGRESQL)
                .query(SourceQuery.window("vds30sec", vdsSql).identifier("district", "D[0-9]+").build())
                .query(SourceQuery.snapshot("config", configSql).identifier("table", "[A-Z_]+").build())
                .fetchSize(500).chunkSize(250).queryTimeout(Duration.ofSeconds(30)).build();
        // the same query, made to outlast a 1 s timeout: the database cancels it
        JdbcPuller slowPuller = JdbcPuller.builder(source, Dialect.POSTGRESQL)
                .query(SourceQuery.window("vds30sec", vdsSql + " AND 0 < (SELECT count(*) FROM pg_sleep(3))")
                        .identifier("district", "D[0-9]+").build())
                .queryTimeout(Duration.ofSeconds(1)).build();
        AtomicLong timeouts = new AtomicLong();
        AtomicLong drops = new AtomicLong();
        Puller faulty = task -> {
            FaultPick pick = injectSource && task.attempt() == 1 && task.window().isPresent()
                    ? FaultPick.of(seed, task.id()) : FaultPick.NONE;
            if (pick == FaultPick.TIMEOUT) {
                timeouts.incrementAndGet();
                return slowPuller.open(task);
            }
            RowCursor cursor = puller.open(task);
            Integer pid = LAST_SOURCE_PID.get();
            if (pick == FaultPick.DROP && pid != null) {
                terminate(admin, pid);
                drops.incrementAndGet();
            }
            return cursor;
        };

        Relay.Builder relay = Relay.builder().queue(queue).puller(faulty).ledger(ledger).sourcePermits(permits)
                .quantum(Duration.ofMillis(20)).idlePollInterval(Duration.ofMillis(50)).shutdownTimeout(Duration.ofSeconds(10))
                .suspendAfterFailures(5).random(new java.util.SplittableRandom(seed ^ instance.hashCode())::nextDouble);
        boolean lockWindows = Boolean.parseBoolean(p.getProperty("sink.lock", "true"));
        DataSource locks = pool(pg(p, null, "relay-locks-" + instance), permits + 1);
        Map<String, AtomicLong> outageCompleted = new ConcurrentHashMap<>();
        relay.listener(new RelayListener() {
            @Override
            public void completed(Task task, Instant at, Duration service, long rows) {
                if (Files.exists(sinkDownFlag)) {
                    outageCompleted.computeIfAbsent(task.lane(), k -> new AtomicLong()).incrementAndGet();
                }
            }
        });
        for (String lane : List.of("realtime", "backfill")) {
            DataSource laneSink = lane.equals(sinkDownLane) ? new FlagDataSource(sink, sinkDownFlag) : sink;
            WindowSink.Builder windows = WindowSink.builder(laneSink, Dialect.POSTGRESQL).table("VDS30SEC_${district}")
                    .identifier("district", "D[0-9]+").timeColumn("SAMPLE_TIME").batchSize(500);
            RetryPolicy retry = RetryPolicy.builder().maxAttempts(lane.equals("backfill") ? 20 : 8)
                    .initialDelay(Duration.ofMillis(100)).maxDelay(Duration.ofMillis(500)).build();
            Sink windowSink = lockWindows ? new WindowLockingSink(windows.build(), locks) : windows.build();
            relay.lane(LaneSpec.builder(lane).weight(lane.equals("realtime") ? 4 : 1).retryPolicy(retry).build(), windowSink);
        }
        DataSource configSink = "config".equals(sinkDownLane) ? new FlagDataSource(sink, sinkDownFlag) : sink;
        relay.lane(LaneSpec.builder("config").weight(8)
                        .retryPolicy(RetryPolicy.builder().maxAttempts(4).initialDelay(Duration.ofMillis(100))
                                .maxDelay(Duration.ofMillis(400)).build()).build(),
                SnapshotSink.builder(configSink, Dialect.POSTGRESQL).table("${table}").identifier("table", "[A-Z_]+")
                        .minimumRows(1).build());
        queue.subscribe(Set.copyOf(LANES));
        Relay engine = relay.build().start();

        List<SeriesKey> series = new ArrayList<>();
        for (String d : districts) {
            series.add(SeriesKey.of("vds30sec", "district", d));
        }
        List<SeriesKey> tables = new ArrayList<>();
        for (String t : CONFIG_TABLES) {
            tables.add(SeriesKey.of("config", "table", t));
        }
        Clock simulated = new SimClock(realEpoch(Path.of(args[0]).resolveSibling("epoch")),
                day0.plusDays(days - 1L).atStartOfDay(ZONE).toInstant(),
                Double.parseDouble(p.getProperty("speed")),
                day0.plusDays(days).atStartOfDay(ZONE).toInstant().plus(LATENESS).plusSeconds(60));
        RealtimeTicker ticker = RealtimeTicker.builder().series(series).windowSize(Duration.ofMinutes(10)).zone(ZONE)
                .seriesStart(day0.atStartOfDay()).lateness(LATENESS).backfillChunk(60)
                .queue(queue).ledger(ledger).clock(simulated).build();
        SnapshotSchedule snapshots = SnapshotSchedule.builder().tables(tables).at(SNAPSHOT_TIME, ZONE).firstDay(day0)
                .replanAfter(Duration.ofHours(12)).queue(queue).ledger(ledger).clock(simulated).build();
        PlanningLoop planning = PlanningLoop.builder()
                // config first: a round of the ticker may take seconds of real time, hours of simulated time
                .step("config", snapshots::tick).step("realtime", ticker::tick).build();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "planner-" + instance);
            t.setDaemon(true);
            return t;
        });
        AtomicLong planningRuns = new AtomicLong();
        timer.scheduleWithFixedDelay(() -> {
            try {
                planning.run();
                planningRuns.incrementAndGet();
            } catch (Throwable t) { // never let the schedule die silently
                t.printStackTrace();
            }
        }, 0, 100, TimeUnit.MILLISECONDS);

        long parent = Long.parseLong(args[4]);
        while (!Files.exists(stop)) {
            if (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false) == Boolean.FALSE) {
                System.err.println("the suite's JVM " + parent + " is gone; exiting");
                Runtime.getRuntime().halt(3);
            }
            writeStatus(status, instance, engine.snapshot(), ticker, simulated, timeouts.get(), drops.get(), false);
            StringBuilder outage = new StringBuilder();
            outageCompleted.forEach((lane, n) -> outage.append(lane).append('=').append(n.get()).append('\n'));
            Files.writeString(status.resolveSibling(instance + ".outage"), outage);
            Files.writeString(status.resolveSibling(instance + ".planner"), "runs=" + planningRuns.get() + "\nfailures="
                    + (planning.failures("realtime") + planning.failures("config")) + "\npending=" + ticker.backfillPending() + "\n");
            Thread.sleep(100);
        }
        timer.shutdownNow();
        timer.awaitTermination(15, TimeUnit.SECONDS);
        engine.shutdown(Duration.ofSeconds(15));
        RelaySnapshot last = engine.snapshot();
        queue.close();
        writeStatus(status, instance, last, ticker, simulated, timeouts.get(), drops.get(), true);
        System.exit(0);
    }

    static KafkaTopics topics(String prefix) {
        return KafkaTopics.builder().prefix(prefix).partitions(3).replicationFactor(1).build();
    }

    static PGSimpleDataSource pg(Properties p, String schema, String application) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {p.getProperty("pg.host")});
        ds.setPortNumbers(new int[] {Integer.parseInt(p.getProperty("pg.port"))});
        ds.setDatabaseName(p.getProperty("pg.db"));
        ds.setUser(p.getProperty("pg.user"));
        if (!p.getProperty("pg.password", "").isEmpty()) {
            ds.setPassword(p.getProperty("pg.password"));
        }
        ds.setApplicationName(application);
        ds.setReWriteBatchedInserts(true);
        ds.setConnectTimeout(5);
        if (schema != null) {
            ds.setCurrentSchema(schema);
        }
        return ds;
    }

    /**
     * The real instant at which simulated time starts: written by the first relay instance of the run once it is
     * up (so that a slow JVM start costs no simulated time), read by every later one.
     */
    static Instant realEpoch(Path file) throws IOException {
        try {
            Files.writeString(file, Long.toString(System.currentTimeMillis()), java.nio.file.StandardOpenOption.CREATE_NEW);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // a restart, or a second instance: same timeline
        }
        return Instant.ofEpochMilli(Long.parseLong(Files.readString(file).trim()));
    }

    /** A connection pool, as a production relay would use (and so that a dropped connection is evicted). */
    static DataSource pool(PGSimpleDataSource ds, int size) {
        HikariConfig config = new HikariConfig();
        config.setDataSource(ds);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(30_000);
        config.setPoolName(ds.getApplicationName());
        return new HikariDataSource(config);
    }

    private static void terminate(DataSource admin, int pid) {
        try (Connection c = admin.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(?, 5000)")) {
            ps.setInt(1, pid);
            ps.execute();
        } catch (SQLException e) {
            throw new IllegalStateException("could not drop source connection " + pid, e);
        }
    }

    private static void writeStatus(Path status, String instance, RelaySnapshot s, RealtimeTicker ticker, Clock simulated,
            long timeouts, long drops, boolean stopped) throws IOException {
        Properties out = new Properties();
        out.setProperty("instance", instance);
        out.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
        out.setProperty("permits", Integer.toString(s.permits()));
        out.setProperty("maxPermitsInUse", Integer.toString(s.maxPermitsInUse()));
        out.setProperty("inFlight", Integer.toString(s.inFlight()));
        out.setProperty("injected.timeouts", Long.toString(timeouts));
        out.setProperty("injected.drops", Long.toString(drops));
        out.setProperty("planned.realtime", Long.toString(ticker.totals().realtime()));
        out.setProperty("planned.backfill", Long.toString(ticker.totals().backfill()));
        out.setProperty("simNow", simulated.instant().atZone(ZONE).toLocalDateTime().toString());
        out.setProperty("stopped", Boolean.toString(stopped));
        for (LaneSnapshot lane : s.lanes()) {
            String n = lane.name();
            out.setProperty("completed." + n, Long.toString(lane.completed()));
            out.setProperty("retried." + n, Long.toString(lane.retried()));
            out.setProperty("deadLettered." + n, Long.toString(lane.deadLettered()));
            out.setProperty("leasesLost." + n, Long.toString(lane.leasesLost()));
            out.setProperty("rows." + n, Long.toString(lane.rows()));
            out.setProperty("waitMaxMs." + n, Long.toString(lane.waitMax().toMillis()));
            out.setProperty("state." + n, lane.state().toString());
            out.setProperty("backlog." + n, Long.toString(lane.backlog()));
            out.setProperty("buffered." + n, Long.toString(lane.buffered()));
            out.setProperty("inFlight." + n, Long.toString(lane.inFlight()));
        }
        Path tmp = status.resolveSibling(status.getFileName() + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp)) {
            out.store(w, null);
        }
        Files.move(tmp, status, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Records, per thread, the backend pid of the last source connection handed out. */
    private static final class PidRecordingDataSource extends ForwardingDataSource {
        PidRecordingDataSource(DataSource delegate) {
            super(delegate);
        }

        @Override
        public Connection getConnection() throws SQLException {
            Connection c = delegate.getConnection();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                LAST_SOURCE_PID.set(rs.getInt(1));
            } catch (SQLException e) {
                c.close();
                throw e;
            }
            return c;
        }
    }

    /** A sink database that is down (refuses connections) while a flag file exists. */
    private static final class FlagDataSource extends ForwardingDataSource {
        private final Path flag;

        FlagDataSource(DataSource delegate, Path flag) {
            super(delegate);
            this.flag = flag;
        }

        @Override
        public Connection getConnection() throws SQLException {
            if (Files.exists(flag)) {
                throw new SQLException("connection refused (sink outage injected by the fault suite)", "08001");
            }
            return delegate.getConnection();
        }
    }

    /**
     * Simulated time: runs {@code speed} times faster than real time from {@code simEpoch} at {@code realEpoch},
     * and stops at {@code cap}. The real epoch is fixed by the suite, so a restarted relay continues the same
     * timeline.
     */
    static final class SimClock extends Clock {
        private final Instant realEpoch;
        private final Instant simEpoch;
        private final double speed;
        private final Instant cap;

        SimClock(Instant realEpoch, Instant simEpoch, double speed, Instant cap) {
            this.realEpoch = realEpoch;
            this.simEpoch = simEpoch;
            this.speed = speed;
            this.cap = cap;
        }

        @Override
        public ZoneId getZone() {
            return ZONE;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("the simulated clock stays in " + ZONE);
        }

        @Override
        public Instant instant() {
            long realMillis = Math.max(0, System.currentTimeMillis() - realEpoch.toEpochMilli());
            Instant now = simEpoch.plusMillis((long) (realMillis * speed));
            return now.isAfter(cap) ? cap : now;
        }
    }
}
