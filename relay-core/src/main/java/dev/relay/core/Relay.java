package dev.relay.core;

import dev.relay.api.CompletionLedger;
import dev.relay.api.LaneSpec;
import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.Puller;
import dev.relay.api.RelayException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay engine: takes leases from each lane's queue into small bounded buffers, starts them on workers as
 * the {@link FairScheduler} hands out source permits, pulls each task's rows from the {@link Puller} into its
 * lane's {@link Sink}, and completes the lease only after the sink committed.
 *
 * <h2>Threads and ownership</h2>
 * All mutable engine state — the scheduler, the lane buffers, the in-flight set, the lane states — is owned by
 * the <em>control</em> thread: every change happens in a turn run by the {@link ControlExecutor}. Workers run
 * pull → sink on the worker {@link Executor} and report back by submitting a turn; the queue's availability
 * listener, the public admin methods and the timers do the same. Lease endings (complete, retry, dead-letter,
 * release) happen in control turns. The only state read from other threads is the published statistics
 * behind {@link #snapshot()} and the Micrometer meters (atomics written by the control thread).
 *
 * <h2>Failures</h2>
 * A failed attempt holds no permit while it waits: the lease is handed back with {@link Lease#retry} and an
 * exponential, jittered delay from the lane's {@link dev.relay.api.RetryPolicy}; after the last attempt, or at
 * once for a non-retryable {@link RelayException}, the task is dead-lettered, so a poison task never blocks its
 * lane. A lane whose tasks fail {@linkplain Builder#suspendAfterFailures repeatedly in a row} is
 * {@linkplain LaneState#SUSPENDED suspended} for a cool-down so that it does not keep running queries against
 * the source for a sink that is down; the other lanes keep their share meanwhile.
 *
 * <h2>Shutdown</h2>
 * {@link #shutdown(Duration)} stops intake, gives buffered leases back untouched, lets tasks in flight finish
 * until the timeout, then cancels and abandons the rest: their leases are released, never completed, so they
 * run again later and the idempotent sink makes the repeat harmless. Nothing uncommitted is ever acknowledged.
 *
 * <p>This class is threadsafe. Build one with {@link #builder()}, then {@link #start()} it.
 */
public final class Relay implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);

    private final TaskQueue queue;
    private final Puller puller;
    private final Map<String, Sink> sinks;
    private final Sink defaultSink;
    private final CompletionLedger ledger;
    private final Clock clock;
    private final Executor workers;
    private final ControlExecutor control;
    private final List<AutoCloseable> owned;
    private final RelayListener listener;
    private final DoubleSupplier random;
    private final Duration idlePollInterval;
    private final Duration defaultShutdownTimeout;
    private final CostMeasure costMeasure;
    private final int suspendAfterFailures;
    private final RelayMetrics metrics;

    // ---- owned by the control thread ----
    private final FairScheduler<Lease> scheduler;
    private final Map<String, LaneRuntime> lanes = new LinkedHashMap<>();
    private final Map<Lease, Dispatch> inFlight = new IdentityHashMap<>();
    /** Ids of the tasks buffered or in flight here, so that a second delivery of one never runs beside it. */
    private final Set<String> activeIds = new HashSet<>();
    /** Second deliveries of an active task id, waiting for the first to end. */
    private final Map<String, List<Lease>> parked = new HashMap<>();
    private boolean stopping;
    private int maxPermitsInUse;
    private long nextWakeMillis = Long.MAX_VALUE;
    /** Whether lanes were added or removed since the last {@link #publish()}. */
    private boolean lanesChanged;

    // ---- shared ----
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean shutdownCalled = new AtomicBoolean();
    private final AtomicBoolean pumpPending = new AtomicBoolean();
    private final AtomicInteger publishedPermitsInUse = new AtomicInteger();
    private final AtomicInteger publishedMaxPermits = new AtomicInteger();
    private final AtomicInteger publishedLimit = new AtomicInteger();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private volatile List<LaneRuntime> publishedLanes = List.of();

    private Relay(Builder b, Config c) {
        this.queue = b.queue;
        this.puller = b.puller;
        this.sinks = Map.copyOf(b.sinks);
        this.defaultSink = b.defaultSink;
        this.ledger = b.ledger;
        this.clock = b.clock;
        this.listener = b.listener;
        this.random = b.random != null ? b.random : new SplittableRandom()::nextDouble;
        this.idlePollInterval = b.idlePollInterval;
        this.defaultShutdownTimeout = b.shutdownTimeout;
        this.costMeasure = b.costMeasure;
        this.suspendAfterFailures = b.suspendAfterFailures;
        this.workers = c.workers;
        this.control = c.control;
        this.owned = c.owned;
        long quantum = b.costMeasure == CostMeasure.ROWS ? b.quantumRows : b.quantum.toNanos();
        this.scheduler = FairScheduler.builder().permits(b.permits).quantum(quantum).clock(b.clock).build();
        this.metrics = new RelayMetrics(b.meterRegistry, this);
        for (LaneSpec spec : b.lanes.values()) {
            LaneRuntime lane = new LaneRuntime(spec, scheduler.addLane(spec), sinkFor(spec.name()));
            lanes.put(spec.name(), lane);
            metrics.register(lane);
        }
        publishedLanes = List.copyOf(lanes.values());
        publishedLimit.set(b.permits);
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    private Sink sinkFor(String lane) {
        Sink s = sinks.get(lane);
        return s != null ? s : defaultSink;
    }

    // ================================================================== lifecycle

    /**
     * Subscribes to the lanes' queues and starts relaying.
     *
     * @return this relay
     * @throws IllegalStateException if already started
     */
    public Relay start() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("relay already started");
        }
        queue.setAvailabilityListener(this::requestPump);
        control.execute(() -> {
            queue.subscribe(laneNames());
            pump();
            scheduleIdlePoll();
        });
        return this;
    }

    /**
     * Stops gracefully: no new tasks are taken; buffered leases are given back; tasks in flight may finish until
     * the timeout, after which they are cancelled and their leases released (never completed).
     *
     * @param timeout how long tasks in flight may take to finish
     * @return true if every task in flight finished in time
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean shutdown(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        if (!shutdownCalled.compareAndSet(false, true)) {
            try {
                terminated.get(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                return false;
            }
            return true;
        }
        if (!started.get()) {
            closeOwned();
            terminated.complete(null);
            return true;
        }
        CountDownLatch done = new CountDownLatch(1);
        AtomicBoolean clean = new AtomicBoolean(true);
        control.execute(() -> beginShutdown(timeout, clean, done));
        boolean inTime = done.await(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
        closeOwned();
        terminated.complete(null);
        return inTime && clean.get();
    }

    /**
     * The same shutdown, for callers that drive the control executor themselves (the simulation): begins it
     * in a control turn and returns a future completed when it ends.
     *
     * @param timeout how long tasks in flight may take to finish
     * @return completed with true if every task in flight finished in time
     */
    public CompletableFuture<Boolean> shutdownAsync(Duration timeout) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        CountDownLatch done = new CountDownLatch(1);
        AtomicBoolean clean = new AtomicBoolean(true);
        control.execute(() -> {
            beginShutdown(timeout, clean, done);
            watchShutdown(done, clean, f);
        });
        return f;
    }

    private void watchShutdown(CountDownLatch done, AtomicBoolean clean, CompletableFuture<Boolean> f) {
        if (done.getCount() == 0) {
            f.complete(clean.get());
        } else {
            control.schedule(Duration.ofMillis(10), () -> watchShutdown(done, clean, f));
        }
    }

    /** Shuts down with the builder's default timeout. */
    @Override
    public void close() {
        try {
            shutdown(defaultShutdownTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeOwned() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("closing {} failed", c, e);
            }
        }
    }

    private void beginShutdown(Duration timeout, AtomicBoolean clean, CountDownLatch done) {
        if (stopping) {
            done.countDown();
            return;
        }
        stopping = true;
        queue.setAvailabilityListener(null);
        for (LaneRuntime lane : lanes.values()) {
            releaseAll(scheduler.drainReady(lane.slane));
        }
        publish();
        if (inFlight.isEmpty()) {
            done.countDown();
            return;
        }
        LOG.info("relay stopping: waiting up to {} for {} tasks in flight", timeout, inFlight.size());
        shutdownLatch = done;
        control.schedule(timeout, () -> abandon(clean, done));
    }

    private CountDownLatch shutdownLatch;

    private void abandon(AtomicBoolean clean, CountDownLatch done) {
        if (inFlight.isEmpty()) {
            return;
        }
        clean.set(false);
        LOG.warn("relay stopping: abandoning {} tasks still in flight; their leases are released, not completed",
                inFlight.size());
        List<Dispatch> abandoned = new ArrayList<>(inFlight.values());
        for (Dispatch d : abandoned) {
            d.abandoned = true; // all flagged before any is cancelled: none may commit after this point
        }
        for (Dispatch d : abandoned) {
            d.cancel();
            endLease(d.lease, l -> l.release());
            released(d.lease.task().id());
            inFlight.remove(d.lease);
            scheduler.complete(d.lane.slane, d.ticket, 0);
        }
        publish();
        done.countDown();
    }

    /** @return a future completed when the relay has shut down */
    public CompletableFuture<Void> terminated() {
        return terminated.copy();
    }

    // ================================================================== admin

    /**
     * Adds a lane at run time, writing to the relay's default sink.
     *
     * @param spec the lane
     * @return completed when the lane was added; failed with IllegalArgumentException if its name exists or
     *     its dedicated permits do not fit
     */
    public CompletableFuture<Void> addLane(LaneSpec spec) {
        return addLane(spec, null);
    }

    /**
     * Adds a lane at run time with its own sink.
     *
     * @param spec the lane
     * @param sink its sink, or null for the default sink
     * @return completed when the lane was added
     */
    public CompletableFuture<Void> addLane(LaneSpec spec, Sink sink) {
        Objects.requireNonNull(spec, "spec");
        Sink s = sink != null ? sink : defaultSink;
        if (s == null) {
            throw new IllegalArgumentException("lane '" + spec.name() + "' has no sink and the relay has no default sink");
        }
        return admin(() -> {
            if (lanes.containsKey(spec.name())) {
                throw new IllegalArgumentException("lane '" + spec.name() + "' exists already");
            }
            LaneRuntime lane = new LaneRuntime(spec, scheduler.addLane(spec), s);
            lanes.put(spec.name(), lane);
            lanesChanged = true;
            metrics.register(lane);
            queue.subscribe(laneNames());
        });
    }

    /**
     * Changes a lane's weight, caps, dedicated permits, rate limit, buffer or retry policy while running.
     *
     * @param spec the new specification of an existing lane
     * @return completed when applied
     */
    public CompletableFuture<Void> updateLane(LaneSpec spec) {
        Objects.requireNonNull(spec, "spec");
        return admin(() -> {
            LaneRuntime lane = lane(spec.name());
            scheduler.updateLane(lane.slane, spec);
            lane.spec = spec;
        });
    }

    /**
     * Holds the relay to {@code limit} source permits from now on, {@code 0 ≤ limit ≤ P}: the permits this process
     * holds of a cluster-wide pool, or an adaptive limit. Lowering it preempts nothing (it takes effect as tasks
     * in flight end); raising it starts work at once. Lanes with dedicated permits keep at least one while the
     * limit is above 0 (see {@link FairScheduler#limit(int)}); 0 starts nothing at all.
     *
     * @param limit the permits to use
     * @return completed when applied
     * @throws IllegalArgumentException if the limit is outside {@code [0, P]}
     */
    public CompletableFuture<Void> permitLimit(int limit) {
        if (limit < 0 || limit > scheduler.permits()) {
            throw new IllegalArgumentException("permit limit must be within [0, " + scheduler.permits() + "] but was " + limit);
        }
        return admin(() -> {
            scheduler.limit(limit);
            publishedLimit.set(limit);
        });
    }

    /**
     * Pauses a lane: it starts nothing and holds no permit; tasks in flight finish.
     *
     * @param name the lane
     * @return completed when paused
     */
    public CompletableFuture<Void> pause(String name) {
        return admin(() -> {
            LaneRuntime lane = lane(name);
            if (lane.state == LaneState.REMOVING) {
                throw new IllegalStateException("lane '" + name + "' is being removed");
            }
            lane.state = LaneState.PAUSED;
            scheduler.pause(lane.slane);
        });
    }

    /**
     * Resumes a paused, drained or suspended lane.
     *
     * @param name the lane
     * @return completed when resumed
     */
    public CompletableFuture<Void> resume(String name) {
        return admin(() -> {
            LaneRuntime lane = lane(name);
            if (lane.state == LaneState.REMOVING) {
                throw new IllegalStateException("lane '" + name + "' is being removed");
            }
            lane.state = LaneState.RUNNING;
            lane.consecutiveFailures = 0;
            scheduler.resume(lane.slane);
        });
    }

    /**
     * Drains a lane: it takes no new tasks from its queue and finishes those it holds; then it is
     * {@link LaneState#DRAINED} until resumed.
     *
     * @param name the lane
     * @return completed when the lane holds nothing
     */
    public CompletableFuture<Void> drain(String name) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        control.execute(() -> {
            try {
                LaneRuntime lane = lane(name);
                lane.state = LaneState.DRAINING;
                scheduler.resume(lane.slane);
                lane.waiters.add(f);
                checkIdle(lane);
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /**
     * Removes a lane: its buffered leases are given back untouched, its tasks in flight finish.
     *
     * @param name the lane
     * @return completed when the lane's last task in flight ended and it is gone
     */
    public CompletableFuture<Void> removeLane(String name) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        control.execute(() -> {
            try {
                LaneRuntime lane = lane(name);
                lane.state = LaneState.REMOVING;
                releaseAll(scheduler.removeLane(lane.slane));
                lane.waiters.add(f);
                checkIdle(lane);
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    private CompletableFuture<Void> admin(Runnable change) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        control.execute(() -> {
            try {
                change.run();
                publish();
                pump();
                f.complete(null);
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    private LaneRuntime lane(String name) {
        LaneRuntime lane = lanes.get(name);
        if (lane == null) {
            throw new IllegalArgumentException("no lane '" + name + "'; lanes are " + lanes.keySet());
        }
        return lane;
    }

    private Set<String> laneNames() {
        Set<String> names = new HashSet<>();
        for (LaneRuntime l : lanes.values()) {
            if (l.state != LaneState.REMOVING) {
                names.add(l.spec.name());
            }
        }
        return names;
    }

    // ================================================================== the control loop

    private void requestPump() {
        if (pumpPending.compareAndSet(false, true)) {
            control.execute(() -> {
                pumpPending.set(false);
                pump();
            });
        }
    }

    private void scheduleIdlePoll() {
        control.schedule(idlePollInterval, () -> {
            if (!stopping) {
                pump();
                scheduleIdlePoll();
            }
        });
    }

    /** Takes leases into the buffers and starts what the scheduler allows. Control thread only. */
    private void pump() {
        if (stopping) {
            return;
        }
        Instant now = clock.instant();
        for (LaneRuntime lane : lanes.values()) {
            if (lane.state == LaneState.SUSPENDED && !now.isBefore(lane.suspendedUntil)) {
                lane.state = LaneState.RUNNING;
                scheduler.resume(lane.slane);
                LOG.info("lane '{}' resumes after its cool-down", lane.spec.name());
            }
            intake(lane, now);
        }
        scheduler.refreshRates();
        dispatch(now);
        long wake = scheduler.nextRateRefillMillis();
        if (wake != Long.MAX_VALUE && wake != nextWakeMillis) {
            nextWakeMillis = wake;
            control.schedule(Duration.ofMillis(Math.max(1, wake - clock.millis())), () -> {
                nextWakeMillis = Long.MAX_VALUE;
                pump();
            });
        }
        publish();
    }

    private void intake(LaneRuntime lane, Instant now) {
        if (lane.state == LaneState.DRAINING || lane.state == LaneState.DRAINED || lane.state == LaneState.REMOVING) {
            return;
        }
        int room = lane.spec.buffer() - lane.slane.ready();
        if (room <= 0) {
            return;
        }
        List<Lease> leases;
        try {
            leases = queue.poll(lane.spec.name(), room);
        } catch (RuntimeException e) {
            LOG.warn("polling lane '{}' failed; will poll again", lane.spec.name(), e);
            return;
        }
        for (Lease lease : leases) {
            Task t = lease.task();
            if (!t.lane().equals(lane.spec.name())) {
                endLease(lease, l -> l.deadLetter("task of lane '" + t.lane() + "' arrived in lane '" + lane.spec.name() + "'"));
                continue;
            }
            if (t.attempt() > lane.spec.retryPolicy().maxAttempts()) {
                String reason = "attempt " + t.attempt() + " exceeds the lane's " + lane.spec.retryPolicy().maxAttempts()
                        + " attempts (earlier deliveries were lost, e.g. the relay crashed while running it)";
                endLease(lease, l -> l.deadLetter(reason));
                lane.deadLettered.incrementAndGet();
                listener.deadLettered(t, now, reason);
                continue;
            }
            if (!activeIds.add(t.id())) {
                // the same task (same id: same data) is buffered or running here already, perhaps from another lane
                // or a re-plan: running both at once could only race in the sink; wait for the first to end
                parked.computeIfAbsent(t.id(), k -> new ArrayList<>()).add(lease);
                continue;
            }
            scheduler.enqueue(lane.slane, lease);
        }
    }

    /** The scheduler's choices arrive here: one object for the relay's life, so a decision allocates nothing. */
    private final FairScheduler.Starter<Lease> starter = this::started;
    /** The time of the dispatch in progress, and whether the worker executor refused a task in it. */
    private Instant dispatchAt;
    private boolean refused;

    private void dispatch(Instant now) {
        dispatchAt = now;
        refused = false;
        while (!refused && scheduler.next(starter)) {
            // each start is handled by started(...)
        }
    }

    private void started(FairScheduler.Lane<Lease> sl, Lease lease, long ticket) {
        Instant now = dispatchAt;
        LaneRuntime lane = lanes.get(sl.name());
        Dispatch d = new Dispatch(lease, lane, ticket, now);
        inFlight.put(lease, d);
        int inUse = scheduler.permitsInUse();
        if (inUse > maxPermitsInUse) {
            maxPermitsInUse = inUse;
        }
        Duration waited = Duration.between(lease.readySince(), now);
        if (waited.isNegative()) {
            waited = Duration.ZERO;
        }
        lane.started.incrementAndGet();
        lane.waits.record(waited);
        metrics.recordWait(lane, waited);
        listener.started(lease.task(), now, waited, inUse);
        try {
            workers.execute(() -> work(d));
        } catch (RuntimeException e) { // the executor refused: give the permit back, retry later
            LOG.error("worker executor refused task {}", lease.task().id(), e);
            inFlight.remove(lease);
            scheduler.complete(sl, ticket, 0);
            endLease(lease, Lease::release);
            released(lease.task().id());
            refused = true;
        }
    }

    // ================================================================== the work (worker threads)

    private void work(Dispatch d) {
        Task task = d.lease.task();
        long rows = 0;
        Throwable error = null;
        SinkSession session = null;
        RowCursor cursor = null;
        try {
            cursor = puller.open(task);
            d.cursor = cursor;
            if (d.abandoned) {
                throw new RelayException("task " + task.id() + " was abandoned at shutdown", true);
            }
            session = d.lane.sink.open(task, cursor.schema());
            while (true) {
                List<Row> chunk = cursor.next();
                if (chunk.isEmpty()) {
                    break;
                }
                session.write(chunk);
                rows += chunk.size();
            }
            if (d.abandoned) {
                throw new RelayException("task " + task.id() + " was abandoned at shutdown before its commit", true);
            }
            session.commit();
            if (ledger != null) {
                ledger.recordCompleted(task, rows);
            }
        } catch (Throwable t) {
            error = t;
            if (session != null) {
                session.abort();
            }
            if (t instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        } finally {
            if (session != null) {
                session.close();
            }
            if (cursor != null) {
                cursor.close();
            }
        }
        long r = rows;
        Throwable e = error;
        try {
            control.execute(() -> finished(d, r, e));
        } catch (java.util.concurrent.RejectedExecutionException rejected) {
            // the relay has shut down and abandoned this task: its lease was released, nothing is acknowledged
            LOG.debug("task {} ended after shutdown; its lease was already released", task.id());
        }
    }

    // ================================================================== completion (control thread)

    private void finished(Dispatch d, long rows, Throwable error) {
        if (inFlight.remove(d.lease) == null) {
            return; // abandoned at shutdown: its lease was released already
        }
        Instant now = clock.instant();
        Duration service = Duration.between(d.startedAt, now);
        long cost = costMeasure == CostMeasure.ROWS ? Math.max(1, rows) : Math.max(0, service.toNanos());
        scheduler.complete(d.lane.slane, d.ticket, cost);
        LaneRuntime lane = d.lane;
        lane.sourceNanos.addAndGet(Math.max(0, service.toNanos()));
        lane.cost.addAndGet(cost);
        metrics.recordService(lane, service);
        Task task = d.lease.task();
        if (error == null) {
            lane.consecutiveFailures = 0;
            if (endLease(d.lease, Lease::complete)) {
                lane.completed.incrementAndGet();
            } else {
                lane.leasesLost.incrementAndGet();
            }
            lane.rows.addAndGet(rows);
            listener.completed(task, now, service, rows);
            completedId(task.id(), now);
        } else {
            failed(lane, d.lease, task, error, now);
            released(task.id());
        }
        checkIdle(lane);
        if (stopping) {
            if (inFlight.isEmpty() && shutdownLatch != null) {
                shutdownLatch.countDown();
            }
            publish();
            return;
        }
        requestPump(); // coalesced: a burst of completions is followed by one pump
    }

    private void failed(LaneRuntime lane, Lease lease, Task task, Throwable error, Instant now) {
        boolean retryable = !(error instanceof RelayException re) || re.retryable();
        if (error instanceof Error && !(error instanceof AssertionError)) {
            retryable = true; // e.g. OutOfMemoryError: not the task's fault
        }
        String reason = describe(error);
        if (retryable && lane.spec.retryPolicy().canRetry(task.attempt()) && !stopping) {
            Duration delay = lane.spec.retryPolicy().delayAfter(task.attempt(), random.getAsDouble());
            LOG.warn("task {} of lane '{}' failed (attempt {}), retrying in {}: {}", task.id(), lane.spec.name(),
                    task.attempt(), delay, reason);
            if (endLease(lease, l -> l.retry(delay, reason))) {
                lane.retried.incrementAndGet();
                listener.retried(task, now, delay, error);
                control.schedule(delay, this::pump);
            }
        } else if (retryable && stopping) {
            endLease(lease, Lease::release);
        } else {
            String why = (retryable ? "failed " + task.attempt() + " attempts; last: " : "not retryable: ") + reason;
            LOG.error("task {} of lane '{}' dead-lettered: {}", task.id(), lane.spec.name(), why);
            if (endLease(lease, l -> l.deadLetter(why))) {
                lane.deadLettered.incrementAndGet();
                listener.deadLettered(task, now, why);
            }
        }
        if (retryable) {
            lane.consecutiveFailures++;
            if (suspendAfterFailures > 0 && lane.consecutiveFailures >= suspendAfterFailures
                    && lane.state == LaneState.RUNNING) {
                int over = lane.consecutiveFailures - suspendAfterFailures;
                Duration coolDown = lane.spec.retryPolicy().delayAfter(1 + over, 0.5);
                lane.state = LaneState.SUSPENDED;
                lane.suspendedUntil = now.plus(coolDown);
                scheduler.pause(lane.slane);
                LOG.warn("lane '{}' failed {} times in a row: suspended for {}", lane.spec.name(),
                        lane.consecutiveFailures, coolDown);
                control.schedule(coolDown, this::pump);
            }
        }
    }

    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        Throwable c = t;
        for (int depth = 0; c != null && depth < 4; depth++, c = c.getCause()) {
            if (depth > 0) {
                sb.append(" <- ");
            }
            sb.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
        }
        return sb.length() > 2000 ? sb.substring(0, 2000) + "…" : sb.toString();
    }

    private void checkIdle(LaneRuntime lane) {
        if (lane.slane.inFlight() > 0 || (lane.state != LaneState.REMOVING && lane.slane.ready() > 0)) {
            return;
        }
        if (lane.state == LaneState.DRAINING) {
            lane.state = LaneState.DRAINED;
            scheduler.pause(lane.slane);
        } else if (lane.state == LaneState.REMOVING) {
            if (!lanes.remove(lane.spec.name(), lane)) {
                return; // removed already
            }
            lanesChanged = true;
            metrics.unregister(lane);
            queue.subscribe(laneNames());
        } else {
            return;
        }
        publish();
        List<CompletableFuture<Void>> waiters = new ArrayList<>(lane.waiters);
        lane.waiters.clear();
        for (CompletableFuture<Void> w : waiters) {
            w.complete(null);
        }
    }

    private interface LeaseEnding {
        void end(Lease lease);
    }

    /** @return true if the lease ended as asked; false if the backend had taken it back already */
    private boolean endLease(Lease lease, LeaseEnding ending) {
        try {
            ending.end(lease);
            return true;
        } catch (LeaseLostException e) {
            LOG.info("lease lost: {}", e.getMessage());
            return false;
        } catch (RuntimeException e) {
            LOG.error("ending the lease of task {} failed; the backend will hand it out again", lease.task().id(), e);
            return false;
        }
    }

    private void releaseAll(List<Lease> leases) {
        for (Lease l : leases) {
            endLease(l, Lease::release);
            released(l.task().id());
        }
    }

    /**
     * A task id is no longer active here (its first delivery ended without completing): its parked second
     * deliveries are given back so that they run normally.
     */
    private void released(String id) {
        activeIds.remove(id);
        List<Lease> dups = parked.remove(id);
        if (dups != null) {
            for (Lease l : dups) {
                endLease(l, Lease::release);
            }
        }
    }

    /** A task id completed here: its parked second deliveries are done too (same id, same data, committed). */
    private void completedId(String id, Instant now) {
        activeIds.remove(id);
        List<Lease> dups = parked.remove(id);
        if (dups != null) {
            for (Lease l : dups) {
                LaneRuntime lane = lanes.get(l.task().lane());
                if (endLease(l, Lease::complete) && lane != null) {
                    lane.duplicates.incrementAndGet();
                }
            }
        }
    }

    // ================================================================== observation

    private void publish() {
        publishedPermitsInUse.set(scheduler.permitsInUse());
        publishedMaxPermits.set(maxPermitsInUse);
        for (LaneRuntime lane : lanes.values()) {
            lane.publish();
        }
        if (lanesChanged) {
            publishedLanes = List.copyOf(lanes.values());
            lanesChanged = false;
        }
    }

    /**
     * The relay's figures now. Threadsafe; reads what the control thread published at the end of its last turn.
     *
     * @return the snapshot
     */
    public RelaySnapshot snapshot() {
        List<LaneSnapshot> out = new ArrayList<>();
        Instant now = clock.instant();
        for (LaneRuntime lane : publishedLanes) {
            out.add(lane.snapshot(now, queue));
        }
        return new RelaySnapshot(now, scheduler.permits(), publishedLimit.get(), publishedPermitsInUse.get(), publishedMaxPermits.get(),
                List.copyOf(out));
    }

    int permitsInUse() {
        return publishedPermitsInUse.get();
    }

    int maxPermitsInUse() {
        return publishedMaxPermits.get();
    }

    Instant now() {
        return clock.instant();
    }

    int permits() {
        return scheduler.permits();
    }

    TaskQueue queue() {
        return queue;
    }

    @Override
    public String toString() {
        return "Relay[" + publishedLanes.size() + " lanes, permits " + publishedPermitsInUse.get() + "/" + scheduler.permits() + "]";
    }

    // ================================================================== builder

    private record Config(Executor workers, ControlExecutor control, List<AutoCloseable> owned) {
    }

    /**
     * Builds a {@link Relay}. Not threadsafe. {@link #build()} validates everything and copies the settings;
     * the builder may be reused.
     */
    public static final class Builder {
        private TaskQueue queue;
        private Puller puller;
        private Sink defaultSink;
        private final Map<String, Sink> sinks = new HashMap<>();
        private final Map<String, LaneSpec> lanes = new LinkedHashMap<>();
        private final List<String> duplicateLanes = new ArrayList<>();
        private CompletionLedger ledger;
        private int permits = 1;
        private Duration quantum = Duration.ofSeconds(1);
        private long quantumRows = 10_000;
        private CostMeasure costMeasure = CostMeasure.SOURCE_TIME;
        private Clock clock = Clock.systemUTC();
        private Executor workers;
        private ControlExecutor control;
        private ThreadFactory threadFactory;
        private MeterRegistry meterRegistry;
        private RelayListener listener = new RelayListener() {
        };
        private DoubleSupplier random;
        private Duration idlePollInterval = Duration.ofMillis(250);
        private Duration shutdownTimeout = Duration.ofSeconds(30);
        private int suspendAfterFailures = 5;

        private Builder() {
        }

        /**
         * @param queue the task queue (required)
         * @return this builder
         */
        public Builder queue(TaskQueue queue) {
            this.queue = Objects.requireNonNull(queue, "queue");
            return this;
        }

        /**
         * @param puller the puller of every lane (required)
         * @return this builder
         */
        public Builder puller(Puller puller) {
            this.puller = Objects.requireNonNull(puller, "puller");
            return this;
        }

        /**
         * @param sink the sink of lanes that have none of their own
         * @return this builder
         */
        public Builder sink(Sink sink) {
            this.defaultSink = Objects.requireNonNull(sink, "sink");
            return this;
        }

        /**
         * @param lane a lane writing to the default sink
         * @return this builder
         */
        public Builder lane(LaneSpec lane) {
            Objects.requireNonNull(lane, "lane");
            if (lanes.putIfAbsent(lane.name(), lane) != null) {
                duplicateLanes.add(lane.name());
            }
            return this;
        }

        /**
         * @param lane a lane
         * @param sink its own sink
         * @return this builder
         */
        public Builder lane(LaneSpec lane, Sink sink) {
            lane(lane);
            sinks.put(lane.name(), Objects.requireNonNull(sink, () -> "sink of lane '" + lane.name() + "'"));
            return this;
        }

        /**
         * @param ledger where completed tasks are recorded after their sink committed, before their lease is completed
         * @return this builder
         */
        public Builder ledger(CompletionLedger ledger) {
            this.ledger = Objects.requireNonNull(ledger, "ledger");
            return this;
        }

        /**
         * @param permits the most tasks pulling from the source at once, across all lanes: 1 to 10,000 (default 1)
         * @return this builder
         */
        public Builder sourcePermits(int permits) {
            if (permits < 1 || permits > 10_000) {
                throw new IllegalArgumentException("sourcePermits must be within [1, 10000] but was " + permits);
            }
            this.permits = permits;
            return this;
        }

        /**
         * @param measure what the scheduler charges lanes for (default {@link CostMeasure#SOURCE_TIME})
         * @return this builder
         */
        public Builder costMeasure(CostMeasure measure) {
            this.costMeasure = Objects.requireNonNull(measure, "costMeasure");
            return this;
        }

        /**
         * @param quantum the scheduler's base quantum when charging source time: a lane of weight w may start about
         *     {@code w · quantum} of work per round; positive, at most one hour (default 1 s)
         * @return this builder
         */
        public Builder quantum(Duration quantum) {
            Objects.requireNonNull(quantum, "quantum");
            if (quantum.isNegative() || quantum.isZero() || quantum.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("quantum must be within (0, 1h] but was " + quantum);
            }
            this.quantum = quantum;
            return this;
        }

        /**
         * @param rows the scheduler's base quantum when charging rows; 1 to 10^9 (default 10,000)
         * @return this builder
         */
        public Builder quantumRows(long rows) {
            if (rows < 1 || rows > 1_000_000_000L) {
                throw new IllegalArgumentException("quantumRows must be within [1, 1e9] but was " + rows);
            }
            this.quantumRows = rows;
            return this;
        }

        /**
         * @param clock the clock for waits, costs, rate limits and retry delays (default system UTC)
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param workers runs pull → sink; needs as many threads as source permits to use them all. Not shut down by
         *     the relay. Default: a pool of {@code sourcePermits} threads owned by the relay.
         * @return this builder
         */
        public Builder workers(Executor workers) {
            this.workers = Objects.requireNonNull(workers, "workers");
            return this;
        }

        /**
         * @param control runs the control turns one at a time. Not shut down by the relay. Default: turns run on
         *     the thread that submits them while no other turn runs (a worker that finishes a task dispatches the
         *     next itself), and one timer thread owned by the relay queues the delayed ones.
         * @return this builder
         */
        public Builder control(ControlExecutor control) {
            this.control = Objects.requireNonNull(control, "control");
            return this;
        }

        /**
         * @param threadFactory makes the threads of the default worker pool and control thread
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * @param registry where per-lane meters are registered (tags {@code lane})
         * @return this builder
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * @param listener observes starts, completions, retries and dead letters
         * @return this builder
         */
        public Builder listener(RelayListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * @param random uniform values in [0, 1) for retry jitter (inject a seeded one for determinism)
         * @return this builder
         */
        public Builder random(DoubleSupplier random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * @param interval how often queues are polled when no availability signal came; 1 ms to 1 h (default 250 ms)
         * @return this builder
         */
        public Builder idlePollInterval(Duration interval) {
            Objects.requireNonNull(interval, "idlePollInterval");
            if (interval.compareTo(Duration.ofMillis(1)) < 0 || interval.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("idlePollInterval must be within [1ms, 1h] but was " + interval);
            }
            this.idlePollInterval = interval;
            return this;
        }

        /**
         * @param timeout how long {@link Relay#close()} lets tasks in flight finish (default 30 s)
         * @return this builder
         */
        public Builder shutdownTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "shutdownTimeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("shutdownTimeout must not be negative but was " + timeout);
            }
            this.shutdownTimeout = timeout;
            return this;
        }

        /**
         * @param failures consecutive retryable failures after which a lane is suspended for a cool-down (its
         *     retry policy's backoff); 0 disables it (default 5)
         * @return this builder
         */
        public Builder suspendAfterFailures(int failures) {
            if (failures < 0) {
                throw new IllegalArgumentException("suspendAfterFailures must not be negative but was " + failures);
            }
            this.suspendAfterFailures = failures;
            return this;
        }

        /**
         * Validates the settings and builds the relay (not yet started).
         *
         * @return the relay
         * @throws IllegalStateException naming the bad setting
         */
        public Relay build() {
            if (queue == null) {
                throw new IllegalStateException("a relay needs a queue: call queue(TaskQueue)");
            }
            if (puller == null) {
                throw new IllegalStateException("a relay needs a puller: call puller(Puller)");
            }
            if (lanes.isEmpty()) {
                throw new IllegalStateException("a relay needs at least one lane: call lane(LaneSpec)");
            }
            if (!duplicateLanes.isEmpty()) {
                throw new IllegalStateException("lanes defined twice: " + duplicateLanes);
            }
            int dedicated = 0;
            List<String> withoutSink = new ArrayList<>();
            for (LaneSpec l : lanes.values()) {
                dedicated += l.dedicatedPermits();
                if (defaultSink == null && !sinks.containsKey(l.name())) {
                    withoutSink.add(l.name());
                }
            }
            if (!withoutSink.isEmpty()) {
                throw new IllegalStateException("lanes " + withoutSink + " have no sink and no default sink was set");
            }
            if (dedicated > permits) {
                throw new IllegalStateException("lanes dedicate " + dedicated + " permits but the relay has only "
                        + permits + " source permits");
            }
            if (dedicated == permits) {
                List<String> starved = lanes.values().stream().filter(l -> l.dedicatedPermits() == 0).map(LaneSpec::name).toList();
                if (!starved.isEmpty()) {
                    throw new IllegalStateException("all " + permits + " source permits are dedicated, so lanes " + starved
                            + " could never run");
                }
            }
            List<AutoCloseable> owned = new ArrayList<>();
            ThreadFactory tf = threadFactory != null ? threadFactory : new NamedThreadFactory("relay");
            Executor w = workers;
            if (w == null) {
                ExecutorService pool = Executors.newFixedThreadPool(permits, tf);
                owned.add(() -> shutdownPool(pool));
                w = pool;
            }
            ControlExecutor c = control;
            if (c == null) {
                ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(tf);
                owned.add(() -> shutdownPool(timer));
                c = new SerialControlExecutor(timer);
            }
            return new Relay(this, new Config(w, c, List.copyOf(owned)));
        }

        private static void shutdownPool(ExecutorService pool) throws InterruptedException {
            pool.shutdown();
            if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
                pool.shutdownNow();
            }
        }
    }

    // ================================================================== per lane and per dispatch

    /** A lane's runtime state. Fields without atomics are owned by the control thread. */
    static final class LaneRuntime {
        LaneSpec spec;
        final FairScheduler.Lane<Lease> slane;
        final Sink sink;
        LaneState state = LaneState.RUNNING;
        int consecutiveFailures;
        Instant suspendedUntil = Instant.MIN;
        final List<CompletableFuture<Void>> waiters = new ArrayList<>();

        final java.util.concurrent.atomic.AtomicLong started = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong completed = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong retried = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong deadLettered = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong leasesLost = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong duplicates = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong rows = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong sourceNanos = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicLong cost = new java.util.concurrent.atomic.AtomicLong();
        final WaitHistogram waits = new WaitHistogram();

        // published copies of control-thread state
        volatile LaneState publishedState = LaneState.RUNNING;
        volatile int publishedBuffered;
        volatile int publishedInFlight;
        volatile Instant publishedOldestReady;
        volatile int publishedWeight;

        LaneRuntime(LaneSpec spec, FairScheduler.Lane<Lease> slane, Sink sink) {
            this.spec = spec;
            this.slane = slane;
            this.sink = sink;
            this.publishedWeight = spec.weight();
        }

        void publish() {
            publishedState = state;
            publishedBuffered = slane.ready();
            publishedInFlight = slane.inFlight();
            Lease head = slane.peek();
            publishedOldestReady = head == null ? null : head.readySince();
            publishedWeight = spec.weight();
        }

        LaneSnapshot snapshot(Instant now, TaskQueue queue) {
            long backlog;
            try {
                long q = queue.backlog(spec.name());
                backlog = q < 0 ? -1 : q + publishedBuffered;
            } catch (RuntimeException e) {
                backlog = -1;
            }
            Instant oldest = publishedOldestReady;
            Duration age = oldest == null || oldest.isAfter(now) ? Duration.ZERO : Duration.between(oldest, now);
            return new LaneSnapshot(spec.name(), publishedState, publishedWeight, backlog, publishedBuffered,
                    publishedInFlight, age, started.get(), completed.get(), retried.get(), deadLettered.get(),
                    leasesLost.get(), rows.get(), waits.percentile(0.5), waits.percentile(0.99), waits.max(),
                    Duration.ofNanos(sourceNanos.get()), cost.get(), duplicates.get());
        }
    }

    /** One task handed to a worker. */
    static final class Dispatch {
        final Lease lease;
        final LaneRuntime lane;
        final long ticket;
        final Instant startedAt;
        volatile RowCursor cursor;
        volatile boolean abandoned;

        Dispatch(Lease lease, LaneRuntime lane, long ticket, Instant startedAt) {
            this.lease = lease;
            this.lane = lane;
            this.ticket = ticket;
            this.startedAt = startedAt;
        }

        void cancel() {
            RowCursor c = cursor;
            if (c != null) {
                try {
                    c.cancel();
                } catch (RuntimeException e) {
                    LOG.warn("cancelling task {} failed", lease.task().id(), e);
                }
            }
        }
    }
}
