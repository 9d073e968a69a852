package dev.relay.core;

import dev.relay.api.LaneSpec;
import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.Sink;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's control role: the owner of the lanes, the runs in flight, the active task ids and the scheduler,
 * changed only in <em>control turns</em> — runnables that the {@link ControlExecutor} runs one at a time. A turn
 * is not a thread: with the default executor it runs on whichever thread submits it while no other turn runs
 * (often the worker that just finished a task). Every entry point below is a turn, or submits one.
 *
 * <ul>
 *   <li><b>intake</b> takes leases from a lane's queue into its buffer (the scheduler's ready queue) — on an
 *       availability signal or the housekeeping timer for every lane, after a completion only for the completed
 *       task's lane and only once its buffer is at most half full, so that a completion costs O(1) in lanes;
 *   <li><b>dispatch</b> asks the scheduler for starts and hands each one to a worker — first to the worker that
 *       just freed the permit, if it is still there ({@link TaskRun#handOff});
 *   <li><b>finish</b> takes a run's outcome, charges its cost, ends its lease as the {@link AttemptPolicy} says,
 *       frees its task id, refills its lane and dispatches again;
 *   <li><b>admin</b> turns change lanes and the permit limit; <b>housekeeping</b> polls every lane at the idle poll
 *       interval, reports lanes of the queue this relay does not serve and refreshes the lanes' start bounds.
 * </ul>
 * The clock is read at most once per turn. Each turn ends by publishing what changed (the lanes it touched, the
 * permit figures) to {@link LaneStats} and {@link EngineStats}, the only state other threads read.
 *
 * <p>The invariants it keeps are those of {@link Relay}'s class comment.
 *
 * <p>Not threadsafe except {@link #requestPump()}, {@link #start()}, {@link #submit} and {@link #shutdown}, which
 * only submit turns: everything else runs in a control turn.
 */
final class ControlLoop implements FairScheduler.Starter<TaskRun> {

    private static final Logger LOG = LoggerFactory.getLogger(ControlLoop.class);
    private static final long UNSET = Long.MIN_VALUE;

    private final RelayConfig config;
    private final TaskQueue queue;
    private final Clock clock;
    private final Executor workers;
    private final ControlExecutor control;
    private final RelayListener listener;
    /** Whether the listener wants {@link RelayListener#reachedHead} (computing the bound costs O(lanes)). */
    private final boolean headListener;
    private final AttemptPolicy policy;
    private final FairScheduler<TaskRun> scheduler;
    private final TaskRun.Context runContext;
    final EngineStats stats;
    private final RelayMetrics metrics;

    private final Map<String, LaneRun> lanes = new LinkedHashMap<>();
    private final ActiveIds ids = new ActiveIds();
    /** Runs holding a permit, as an intrusive list. */
    private TaskRun inFlightHead;
    private int inFlight;
    private int maxInUse;
    private boolean stopping;
    private boolean clean = true;
    private final CompletableFuture<Boolean> stopped = new CompletableFuture<>();

    // ---- per turn ----
    private long turnNanos = UNSET;
    private Instant turnInstant;
    private final List<LaneRun> touched = new ArrayList<>();
    /** The run whose finish turn is dispatching: the first start goes to its worker if it is still there. */
    private TaskRun continuationFrom;
    /** A start the worker executor refused, handled after the scheduler returns. */
    private TaskRun refused;
    private RuntimeException refusal;
    private LaneRun lastStartLane;

    private long rateWakeMillis = Long.MAX_VALUE;
    private final Set<String> unservedWarned = new HashSet<>();
    private final AtomicBoolean pumpPending = new AtomicBoolean();
    private final Runnable pumpTurn = this::pumpTurn;
    private final Runnable wakeTurn = this::wakeTurn;
    private final Runnable housekeepingTurn = this::housekeepingTurn;

    ControlLoop(RelayConfig config) {
        this.config = config;
        this.queue = config.queue;
        this.clock = config.clock;
        this.workers = config.workers;
        this.control = config.control;
        this.listener = config.listener;
        this.headListener = overrides(config.listener);
        this.policy = config.attemptPolicy;
        this.scheduler = FairScheduler.builder().permits(config.permits).quantum(config.quantum).clock(config.clock).build();
        this.runContext = new TaskRun.Context(config.puller, config.ledger, config.control, this::finishTurn);
        this.stats = new EngineStats(config.permits);
        this.metrics = new RelayMetrics(config.meterRegistry, stats, config.queue, config.clock);
        for (RelayConfig.LaneConfig l : config.lanes) {
            addLaneNow(l.spec(), l.sink());
        }
    }

    private static boolean overrides(RelayListener l) {
        try {
            return l.getClass().getMethod("reachedHead", Task.class, Instant.class, long.class).getDeclaringClass()
                    != RelayListener.class;
        } catch (NoSuchMethodException e) {
            return true;
        }
    }

    // ================================================================== entry points (any thread)

    /** Subscribes to the lanes and starts the housekeeping timer, in a turn. */
    void start() {
        control.execute(() -> {
            try {
                queue.subscribe(laneNames());
                pump();
            } finally {
                endTurn();
            }
            control.schedule(config.idlePollInterval, housekeepingTurn);
        });
    }

    /** Asks for a pump turn; coalesced: while one is pending, more requests add nothing. Any thread. */
    void requestPump() {
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
        control.execute(() -> {
            try {
                change.run();
                touchAll();
                pump();
                f.complete(null);
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            } finally {
                endTurn();
            }
        });
        return f;
    }

    /**
     * Begins the shutdown in a turn.
     *
     * @param timeout how long runs in flight may take to finish
     * @return completed with whether every run in flight finished in time
     */
    CompletableFuture<Boolean> shutdown(Duration timeout) {
        control.execute(() -> {
            try {
                beginShutdown(timeout);
            } finally {
                endTurn();
            }
        });
        return stopped;
    }

    // ================================================================== turns

    private void pumpTurn() {
        pumpPending.set(false);
        try {
            pump();
        } finally {
            endTurn();
        }
    }

    private void wakeTurn() {
        rateWakeMillis = Long.MAX_VALUE;
        try {
            pump();
        } finally {
            endTurn();
        }
    }

    private void housekeepingTurn() {
        if (stopping) {
            return;
        }
        try {
            pump();
            refreshUnserved();
            for (LaneRun lane : lanes.values()) {
                lane.stats.headBound = lane.headBound();
            }
        } finally {
            endTurn();
        }
        control.schedule(config.idlePollInterval, housekeepingTurn);
    }

    /** A run's worker is done with it (or gave up): decide, end its lease, and go on. */
    private void finishTurn(TaskRun run) {
        if (run.stage != TaskRun.Stage.RUNNING) {
            return; // withdrawn at shutdown: its lease was released already
        }
        try {
            unlinkInFlight(run);
            LaneRun lane = run.lane;
            touch(lane);
            long service = Math.max(0, now() - run.startNanos);
            long cost = config.costMeasure == CostMeasure.ROWS ? Math.max(1, run.rows) : service;
            scheduler.complete(lane.slane, run.ticket, cost);
            lane.stats.recordService(service, cost);
            AttemptPolicy.Verdict v = policy.afterAttempt(run.error, run.withdrawn(), run.task, lane.spec.retryPolicy(),
                    stopping, config.random);
            endAttempt(run, v, service);
            settle(lane);
            if (stopping) {
                stopIfIdle();
                return;
            }
            if (lane.takesWork() && 2 * lane.room() >= lane.spec.buffer()) {
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
        for (LaneRun lane : lanes.values()) {
            intake(lane);
        }
        scheduler.refreshRates();
        dispatch(null);
    }

    private void intake(LaneRun lane) {
        if (!lane.takesWork()) {
            return;
        }
        int room = lane.room();
        if (room <= 0) {
            return;
        }
        List<Lease> leases;
        try {
            leases = queue.poll(lane.name, room);
        } catch (RuntimeException e) {
            LOG.warn("polling lane '{}' failed; will poll again", lane.name, e);
            return;
        }
        for (int i = 0, n = leases.size(); i < n; i++) {
            admit(lane, leases.get(i));
        }
    }

    private void admit(LaneRun lane, Lease lease) {
        Task t = lease.task();
        String refusal = policy.refusal(t, lane.name, lane.spec.retryPolicy());
        if (refusal != null) {
            if (end(lease, Ending.DEAD_LETTER, refusal, null)) {
                LaneStats.add(lane.stats.deadLettered, 1);
                listener.deadLettered(t, at(), refusal);
            }
            return;
        }
        TaskRun run = new TaskRun(lease, lane, runContext);
        if (!ids.claim(run)) {
            return; // parked behind the active delivery of the same task id and sink
        }
        touch(lane);
        if (lane.enqueue(run) && headListener) {
            reachedHead(lane, run);
        }
    }

    private void dispatch(TaskRun from) {
        continuationFrom = from;
        while (!stopping && scheduler.next(this)) {
            if (refused != null) {
                handleRefused();
                break;
            }
            if (headListener) {
                TaskRun head = lastStartLane.slane.peek();
                if (head != null) {
                    reachedHead(lastStartLane, head);
                }
            }
        }
        continuationFrom = null;
        long wake = scheduler.nextRateRefillMillis();
        if (wake != Long.MAX_VALUE && wake < rateWakeMillis) {
            rateWakeMillis = wake;
            control.schedule(Duration.ofMillis(Math.max(1, wake - clock.millis())), wakeTurn);
        }
    }

    /** The scheduler started a run: its permit is taken. Called from {@link FairScheduler#next}. */
    @Override
    public void onStart(FairScheduler.Lane<TaskRun> slane, TaskRun run, long ticket) {
        LaneRun lane = run.lane;
        run.stage = TaskRun.Stage.RUNNING;
        run.ticket = ticket;
        long now = now();
        run.startNanos = now;
        linkInFlight(run);
        touch(lane);
        lastStartLane = lane;
        long waited = Math.max(0, now - run.readyNanos);
        lane.stats.recordStart(waited);
        int inUse = scheduler.permitsInUse();
        if (inUse > maxInUse) {
            maxInUse = inUse;
        }
        listener.started(run.task, at(), Duration.ofNanos(waited), inUse);
        TaskRun from = continuationFrom;
        if (from != null) {
            continuationFrom = null;
            if (from.handOff(run)) {
                return; // the worker that freed the permit runs it next
            }
        }
        try {
            workers.execute(run);
        } catch (RuntimeException e) {
            refused = run;
            refusal = e;
        }
    }

    private void handleRefused() {
        TaskRun run = refused;
        refused = null;
        LOG.error("the worker executor refused task {}; it is given back and polled again later", run.task.id(), refusal);
        unlinkInFlight(run);
        scheduler.complete(run.lane.slane, run.ticket, 0);
        giveBack(run);
    }

    private void reachedHead(LaneRun lane, TaskRun head) {
        long bound = lane.headBound();
        lane.stats.headBound = bound;
        listener.reachedHead(head.task, at(), bound);
    }

    // ================================================================== lease endings

    /** How a lease ends. */
    private enum Ending { COMPLETE, RETRY, RELEASE, DEAD_LETTER }

    /**
     * Ends a lease. The only place the engine ends leases.
     *
     * @return true if it ended as asked; false if the backend had taken it back already (or failed)
     */
    private static boolean end(Lease lease, Ending ending, String reason, Duration delay) {
        try {
            switch (ending) {
                case COMPLETE -> lease.complete();
                case RETRY -> lease.retry(delay, reason);
                case RELEASE -> lease.release();
                case DEAD_LETTER -> lease.deadLetter(reason);
                default -> throw new AssertionError(ending);
            }
            return true;
        } catch (LeaseLostException e) {
            LOG.info("lease lost: {}", e.getMessage());
            return false;
        } catch (RuntimeException e) {
            LOG.error("ending the lease of task {} ({}) failed; the backend will hand it out again", lease.task().id(),
                    ending, e);
            return false;
        }
    }

    private void endAttempt(TaskRun run, AttemptPolicy.Verdict v, long serviceNanos) {
        LaneRun lane = run.lane;
        LaneStats s = lane.stats;
        Task task = run.task;
        run.stage = TaskRun.Stage.ENDED;
        switch (v.action()) {
            case COMPLETE -> {
                LaneStats.add(end(run.lease, Ending.COMPLETE, null, null) ? s.completed : s.leasesLost, 1);
                LaneStats.add(s.rows, run.rows);
                lane.consecutiveFailures = 0;
                listener.completed(task, at(), Duration.ofNanos(serviceNanos), run.rows);
                completeParked(ids.end(run));
            }
            case RETRY -> {
                LOG.warn("task {} of lane '{}' failed (attempt {}), retrying in {}: {}", task.id(), lane.name,
                        task.attempt(), v.delay(), v.reason());
                if (end(run.lease, Ending.RETRY, v.reason(), v.delay())) {
                    LaneStats.add(s.retried, 1);
                    listener.retried(task, at(), v.delay(), run.error);
                    control.schedule(v.delay(), wakeTurn);
                }
                releaseParked(ids.end(run));
            }
            case RELEASE -> {
                end(run.lease, Ending.RELEASE, null, null);
                releaseParked(ids.end(run));
            }
            case DEAD_LETTER -> {
                LOG.error("task {} of lane '{}' dead-lettered: {}", task.id(), lane.name, v.reason());
                if (end(run.lease, Ending.DEAD_LETTER, v.reason(), null)) {
                    LaneStats.add(s.deadLettered, 1);
                    listener.deadLettered(task, at(), v.reason());
                }
                releaseParked(ids.end(run));
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
        giveBack(lane.suspend());
        giveBackParked(ids.unparkLane(lane));
        int suspension = lane.suspensions;
        LOG.warn("lane '{}' failed {} times in a row: suspended for {}; its buffered tasks were given back",
                lane.name, lane.consecutiveFailures, coolDown);
        control.schedule(coolDown, () -> {
            try {
                if (lanes.get(lane.name) == lane && lane.endSuspension(suspension)) {
                    LOG.info("lane '{}' resumes after its cool-down", lane.name);
                    touch(lane);
                    pump();
                }
            } finally {
                endTurn();
            }
        });
    }

    /** Gives buffered runs back to their queue: released untouched, their ids freed. */
    private void giveBack(List<TaskRun> runs) {
        for (TaskRun r : runs) {
            giveBack(r);
        }
    }

    private void giveBack(TaskRun run) {
        run.stage = TaskRun.Stage.ENDED;
        end(run.lease, Ending.RELEASE, null, null);
        releaseParked(ids.end(run));
    }

    private void giveBackParked(List<TaskRun> parked) {
        for (TaskRun p : parked) {
            p.stage = TaskRun.Stage.ENDED;
            end(p.lease, Ending.RELEASE, null, null);
        }
    }

    /** The first delivery ended without completing: the parked ones go back to their queues and run normally. */
    private static void releaseParked(TaskRun chain) {
        for (TaskRun p = chain; p != null; p = p.parked) {
            p.stage = TaskRun.Stage.ENDED;
            end(p.lease, Ending.RELEASE, null, null);
        }
    }

    /** The first delivery completed: the parked ones, same data for the same sink, are complete too. */
    private static void completeParked(TaskRun chain) {
        for (TaskRun p = chain; p != null; p = p.parked) {
            p.stage = TaskRun.Stage.ENDED;
            if (end(p.lease, Ending.COMPLETE, null, null)) {
                LaneStats.add(p.lane.stats.duplicates, 1);
            }
        }
    }

    // ================================================================== admin (in turns)

    void addLane(LaneSpec spec, Sink sink) {
        if (lanes.containsKey(spec.name())) {
            throw new IllegalArgumentException("lane '" + spec.name() + "' exists already");
        }
        addLaneNow(spec, sink);
        queue.subscribe(laneNames());
    }

    private void addLaneNow(LaneSpec spec, Sink sink) {
        LaneRun lane = new LaneRun(spec, sink, scheduler, ids.forSink(sink));
        lanes.put(spec.name(), lane);
        metrics.register(lane.stats);
        publishLaneList();
    }

    void updateLane(LaneSpec spec) {
        lane(spec.name()).update(spec);
    }

    void pause(String name) {
        LaneRun lane = lane(name);
        giveBack(lane.pause());
        giveBackParked(ids.unparkLane(lane));
    }

    void resume(String name) {
        lane(name).resume();
    }

    void drain(String name, CompletableFuture<Void> drained) {
        LaneRun lane = lane(name);
        lane.drain(drained);
        settle(lane);
    }

    void removeLane(String name, CompletableFuture<Void> gone) {
        LaneRun lane = lane(name);
        giveBack(lane.remove(gone));
        giveBackParked(ids.unparkLane(lane));
        settle(lane);
    }

    void permitLimit(int limit) {
        scheduler.limit(limit);
        stats.permitLimit = limit;
    }

    /** @return how many runs were asked to stop */
    int cancelInFlight() {
        int n = 0;
        for (TaskRun r = inFlightHead; r != null; r = r.nextInFlight) {
            r.withdraw();
            n++;
        }
        if (n > 0) {
            LOG.warn("cancelling the {} tasks running on the source; their leases are given back as they end", n);
        }
        return n;
    }

    private LaneRun lane(String name) {
        LaneRun lane = lanes.get(name);
        if (lane == null) {
            throw new IllegalArgumentException("no lane '" + name + "'; lanes are " + lanes.keySet());
        }
        return lane;
    }

    private Set<String> laneNames() {
        Set<String> names = new HashSet<>();
        for (LaneRun l : lanes.values()) {
            if (l.state() != LaneState.REMOVING) {
                names.add(l.name);
            }
        }
        return names;
    }

    /** Completes the drain or removal of a lane that holds nothing any more. */
    private void settle(LaneRun lane) {
        List<CompletableFuture<Void>> done = lane.settle();
        if (done == null) {
            return;
        }
        touch(lane);
        if (lane.state() == LaneState.REMOVING && lanes.remove(lane.name, lane)) {
            metrics.unregister(lane.stats);
            publishLaneList();
            queue.subscribe(laneNames());
        }
        for (CompletableFuture<Void> f : done) {
            f.complete(null);
        }
    }

    // ================================================================== shutdown

    private void beginShutdown(Duration timeout) {
        if (stopping) {
            return;
        }
        stopping = true;
        queue.setAvailabilityListener(null);
        for (LaneRun lane : lanes.values()) {
            touch(lane);
            giveBack(lane.takeBuffered());
        }
        giveBackParked(ids.unparkAll());
        if (inFlight == 0) {
            stopIfIdle();
            return;
        }
        LOG.info("relay stopping: waiting up to {} for {} tasks in flight", timeout, inFlight);
        control.schedule(timeout, () -> {
            try {
                abandon();
            } finally {
                endTurn();
            }
        });
    }

    private void abandon() {
        if (stopped.isDone() || inFlight == 0) {
            return;
        }
        clean = false;
        LOG.warn("relay stopping: abandoning {} tasks still in flight; their leases are released, not completed", inFlight);
        List<TaskRun> runs = new ArrayList<>(inFlight);
        for (TaskRun r = inFlightHead; r != null; r = r.nextInFlight) {
            runs.add(r);
        }
        for (TaskRun r : runs) {
            r.withdraw();
        }
        for (TaskRun r : runs) {
            unlinkInFlight(r);
            touch(r.lane);
            scheduler.complete(r.lane.slane, r.ticket, 0);
            giveBack(r);
            settle(r.lane);
        }
        stopIfIdle();
    }

    private void stopIfIdle() {
        if (stopping && inFlight == 0 && !stopped.isDone()) {
            touchAll();
            endTurn();
            stopped.complete(clean);
        }
    }

    // ================================================================== unserved lanes

    private void refreshUnserved() {
        Optional<Set<String>> held;
        try {
            held = queue.lanesWithTasks();
        } catch (RuntimeException e) {
            LOG.debug("the queue could not list its lanes", e);
            return;
        }
        if (held.isEmpty()) {
            return;
        }
        Map<String, Long> unserved = new TreeMap<>();
        for (String name : held.get()) {
            if (!lanes.containsKey(name)) {
                long backlog;
                try {
                    backlog = queue.backlog(name);
                } catch (RuntimeException e) {
                    backlog = -1;
                }
                if (backlog != 0) {
                    unserved.put(name, backlog);
                }
            }
        }
        for (Map.Entry<String, Long> e : unserved.entrySet()) {
            if (unservedWarned.add(e.getKey())) {
                LOG.warn("{} tasks wait in lane '{}' of the queue, which this relay does not serve (its lanes are {})",
                        e.getValue() < 0 ? "some" : e.getValue(), e.getKey(), lanes.keySet());
            }
        }
        unservedWarned.retainAll(unserved.keySet());
        if (!unserved.equals(stats.unservedBacklog)) {
            stats.unservedBacklog = Map.copyOf(unserved);
        }
    }

    // ================================================================== in flight, time, publishing

    private void linkInFlight(TaskRun r) {
        r.prevInFlight = null;
        r.nextInFlight = inFlightHead;
        if (inFlightHead != null) {
            inFlightHead.prevInFlight = r;
        }
        inFlightHead = r;
        inFlight++;
    }

    private void unlinkInFlight(TaskRun r) {
        if (r.prevInFlight == null) {
            inFlightHead = r.nextInFlight;
        } else {
            r.prevInFlight.nextInFlight = r.nextInFlight;
        }
        if (r.nextInFlight != null) {
            r.nextInFlight.prevInFlight = r.prevInFlight;
        }
        r.prevInFlight = null;
        r.nextInFlight = null;
        inFlight--;
    }

    /** @return the turn's time in epoch nanos, read from the clock at most once per turn */
    private long now() {
        long t = turnNanos;
        if (t == UNSET) {
            turnInstant = clock.instant();
            t = Clocks.epochNanos(turnInstant);
            turnNanos = t;
        }
        return t;
    }

    private Instant at() {
        now();
        return turnInstant;
    }

    private void touch(LaneRun lane) {
        if (!lane.dirty) {
            lane.dirty = true;
            touched.add(lane);
        }
    }

    private void touchAll() {
        for (LaneRun lane : lanes.values()) {
            touch(lane);
        }
    }

    private void publishLaneList() {
        List<LaneStats> list = new ArrayList<>(lanes.size());
        for (LaneRun l : lanes.values()) {
            list.add(l.stats);
        }
        stats.lanes = List.copyOf(list);
    }

    /** Publishes what the turn changed and forgets the turn's time. */
    private void endTurn() {
        for (int i = 0, n = touched.size(); i < n; i++) {
            touched.get(i).publish();
        }
        touched.clear();
        int inUse = scheduler.permitsInUse();
        if (stats.permitsInUse != inUse) {
            stats.permitsInUse = inUse;
        }
        if (stats.maxPermitsInUse != maxInUse) {
            stats.maxPermitsInUse = maxInUse;
        }
        turnNanos = UNSET;
        turnInstant = null;
        continuationFrom = null;
    }

    /** @return runs in flight (for tests and the invariants: equals the permits in use) */
    int inFlight() {
        return inFlight;
    }

    @Override
    public String toString() {
        return "ControlLoop[" + lanes.size() + " lanes, " + inFlight + " in flight, " + scheduler + "]";
    }
}
