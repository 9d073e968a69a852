package dev.relay.examples;

import dev.relay.api.LaneSpec;
import dev.relay.api.Puller;
import dev.relay.api.Sink;
import dev.relay.core.Relay;
import dev.relay.core.RelaySnapshot;
import dev.relay.core.plan.InMemoryCompletionLedger;
import dev.relay.inmemory.InMemoryTaskQueue;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.JdbcPuller;
import dev.relay.jdbc.SnapshotSink;
import dev.relay.jdbc.SourceQuery;
import dev.relay.jdbc.WindowSink;
import dev.relay.simulation.RunRecorder;
import dev.relay.simulation.Simulation;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;

/**
 * The PeMS incident, wired from the real parts: the relay host was down for {@code N} days; at the restart the
 * missed windows go to the backfill lane, while the realtime windows and the 19:00 config snapshots keep coming,
 * all through {@code P} source permits.
 *
 * <p>The {@link Relay} engine, its {@code FairScheduler}, the in-memory queue, the JDBC puller and the JDBC sinks
 * are the library's own. Time is compressed by running the engine on the testkit's {@link Simulation}: every task
 * really pulls its rows from the embedded H2 source and really writes them to the embedded H2 warehouse, and the
 * simulation charges it the source time the real Oracle would have taken ({@link SourceTimeModel}), so a day
 * replays in seconds and the same seed gives the same run. New detector rows arrive in the source every simulated
 * 10 minutes, as they would.
 *
 * <p>Phases: <em>running</em> (planning on) until the backfill is done and at least one day's config snapshots
 * are done, then one more simulated hour of steady state; then <em>draining</em> (planning off) until every lane
 * is empty; then <em>done</em>.
 *
 * <p>Not threadsafe: one thread builds it and calls {@link #advance(Duration)}; the engine runs on that thread.
 */
final class IncidentScenario implements AutoCloseable {

    static final String BACKFILL = "backfill";
    static final String REALTIME = "realtime";
    static final String CONFIG = "config";
    static final String VDS_SOURCE = "vds30sec";
    static final String CONFIG_SOURCE = "pems_config";
    static final String DISTRICT_PARAMETER = "district";
    static final String TABLE_PARAMETER = "table";
    static final ZoneId ZONE = ZoneId.of("America/Los_Angeles");
    /** When the relay host comes back: a Thursday afternoon, so the day's 19:00 snapshot falls into the catch-up. */
    static final LocalDateTime RESTART = LocalDateTime.of(2024, 6, 13, 14, 0);
    /** Steady state kept after the catch-up, before planning stops. */
    static final Duration AFTERGLOW = Duration.ofHours(1);

    enum Phase { RUNNING, DRAINING, DONE }

    private final DemoOptions options;
    private final PemsSource source;
    private final Warehouse warehouse;
    private final Simulation sim;
    private final InMemoryTaskQueue queue;
    private final RunRecorder recorder = new RunRecorder();
    private final InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
    private final ScenarioPlanner planner;
    private final Relay relay;
    /** The uploader host and the Kafka hand-off between, in two-host mode ({@code --kafka}); else null. */
    private final TwoHosts twoHosts;
    private final Instant restart;
    private final LocalDateTime outageStart;
    private final Instant limit;
    private Phase phase = Phase.RUNNING;
    private Instant stopPlanningAt;
    private Instant caughtUpAt;
    private LocalDateTime fedUntil;

