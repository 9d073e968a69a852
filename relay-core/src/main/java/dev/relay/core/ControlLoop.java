package dev.relay.core;

import dev.relay.api.Lease;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's control role: the owner of the lanes ({@link Lanes}), the runs in flight and the scheduler, changed
 * only in <em>control turns</em> — runnables that the {@link ControlExecutor} runs one at a time. A turn is not a
 * thread: with the default executor it runs on whichever thread submits it while no other turn runs (often the
 * worker that just finished a task). Every entry point below is a turn, or submits one.
 *
 * <ul>
 *   <li><b>intake</b> takes leases from a lane's queue into its buffer (the scheduler's ready queue) — for every
 *       lane after an availability signal (at once if a permit is free, else in the next finish turn) and at the
 *       housekeeping timer; after a completion without a signal only for the completed task's lane, and only once
 *       its buffer is at most half full, so that a completion costs O(1) in lanes;
 *   <li><b>dispatch</b> asks the scheduler for starts and hands each one to a worker — first to the worker that
 *       just freed the permit, if it is still there ({@link TaskRun#handOff});
 *   <li><b>finish</b> takes a run's outcome, charges its cost, ends its lease as the {@link AttemptPolicy} says,
 *       frees its task id, refills its lane and dispatches again;
 *   <li><b>admin</b> turns change lanes and the permit limit; <b>housekeeping</b> polls every lane at the idle poll
 *       interval, reports lanes of the queue this relay does not serve and refreshes the lanes' start bounds;
 *       <b>shutdown</b> gives back what the lanes hold, waits for the runs in flight, abandons them at the timeout.
 * </ul>
 * The clock is read at most once per turn ({@link Turn}); each turn ends by publishing what it changed. The
 * invariants it keeps are those of {@link Relay}'s class comment.
 *
 * <p>Size: above the package's ~500 lines because its turns — intake, dispatch, finish, admin, housekeeping and
 * shutdown — all read and write the same owned state (the lanes, the runs in flight, the scheduler) under the one
 * rule that only a turn changes it; what does not need that state already lives elsewhere ({@link AttemptPolicy},
 * {@link Lanes}, {@link LaneRun}, {@link InFlight}, {@link PermitGate}, {@link Turn}). Cutting the turns apart would
 * give classes that reach back into this one's fields, which is what the split of {@link Relay} removed.
 *
 * <p>Not threadsafe, except {@link #start()}, {@link #requestPump()}, {@link #submit} and {@link #shutdown}, which
 * only submit turns.
 */
final class ControlLoop implements FairScheduler.Starter<TaskRun> {

    private static final Logger LOG = LoggerFactory.getLogger(ControlLoop.class);

    private final RelayConfig config;
    private final TaskQueue queue;
    private final Clock clock;
    private final Executor workers;
    private final ControlExecutor control;
    private final Notifier notify;
    private final AttemptPolicy policy;
    private final FairScheduler<TaskRun> scheduler;
    private final TaskRun.Context runContext;
    final EngineStats stats;
    /** The relay's meters (registering nothing without a registry). */
    final RelayMetrics metrics;
    private final Turn turn;
    private final Lanes lanes;
    private final InFlight inFlight = new InFlight();
    private final UnservedLanes unserved;
    /** Cluster-wide permits: what this process holds and owes; null with the local pool (no cost then). */
    private final PermitGate gate;
    private final AtomicBoolean gateTurnPending = new AtomicBoolean();
    private final Runnable gateTurn = this::gateTurn;

    private int maxInUse;
    private final PermitLimit limits;
    private boolean stopping;
    private boolean clean = true;
    private final CompletableFuture<Boolean> stopped = new CompletableFuture<>();
    /** The run whose finish turn is dispatching: the first start goes to its worker if it is still there. */
    private TaskRun continuationFrom;
    private final Orphans orphans = new Orphans();
    private final Runnable executeOrphans = this::executeOrphans;
    private LaneRun lastStartLane;
    private long rateWakeMillis = Long.MAX_VALUE;

    /** Set by the availability signal, cleared by a turn that takes leases from every lane. */
    private volatile boolean intakeWanted;
    private final AtomicBoolean pumpPending = new AtomicBoolean();
    private final Runnable pumpTurn = () -> {
        pumpPending.set(false);
        inTurn(this::pump);
    };
    private final Runnable wakeTurn = () -> {
        rateWakeMillis = Long.MAX_VALUE;
        inTurn(this::pump);
    };
    private final Runnable housekeepingTurn = this::housekeeping;
    private final Runnable subscribeTurn = this::subscribeTurn;

    ControlLoop(RelayConfig config) {
        this.config = config;
        this.queue = config.queue;
        this.clock = config.clock;
        this.workers = config.workers;
        this.control = config.control;
        this.policy = config.attemptPolicy;
        this.scheduler = FairScheduler.builder().permits(config.permits).quantum(config.quantum).clock(clock).build();
        this.runContext = new TaskRun.Context(config.puller, config.ledger, control, this::finishTurn, orphans);
        this.stats = new EngineStats(config.permits);
        this.turn = new Turn(clock);
        this.notify = new Notifier(config.listener, turn);
        this.metrics = new RelayMetrics(config.meterRegistry, stats, queue, clock);
        if (config.pressure.active()) {
            metrics.registerPressure(stats);
        }
        this.lanes = new Lanes(scheduler, queue, metrics, stats, turn, runContext, notify);
        this.unserved = new UnservedLanes(queue);
        this.limits = new PermitLimit(config, scheduler, stats, lanes);
        for (RelayConfig.LaneConfig l : config.lanes) {
            lanes.add(l.spec(), l.sink());
        }
        if (config.sourcePermits != null) {
            gate = new PermitGate(config.sourcePermits, new GateEngine(), this::requestGateTurn);
            limits.bound(gate); // nothing runs before the store granted a permit
            metrics.registerPermits(gate);
        } else {
            gate = null;
        }
    }

    /** @return the cluster-wide permits' gate, or null with the local pool */
    PermitGate gate() {
        return gate;
    }

    /** A turn for the permit gate: what the store said, a grace that ended. */
    private void gateTurn() {
        gateTurnPending.set(false);
        inTurn(() -> {
            gate.receive();
            pump();
        });
    }

    private void requestGateTurn() {
        if (gateTurnPending.compareAndSet(false, true)) {
            control.execute(gateTurn);
        }
    }

    // ================================================================== entry points (any thread)

    /**
     * Starts the limits, then subscribes to the lanes and pumps in a turn of its own, and starts the housekeeping
     * timer. The subscription is scheduled once the start turn is over, not run in it: with the default executor a
     * turn runs on the thread that submits it (and that thread also runs the turns submitted meanwhile), and a
     * subscription that waits for the cluster (no credentials against a SASL listener waits out the admin client's
     * timeout) must not block {@link Relay#start()}. A refused subscription is reported and retried at every
     * housekeeping turn ({@link Lanes#subscribe()}).
     */
    void start() {
        control.execute(() -> {
            try {
                inTurn(() -> limits.start(this::inTurn, this::pump));
            } finally {
                control.schedule(config.idlePollInterval, housekeepingTurn);
            }
        });
        control.schedule(Duration.ZERO, subscribeTurn);
    }

    private void subscribeTurn() {
        if (stopping) {
            return;
        }
        inTurn(() -> {
            lanes.subscribe();
            pump();
        });
    }

    /**
     * The queue's availability signal: tasks may be waiting in some lane. Marks every lane for intake; if a permit
     * is free, asks for a pump turn (coalesced: while one is pending, more requests add nothing). While every permit
     * is busy no turn is needed: the next finish turn takes the signal. The signal is written before the permits
     * are read here, and the permits are published before the signal is read at the end of every turn, so a signal
     * is never missed: either this side sees a free permit, or the turn that freed it sees the signal.
     */
    void requestPump() {
        intakeWanted = true;
        if (stats.permitsInUse < stats.permitLimit) {
            requestPumpTurn();
        }
    }

    private void requestPumpTurn() {
        if (pumpPending.compareAndSet(false, true)) {
            control.execute(pumpTurn);
        }
    }

    /**
     * Runs a change in a turn, then publishes every lane and pumps.
     *
     * @param change the change; its exception fails the future
     * @return completed when applied
     */
    CompletableFuture<Void> submit(Runnable change) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        control.execute(() -> inTurn(() -> {
            try {
                change.run();
                limits.lanesChanged(); // lanes may have been added, removed or given dedicated permits
                lanes.touchAll();
                pump();
                turn.completeAfterPublishing(f);
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        }));
        return f;
    }

    /**
     * Begins the shutdown.
     *
     * @param timeout how long runs in flight may take to finish
     * @return completed with whether every run in flight finished in time
     */
    CompletableFuture<Boolean> shutdown(Duration timeout) {
        control.execute(() -> inTurn(() -> beginShutdown(timeout)));
        return stopped;
    }

    // ================================================================== turns

    private void inTurn(Runnable body) {
        try {
            body.run();
        } finally {
            endTurn();
        }
    }

    /** Publishes what the turn changed; checks invariant 2 where assertions are enabled (tests). */
    private void endTurn() {
        assert inFlight.size() == scheduler.permitsInUse()
                : "invariant 2: " + inFlight.size() + " runs in flight but " + scheduler.permitsInUse() + " permits in use";
        turn.end(stats, scheduler.permitsInUse(), maxInUse);
        continuationFrom = null;
        if (intakeWanted && !stopping && stats.permitsInUse < stats.permitLimit) {
            requestPumpTurn(); // a signal that arrived while every permit was busy, and one is free now
        }
    }

    private void housekeeping() {
        if (stopping) {
            return;
        }
        inTurn(() -> {
            lanes.retrySubscription();
            pump();
            Map<String, Long> waiting = unserved.refresh(lanes.served());
            if (waiting != null && !waiting.equals(stats.unservedBacklog)) {
                stats.unservedBacklog = Map.copyOf(waiting);
            }
            List<FairScheduler.Running<TaskRun>> running = running();
            Map<LaneRun, Long> oldestRuns = inFlight.oldestPerLane();
            for (LaneRun lane : lanes.all()) {
                lane.stats.headBound = lane.headBound(running);
                lane.stats.headEstimate = lane.headEstimate(running);
                long oldestRun = oldestRuns.getOrDefault(lane, Long.MIN_VALUE);
                if (lane.stats.oldestRunSince != oldestRun) {
                    lane.stats.oldestRunSince = oldestRun;
                }
            }
            limits.publish();
        });
        control.schedule(config.idlePollInterval, housekeepingTurn);
    }

    /** A run's worker is done with it: decide, end its lease, refill, dispatch. */
    private void finishTurn(TaskRun run) {
        if (run.stage() != TaskRun.Stage.RUNNING) {
            return; // withdrawn at shutdown: its lease was released already
        }
        try {
            inFlight.remove(run);
            LaneRun lane = run.lane;
            turn.touch(lane);
            long service = Math.max(0, turn.now() - run.since);
            long cost = config.costMeasure == CostMeasure.ROWS ? Math.max(1, run.rows) : service;
            scheduler.complete(lane.slane, run.ticket, cost);
            lane.stats.recordService(service, cost);
            limits.record(run, service);
            endAttempt(run, policy.afterAttempt(run.error, run.withdrawn(), run.task(), lane.spec.retryPolicy(), stopping,
                    config.random), service);
            lanes.settle(lane);
            if (gate != null) {
                gate.reconcile(); // a revoked permit goes back before the freed one is used again
            }
            if (stopping) {
                stopIfIdle();
                return;
            }
            if (intakeWanted) {
                intakeAll();
            } else if (lane.takesWork() && 2 * lane.room() >= lane.spec.buffer()) {
                intake(lane);
            }
            dispatch(run);
        } finally {
            endTurn();
        }
    }

    // ================================================================== intake and dispatch

    private void pump() {
        if (stopping) {
            return;
        }
        intakeAll();
        scheduler.refreshRates();
        dispatch(null);
    }

    private void intakeAll() {
        intakeWanted = false;
        for (LaneRun lane : lanes.all()) {
            intake(lane);
        }
    }

    private void intake(LaneRun lane) {
        int room = lane.room();
        if (!lane.takesWork() || room <= 0 || stats.permitLimit == 0) {
            return;
        }
        List<Lease> leases;
        try {
            leases = queue.poll(lane.name, room);
        } catch (RuntimeException e) {
            if (lane.stats.pollFailed(String.valueOf(e), turn)) {
                LOG.warn("polling lane '{}' failed; will poll again (and say so when it works again)", lane.name, e);
            } else {
                LOG.debug("polling lane '{}' failed again", lane.name, e);
            }
            return;
        }
        if (lane.stats.pollWorked()) {
            LOG.info("polling lane '{}' works again", lane.name);
        }
        for (int i = 0, n = leases.size(); i < n; i++) {
            admit(lane, leases.get(i));
        }
    }

    private void admit(LaneRun lane, Lease lease) {
        Task t = lease.task();
        String why = policy.refusal(t, lane.name, lane.spec.retryPolicy());
        if (why != null) {
            if (Leases.end(lease, Leases.Ending.DEAD_LETTER, why, null)) {
                LaneStats.add(lane.stats.deadLettered, 1);
                notify.deadLettered(t, why);
            }
            return;
        }
        TaskRun run = new TaskRun(lease, lane);
        if (!lanes.claim(run)) {
            return; // parked behind the active delivery of the same task id and sink
        }
        turn.touch(lane);
        if (lane.enqueue(run) && notify.wantsHeads()) {
            reachedHead(lane, run);
        }
    }

    private void dispatch(TaskRun from) {
        continuationFrom = from;
        while (!stopping && scheduler.next(this)) {
            TaskRun head = notify.wantsHeads() ? lastStartLane.slane.peek() : null;
            if (head != null) {
                reachedHead(lastStartLane, head);
            }
        }
        continuationFrom = null;
        long wake = scheduler.nextRateRefillMillis();
        if (wake != Long.MAX_VALUE && wake < rateWakeMillis) {
            rateWakeMillis = wake;
            control.schedule(Duration.ofMillis(Math.max(1, wake - turn.now() / 1_000_000L)), wakeTurn);
        }
    }

    /** The scheduler started a run: its permit is taken. Called from {@link FairScheduler#next}. */
    @Override
    public void onStart(FairScheduler.Lane<TaskRun> slane, TaskRun run, long ticket) {
        LaneRun lane = run.lane;
        run.stage(TaskRun.Stage.RUNNING);
        run.ticket = ticket;
        long now = turn.now();
        long waited = Math.max(0, now - run.since);
        run.since = now;
        run.atLimit(scheduler.sharedPermitsInUse() >= scheduler.sharedPermits());
        inFlight.add(run);
        turn.touch(lane);
        lastStartLane = lane;
        lane.stats.recordStart(waited);
        int inUse = scheduler.permitsInUse();
        maxInUse = Math.max(maxInUse, inUse);
        notify.started(run.task(), waited, inUse);
        TaskRun from = continuationFrom;
        continuationFrom = null;
        if (from != null && from.handOff(run)) {
            return; // the worker that freed the permit runs it next
        }
        if (orphans.push(run)) {
            control.afterTurn(executeOrphans);
        }
    }

    /** Hands the orphaned starts to the worker executor; runs after the turn (see {@link Orphans}). */
    private void executeOrphans() {
        orphans.executeAll(workers, (run, e) -> control.execute(() -> inTurn(() -> handleRefused(run, e))));
    }

    private void handleRefused(TaskRun run, RuntimeException refusal) {
        if (run.stage() != TaskRun.Stage.RUNNING) {
            return; // abandoned at shutdown meanwhile
        }
        LOG.error("the worker executor refused task {}; it is given back and polled again later", run.task().id(), refusal);
        inFlight.remove(run);
        turn.touch(run.lane);
        scheduler.complete(run.lane.slane, run.ticket, 0);
        lanes.giveBack(run);
        lanes.settle(run.lane);
        if (stopping) {
            stopIfIdle();
        }
    }

    private void reachedHead(LaneRun lane, TaskRun head) {
        List<FairScheduler.Running<TaskRun>> running = running();
        long bound = lane.headBound(running);
        lane.stats.headBound = bound;
        lane.stats.headEstimate = lane.headEstimate(running);
        notify.reachedHead(head.task(), bound);
    }

    /** @return the tasks holding permits, with the cost each has accrued by now, for the start bounds */
    private List<FairScheduler.Running<TaskRun>> running() {
        return inFlight.running(turn.now(), config.costMeasure == CostMeasure.SOURCE_TIME);
    }

    // ================================================================== the end of an attempt

    private void endAttempt(TaskRun run, AttemptPolicy.Verdict v, long serviceNanos) {
        LaneRun lane = run.lane;
        LaneStats s = lane.stats;
        Task task = run.task();
        run.stage(TaskRun.Stage.ENDED);
        switch (v.action()) {
            case COMPLETE -> {
                // the worker completed the lease already (TaskRun.attempt)
                LaneStats.add(run.leaseLost() ? s.leasesLost : s.completed, 1);
                LaneStats.add(s.rows, run.rows);
                lane.consecutiveFailures = 0;
                notify.completed(task, serviceNanos, run.rows);
                lanes.completed(run);
            }
            case RETRY -> {
                LOG.warn("task {} of lane '{}' failed (attempt {}), retrying in {}: {}", task.id(), lane.name,
                        task.attempt(), v.delay(), v.reason());
                if (Leases.end(run.lease, Leases.Ending.RETRY, v.reason(), v.delay())) {
                    LaneStats.add(s.retried, 1);
                    notify.retried(task, v.delay(), run.error);
                    control.schedule(v.delay(), wakeTurn);
                }
                lanes.ended(run);
            }
            case RELEASE -> {
                Leases.end(run.lease, Leases.Ending.RELEASE, null, null);
                lanes.ended(run);
            }
            case DEAD_LETTER -> {
                LOG.error("task {} of lane '{}' dead-lettered: {}", task.id(), lane.name, v.reason());
                if (Leases.end(run.lease, Leases.Ending.DEAD_LETTER, v.reason(), null)) {
                    LaneStats.add(s.deadLettered, 1);
                    notify.deadLettered(task, v.reason());
                }
                lanes.ended(run);
            }
            default -> throw new AssertionError(v);
        }
        if (v.failure()) {
            lane.consecutiveFailures++;
            Duration coolDown = policy.suspension(lane.consecutiveFailures, lane.spec.retryPolicy());
            if (coolDown != null && lane.state() == LaneState.RUNNING && !stopping) {
                suspend(lane, coolDown);
            }
        }
    }

    private void suspend(LaneRun lane, Duration coolDown) {
        lanes.suspend(lane);
        int suspension = lane.suspensions;
        LOG.warn("lane '{}' failed {} times in a row: suspended for {}; its buffered tasks were given back",
                lane.name, lane.consecutiveFailures, coolDown);
        control.schedule(coolDown, () -> inTurn(() -> {
            if (lanes.contains(lane.name) && lane.endSuspension(suspension)) {
                LOG.info("lane '{}' resumes after its cool-down", lane.name);
                turn.touch(lane);
                pump();
            }
        }));
    }

    // ================================================================== admin (in turns)

    /** @return the lanes, for admin changes in a turn ({@link #submit}) */
    Lanes lanes() {
        return lanes;
    }

    /**
     * Sets the permit limit from outside; the relay uses {@code min(limit, P_eff)} ({@link PermitLimit}), and with
     * cluster-wide permits at most what this process holds.
     */
    void permitLimit(int limit) {
        limits.setOutside(limit);
    }

    /** @return how many runs were asked to stop */
    int cancelInFlight() {
        List<TaskRun> runs = inFlight.list();
        for (TaskRun r : runs) {
            r.withdraw();
        }
        if (!runs.isEmpty()) {
            LOG.warn("cancelling the {} tasks running on the source; their leases are given back as they end", runs.size());
        }
        return runs.size();
    }

    /** The control loop as the permit gate sees it; every method runs in a control turn. */
    private final class GateEngine implements PermitGate.Engine {
        @Override
        public int inFlight() {
            return inFlight.size();
        }

        @Override
        public int cancelledInFlight() {
            int n = 0;
            for (TaskRun r : inFlight.list()) {
                if (r.withdrawn()) {
                    n++;
                }
            }
            return n;
        }

        @Override
        public int cancelNewest(int n) {
            int done = 0;
            for (TaskRun r : inFlight.list()) { // most recently dispatched first: the least work lost
                if (done == n) {
                    break;
                }
                if (!r.withdrawn()) {
                    r.withdraw();
                    done++;
                }
            }
            return done;
        }

        @Override
        public void heldChanged() {
            limits.heldChanged();
        }

        @Override
        public long now() {
            return turn.now();
        }

        @Override
        public void wakeAfter(Duration delay) {
            control.schedule(delay, ControlLoop.this::requestGateTurn);
        }
    }

    // ================================================================== shutdown

    private void beginShutdown(Duration timeout) {
        if (stopping) {
            return;
        }
        stopping = true;
        limits.close();
        queue.setAvailabilityListener(null);
        lanes.giveBackAll();
        if (inFlight.size() == 0) {
            stopIfIdle();
            return;
        }
        LOG.info("relay stopping: waiting up to {} for {} tasks in flight", timeout, inFlight.size());
        control.schedule(timeout, () -> inTurn(this::abandon));
    }

    private void abandon() {
        if (stopped.isDone() || inFlight.size() == 0) {
            return;
        }
        clean = false;
        LOG.warn("relay stopping: abandoning {} tasks still in flight; their leases are released, not completed",
                inFlight.size());
        List<TaskRun> runs = inFlight.list();
        for (TaskRun r : runs) {
            r.withdraw(); // all flagged before any lease is released: none may commit after this point
        }
        for (TaskRun r : runs) {
            inFlight.remove(r);
            turn.touch(r.lane);
            scheduler.complete(r.lane.slane, r.ticket, 0);
            if (r.claimEnding(TaskRun.BY_CONTROL)) {
                lanes.giveBack(r);
            } else { // the attempt succeeded and its worker completes the lease
                r.stage(TaskRun.Stage.ENDED);
                LaneStats.add(r.lane.stats.completed, 1);
                lanes.completed(r);
            }
            lanes.settle(r.lane);
        }
        stopIfIdle();
    }

    private void stopIfIdle() {
        if (stopping && inFlight.size() == 0 && !stopped.isDone()) {
            lanes.touchAll();
            endTurn();
            stopped.complete(clean);
        }
    }

    /** @return runs in flight (equal to the permits in use: invariant 2) */
    int inFlight() {
        return inFlight.size();
    }

    /** @return the scheduler's permits in use */
    int permitsInUse() {
        return scheduler.permitsInUse();
    }

    /** @return active task ids over all sinks */
    int activeIds() {
        return lanes.activeIds();
    }

    @Override
    public String toString() {
        return "ControlLoop[" + lanes.all().size() + " lanes, " + inFlight.size() + " in flight, " + scheduler + "]";
    }
}