    IncidentScenario(DemoOptions options) throws SQLException {
        this.options = options;
        this.restart = RESTART.atZone(ZONE).toInstant();
        this.outageStart = RESTART.minusDays(options.outageDays());
        this.limit = restart.plus(Duration.ofDays(2L * options.outageDays() + 3));
        PemsSource src = null;
        Warehouse wh = null;
        DemoDatabase srcDb = null;
        DemoDatabase whDb = null;
        try {
            srcDb = options.sourceUrl().isPresent() ? DemoDatabase.postgres(options.sourceUrl().get(), "relay_demo_src_")
                    : DemoDatabase.h2("pems-source", ";MODE=Oracle");
            src = new PemsSource(srcDb, options.stations(), options.configScale());
            whDb = options.sinkUrl().isPresent() ? DemoDatabase.postgres(options.sinkUrl().get(), "relay_demo_wh_")
                    : DemoDatabase.h2("pems-warehouse", "");
            wh = new Warehouse(whDb);
            // what the detectors wrote while the relay host was down
            src.generate(outageStart, RESTART);
        } catch (SQLException | RuntimeException e) {
            if (srcDb != null) {
                srcDb.close();
            }
            if (whDb != null) {
                whDb.close();
            }
            throw e;
        }
        this.source = src;
        this.warehouse = wh;
        this.fedUntil = RESTART;

        sim = new Simulation(restart, options.seed());
        queue = sim.queue();
        SourceTimeModel model = new SourceTimeModel(options.seed());

        DemoDatabase sdb = source.database();
        JdbcPuller jdbc = JdbcPuller.builder(source.dataSource(), sdb.dialect())
                .query(SourceQuery.window(VDS_SOURCE, "SELECT * FROM " + sdb.schemaPrefix() + "${" + DISTRICT_PARAMETER
                                + "}.VDS30SEC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end")
                        .identifier(DISTRICT_PARAMETER, "D(3|4|5|6|7|8|10|11|12)").build())
                .query(SourceQuery.snapshot(CONFIG_SOURCE, "SELECT * FROM " + sdb.schema("PEMS") + ".${" + TABLE_PARAMETER + "}")
                        .identifier(TABLE_PARAMETER, "(CONTROLLER|DETECTOR|STATION)_CONFIG(_LOG)?").build())
                .build();
        // the simulation learns how long the task holds the source; the rows come from the real pull
        Puller timed = sim.puller(model::sourceTime, t -> 0);
        Puller puller = task -> {
            timed.open(task).close();
            return jdbc.open(task);
        };
        Dialect wd = warehouse.database().dialect();
        Sink windows = WindowSink.builder(warehouse.dataSource(), wd).table(warehouse.rawTable())
                .timeColumn("SAMPLE_TIME").taskColumn("DISTRICT", DISTRICT_PARAMETER).build();
        Sink snapshots = SnapshotSink.builder(warehouse.dataSource(), wd).table(warehouse.configSchema() + ".${" + TABLE_PARAMETER + "}")
                .identifier(TABLE_PARAMETER, "(CONTROLLER|DETECTOR|STATION)_CONFIG(_LOG)?").minimumRows(1).build();
        List<LaneSpec> lanes = List.of(LaneSpec.builder(BACKFILL).weight(SourceTimeModel.W_BACKFILL).build(),
                LaneSpec.builder(REALTIME).weight(SourceTimeModel.W_REALTIME).build(),
                LaneSpec.builder(CONFIG).weight(SourceTimeModel.W_CONFIG).build());
        if (options.kafka().isPresent()) {
            // two hosts: this relay (the puller host's) hands every task off through Kafka; the uploader host's relay,
            // with its own scheduler, loads the committed hand-offs into the warehouse's sinks
            try {
                twoHosts = TwoHosts.start(options.kafka().get(), lanes, windows, snapshots, CONFIG, options.permits());
            } catch (Exception e) {
                close(source, warehouse);
                throw new IllegalStateException("could not start the two-host hand-off through Kafka at "
                        + options.kafka().get() + ": " + e.getMessage(), e);
            }
            windows = twoHosts.handoff();
            snapshots = twoHosts.handoff();
        } else {
            twoHosts = null;
        }

        relay = Relay.builder()
                .queue(queue)
                .puller(puller)
                .sink(windows)
                .lane(lanes.get(0))
                .lane(lanes.get(1))
                .lane(lanes.get(2), snapshots)
                .sourcePermits(options.permits())
                .quantum(SourceTimeModel.QUANTUM)
                .clock(sim.clock()).control(sim.control()).workers(sim.workers()).random(sim.random())
                .idlePollInterval(Duration.ofMinutes(1))
                .listener(recorder)
                .ledger(ledger)
                .build();
        planner = new ScenarioPlanner(queue, ledger, sim.clock(), ZONE, outageStart, RESTART.toLocalDate());
        relay.start();

        Instant farEnd = limit.plus(Duration.ofDays(1));
        // the detectors keep writing: every 10 minutes the samples of the 10 minutes just past
        sim.every(restart.plus(Duration.ofMinutes(10)), Duration.ofMinutes(10), farEnd, at -> feed(at));
        // planning, once a minute, as an embedding service's timer would
        // the phase changes here too, on simulated time, so that a seed gives the same run at any --speed
        sim.every(restart, Duration.ofMinutes(1), farEnd, at -> {
            if (phase != Phase.RUNNING) {
                return;
            }
            planner.tick(at);
            if (stopPlanningAt == null && caughtUp()) {
                caughtUpAt = at;
                stopPlanningAt = at.plus(AFTERGLOW);
            }
            if (stopPlanningAt != null && !at.isBefore(stopPlanningAt)) {
                phase = Phase.DRAINING;
            }
        });
    }

    private void feed(Instant at) {
        LocalDateTime to = LocalDateTime.ofInstant(at, ZONE);
        try {
            source.generate(fedUntil, to);
            fedUntil = to;
        } catch (SQLException e) {
            throw new IllegalStateException("generating detector rows for " + fedUntil + "/" + to + " failed", e);
        }
    }

    /**
     * Runs the scenario for a slice of simulated time.
     *
     * @param slice how much simulated time
     * @return the phase afterwards
     */
    Phase advance(Duration slice) {
        if (phase == Phase.DONE) {
            return phase;
        }
        Instant until = sim.now().plus(slice);
        if (phase == Phase.DRAINING) {
            sim.runUntil(this::drained, until);
            if (drained()) {
                phase = Phase.DONE;
            }
        } else {
            sim.runUntil(() -> phase != Phase.RUNNING, until);
        }
        if (phase != Phase.DONE && sim.now().isAfter(limit)) {
            throw new IllegalStateException("the scenario did not finish by " + limit + " (simulated); phase " + phase
                    + ", relay " + relay.snapshot());
        }
        return phase;
    }

    private boolean caughtUp() {
        RelaySnapshot s = relay.snapshot();
        long backfillDone = s.lane(BACKFILL).map(l -> l.completed()).orElse(0L);
        boolean backfill = planner.backfillPlanned() > 0 && planner.backfillAllOffered()
                && backfillDone >= planner.backfillPlanned();
        int configDays = planner.snapshotTimes().size();
        long configDone = s.lane(CONFIG).map(l -> l.completed()).orElse(0L);
        boolean config = configDays > 0 && configDone >= (long) configDays * PemsSource.CONFIG_TABLES.size();
        return backfill && config;
    }

    private boolean drained() {
        RelaySnapshot s = relay.snapshot();
        return s.inFlight() == 0 && s.lanes().stream().allMatch(l -> l.backlog() == 0);
    }

    /** @return the phase */
    Phase phase() {
        return phase;
    }

    /** @return the simulated time now */
    Instant now() {
        return sim.now();
    }

    /** @return when the relay host came back */
    Instant restart() {
        return restart;
    }

    /** @return when the backfill and the first config day were done, if they are */
    Instant caughtUpAt() {
        return caughtUpAt;
    }

    /** @return the first window start of the outage */
    LocalDateTime outageStart() {
        return outageStart;
    }

    /** @return the relay's live figures */
    RelaySnapshot snapshot() {
        return relay.snapshot();
    }

    /** @return every start and completion so far */
    RunRecorder recorder() {
        return recorder;
    }

    /** @return the planner */
    ScenarioPlanner planner() {
        return planner;
    }

    /** @return the options */
    DemoOptions options() {
        return options;
    }

    /** @return the source */
    PemsSource source() {
        return source;
    }

    /**
     * Compares the warehouse with the source over every window planned.
     *
     * @return the comparison
     */
    Warehouse.Check verify() throws SQLException, InterruptedException {
        if (twoHosts != null) {
            twoHosts.awaitUploaded(relay.snapshot().completed(), Duration.ofMinutes(10));
        }
        return warehouse.verify(source, outageStart, planner.plannedUntil(outageStart));
    }

    /**
     * @return the district series whose watermark in the completion ledger is behind the end of the planned
     *     windows (each is a window the ledger does not hold as completed)
     */
    List<String> ledgerBehind() {
        LocalDateTime until = planner.plannedUntil(outageStart);
        List<String> behind = new ArrayList<>();
        planner.watermarks().forEach((series, watermark) -> {
            if (watermark.isBefore(until)) {
                behind.add(series + " at " + watermark);
            }
        });
        return behind;
    }

    @Override
    public void close() {
        // tasks in flight finish in simulated time (at most a minute of source time each)
        java.util.concurrent.CompletableFuture<Boolean> stopped = relay.shutdownAsync(Duration.ofMinutes(5));
        sim.runUntil(stopped::isDone, sim.now().plus(Duration.ofMinutes(10)));
        queue.close();
        if (twoHosts != null) {
            try {
                twoHosts.close();
            } catch (Exception e) {
                System.err.println("relay-demo: closing the two-host hand-off failed: " + e);
            }
        }
        close(source, warehouse);
    }

    private static void close(PemsSource source, Warehouse warehouse) {
        warehouse.close();
        source.close();
    }

    /** @return the uploader host in two-host mode ({@code --kafka}) */
    java.util.Optional<TwoHosts> twoHosts() {
        return java.util.Optional.ofNullable(twoHosts);
    }
}
