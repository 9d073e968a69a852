package dev.relay.core;

import dev.relay.api.CompletionLedger;
import dev.relay.api.Health;
import dev.relay.api.LaneSpec;
import dev.relay.api.Lease;
import dev.relay.api.Puller;
import dev.relay.api.PermitStatus;
import dev.relay.api.Sink;
import dev.relay.api.SourcePermits;
import dev.relay.api.TaskQueue;
import dev.relay.core.pressure.Pressure;
import dev.relay.core.pressure.PressureSnapshot;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.DoubleSupplier;
import java.util.regex.Pattern;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay engine: takes leases from each lane's queue into small bounded buffers, starts them on workers as
 * the {@link FairScheduler} hands out source permits, pulls each task's rows from the {@link Puller} into its
 * lane's {@link Sink}, and completes the lease only after the sink committed.
 *
 * <h2>Who owns what</h2>
 * <ul>
 *   <li>{@code Relay} (this class) is the façade: lifecycle, admin and snapshots. It holds no engine state of its
 *       own; every change goes to the control loop as a <em>control turn</em>.
 *   <li>The control loop ({@code ControlLoop}) owns the lanes, the runs in flight, the active task ids and the
 *       scheduler, and changes them only in control turns, which the {@link ControlExecutor} runs one at a time
 *       (with the default executor, on whichever thread submits a turn while none runs: a control turn is a role,
 *       not a thread).
 *   <li>A task run ({@code TaskRun}) is the only code on worker threads: sink session, source cursor, commit,
 *       ledger, and the completion of the lease of an attempt that succeeded; it leaves its outcome for its finish
 *       turn and, if that turn hands it the next task, runs it on the same permit.
 *   <li>The attempt policy ({@code AttemptPolicy}) decides, as a pure function, what an outcome means for the
 *       lease: complete, retry after a delay, release, dead-letter, and when a failing lane is suspended.
 *   <li>Each lane's run state has one owner ({@code LaneRun}); other threads read lanes only through their
 *       published statistics ({@code LaneStats}), which {@link #snapshot()} and the Micrometer meters use.
 *   <li>{@link Builder} validates and copies the settings into an immutable configuration.
 * </ul>
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li><b>Every lease taken is ended exactly once</b>, in exactly one of these places: at intake, dead-lettered
 *       without running (a task of another lane, or beyond its attempts); released when its lane stops starting
 *       work (pause, suspension, removal, a permit limit of 0) or the relay stops; ended with the delivery it was
 *       parked behind (completed with it if it completed, else released); released if the worker executor refuses
 *       it; completed by the worker whose attempt succeeded; ended as the attempt policy says in the finish turn of
 *       an attempt that failed; released when abandoned at the shutdown timeout (unless its worker already
 *       claimed it for completion: one compare-and-set decides). All but the worker's completion happen in control
 *       turns. A lease the backend already took back ({@link dev.relay.api.LeaseLostException}) counts as ended.
 *   <li><b>Permits in use equal tasks in flight</b>: a permit is taken when a run is dispatched and given back
 *       when its finish turn runs or it is abandoned, so the scheduler's permits in use always equal the runs in
 *       flight, never more than {@code P} (nor, once the runs started before a lowering ended, the
 *       {@linkplain #permitLimit limit}).
 *   <li><b>Complete after commit</b>: a lease is completed only after its own attempt's sink session committed and
 *       the ledger recorded the task — or, for a delivery parked behind another of the same task id and sink,
 *       after that one's did.
 *   <li><b>One active delivery per task id and sink</b>: at any time at most one delivery of a task id bound for
 *       a given sink is buffered or running; the others are parked behind it (invariant 3 says how they end).
 *       Deliveries of one id bound for different sinks are different work and run independently.
 *   <li><b>No lease idles in a stopped lane</b>: a paused, suspended or removed lane, and a stopping relay, hold
 *       no buffered or parked lease after the turn that stopped it, so no lease can time out and run again because
 *       of a pause, a suspension or a sink outage; retries wait in the queue, off-permit and without a lease.
 *   <li><b>Only control turns change engine state</b>; other threads submit turns or read published statistics.
 * </ol>
 * {@code RelayInvariantsTest} in {@code relay-simulation} checks them over random interleavings of offers,
 * completions, failures, pauses, re-weights, limit changes and shutdown.
 *
 * <h2>Failures</h2>
 * A failed attempt holds no permit while it waits: the lease is handed back with {@link Lease#retry} and an
 * exponential, jittered delay from the lane's {@link dev.relay.api.RetryPolicy}; after the last attempt, or at
 * once for a non-retryable {@link dev.relay.api.RelayException}, the task is dead-lettered, so a poison task never
 * blocks its lane. A lane whose tasks fail {@linkplain Builder#suspendAfterFailures repeatedly in a row} is
 * {@linkplain LaneState#SUSPENDED suspended} for a cool-down so that it does not keep running queries for a sink
 * that is down; the other lanes keep their share meanwhile. The sink session is opened before the source is
 * queried ({@link Sink#openBeforePull}), so a sink that says it is down costs no source query.
 *
 * <h2>Shutdown</h2>
 * {@link #shutdown(Duration)} stops intake, gives buffered leases back untouched, lets tasks in flight finish
 * until the timeout, then cancels and abandons the rest: their leases are released, never completed, so they
 * run again later and the idempotent sink makes the repeat harmless. Nothing uncommitted is ever acknowledged.
 *
 * <p>This class is threadsafe. Build one with {@link #builder()}, then {@link #start()} it.
 *
 * <h2>Operating it</h2>
 * {@link #health()} says how well it works and why not ({@code HealthCheck} computes it on demand from the published
 * figures); {@link Builder#jmx()} registers a {@link RelayAdminMBean} for JMX clients while it runs.
 *
 * <p>Size: this file is above the package's ~500 lines because it holds, nested, the public {@link Builder} (one
 * documented, validating setter per option, about 40 % of the file); the façade itself is about 400 lines, nearly
 * all of it javadoc of the public methods.
 */
public final class Relay implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");

    private final RelayConfig config;
    private final ControlLoop loop;
    private final EngineStats stats;
    private final HealthCheck health;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean shutdownCalled = new AtomicBoolean();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** The relay's registered MBean, while it is registered. */
    private volatile ObjectName mbean;

    private Relay(RelayConfig config) {
        this.config = config;
        this.loop = new ControlLoop(config);
        this.stats = loop.stats;
        this.health = new HealthCheck(config, stats, loop.gate());
        loop.metrics.registerHealth(this::health);
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
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
        if (config.jmx) {
            try {
                mbean = RelayAdmin.register(this, config.mbeanServer);
            } catch (RuntimeException e) { // before anything started: nothing to stop, the queue untouched
                shutdownCalled.set(true);
                closeOwned();
                terminate();
                throw e;
            }
        }
        health.started();
        config.queue.setAvailabilityListener(loop::requestPump);
        loop.start();
        if (config.sourcePermits != null) {
            try {
                config.sourcePermits.start(loop.gate());
            } catch (RuntimeException e) {
                shutdownAsync(Duration.ZERO);
                throw e;
            }
        }
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
        health.stopping();
        if (!shutdownCalled.compareAndSet(false, true)) {
            try {
                terminated.get(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                return false;
            }
            return true;
        }
        if (!started.get()) {
            closeOwned();
            terminate();
            return true;
        }
        boolean clean;
        try {
            clean = loop.shutdown(timeout).get(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            clean = false;
        }
        closePermits();
        closeOwned();
        terminate();
        return clean;
    }

    /**
     * The same shutdown, for callers that drive the control executor themselves (the simulation): begins it in a
     * control turn and returns a future completed when it ends. The executors the relay made, if any, are then shut
     * down without waiting for their threads to end.
     *
     * @param timeout how long tasks in flight may take to finish
     * @return completed with true if every task in flight finished in time
     */
    public CompletableFuture<Boolean> shutdownAsync(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        health.stopping();
        shutdownCalled.set(true);
        return loop.shutdown(timeout).whenComplete((clean, e) -> {
            closePermits();
            // completed in a control turn, perhaps on one of these threads: ask them to stop, do not wait for them
            config.owned.forEach(ExecutorService::shutdown);
            terminate();
        });
    }

    /** Shuts down with the builder's default timeout. */
    @Override
    public void close() {
        try {
            shutdown(config.shutdownTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Gives the cluster-wide permits back once nothing runs on them any more. */
    private void closePermits() {
        if (config.sourcePermits != null) {
            try {
                config.sourcePermits.close();
            } catch (RuntimeException e) {
                LOG.warn("closing the source permits {} failed; they expire after their lease", config.sourcePermits, e);
            }
        }
    }

    /** Shuts down the executors the relay made, waiting up to 5 s for each (then interrupting). */
    private void closeOwned() {
        for (ExecutorService pool : config.owned) {
            pool.shutdown();
            try {
                if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
                    pool.shutdownNow();
                }
            } catch (InterruptedException e) {
                pool.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    private void terminate() {
        ObjectName registered = mbean;
        if (registered != null) {
            mbean = null;
            RelayAdmin.unregister(registered, config.mbeanServer);
        }
        health.stopped();
        terminated.complete(null);
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
     * Adds a lane at run time with its own sink. If the queue refuses the new subscription, the lane is added all the
     * same: the relay subscribes again at every idle poll interval until it works, and {@link #health()} reports it.
     *
     * @param spec the lane
     * @param sink its sink, or null for the default sink
     * @return completed when the lane was added
     * @throws IllegalArgumentException if there is neither a sink nor a default sink
     */
    public CompletableFuture<Void> addLane(LaneSpec spec, Sink sink) {
        Objects.requireNonNull(spec, "spec");
        Sink s = sink != null ? sink : config.defaultSink;
        if (s == null) {
            throw new IllegalArgumentException("lane '" + spec.name() + "' has no sink and the relay has no default sink");
        }
        return loop.submit(() -> loop.lanes().addNow(spec, s));
    }

    /**
     * Changes a lane's weight, caps, dedicated permits, rate limit, buffer or retry policy while running.
     *
     * @param spec the new specification of an existing lane
     * @return completed when applied
     */
    public CompletableFuture<Void> updateLane(LaneSpec spec) {
        Objects.requireNonNull(spec, "spec");
        return loop.submit(() -> loop.lanes().update(spec));
    }

    /**
     * Changes a lane's weight while running, keeping the rest of its specification.
     *
     * @param name the lane
     * @param weight its new weight (as {@link LaneSpec.Builder#weight} accepts)
     * @return completed when applied; failed with IllegalArgumentException if there is no such lane or the weight is
     *     out of range
     */
    public CompletableFuture<Void> reweight(String name, int weight) {
        Objects.requireNonNull(name, "name");
        return loop.submit(() -> loop.lanes().reweight(name, weight));
    }

    /**
     * Holds the relay to {@code limit} source permits from now on, {@code 0 ≤ limit ≤ P}: an operator's limit. With
     * {@linkplain Builder#pressure adaptive pressure} the relay uses {@code min(limit, P_eff)}; with cluster-wide
     * {@linkplain Builder#sourcePermits(SourcePermits) source permits}, also at most what this process holds (the
     * permits it holds beyond the limit then idle). Lowering it preempts nothing (it takes effect as tasks
     * in flight end); raising it starts work at once. Lanes with dedicated permits keep at least one while the
     * limit is above 0 (see {@link FairScheduler#limit(int)}); 0 starts nothing at all, and the lanes then also give
     * back the leases they buffer and take none until the limit rises (so that none times out meanwhile).
     *
     * @param limit the permits to use
     * @return completed when applied
     * @throws IllegalArgumentException if the limit is outside {@code [0, P]}
     */
    public CompletableFuture<Void> permitLimit(int limit) {
        if (limit < 0 || limit > config.permits) {
            throw new IllegalArgumentException("permit limit must be within [0, " + config.permits + "] but was " + limit);
        }
        return loop.submit(() -> loop.permitLimit(limit));
    }

    /**
     * Cancels the tasks running on the source now (their cursors are cancelled): a process that lost its right to
     * query the source stops at once. Their leases are released as their attempts end — not completed unless the
     * sink had already committed, no attempt counted — so the tasks run again later. Combine it with
     * {@code permitLimit(0)} so that nothing new starts.
     *
     * @return completed with the number of tasks asked to stop
     */
    public CompletableFuture<Integer> cancelInFlight() {
        CompletableFuture<Integer> n = new CompletableFuture<>();
        loop.submit(() -> n.complete(loop.cancelInFlight())).exceptionally(e -> {
            n.completeExceptionally(e);
            return null;
        });
        return n;
    }

    /**
     * Pauses a lane: it starts nothing and holds no permit; tasks in flight finish. Its buffered leases are given
     * back at once (so none times out while the lane waits), and it takes no new ones until resumed.
     *
     * @param name the lane
     * @return completed when paused
     */
    public CompletableFuture<Void> pause(String name) {
        return loop.submit(() -> loop.lanes().pause(name));
    }

    /**
     * Resumes a paused, drained or suspended lane.
     *
     * @param name the lane
     * @return completed when resumed
     */
    public CompletableFuture<Void> resume(String name) {
        return loop.submit(() -> loop.lanes().resume(name));
    }

    /**
     * Drains a lane: it takes no new tasks from its queue and finishes those it holds; then it is
     * {@link LaneState#DRAINED} until resumed.
     *
     * @param name the lane
     * @return completed when the lane holds nothing
     */
    public CompletableFuture<Void> drain(String name) {
        CompletableFuture<Void> drained = new CompletableFuture<>();
        loop.submit(() -> loop.lanes().drain(name, drained)).exceptionally(e -> {
            drained.completeExceptionally(e);
            return null;
        });
        return drained;
    }

    /**
     * Removes a lane: its buffered leases are given back untouched, its tasks in flight finish.
     *
     * @param name the lane
     * @return completed when the lane's last task in flight ended and it is gone
     */
    public CompletableFuture<Void> removeLane(String name) {
        CompletableFuture<Void> gone = new CompletableFuture<>();
        loop.submit(() -> loop.lanes().remove(name, gone)).exceptionally(e -> {
            gone.completeExceptionally(e);
            return null;
        });
        return gone;
    }

    // ================================================================== observation

    /**
     * What this process holds of its source permits and what happened to them: for the local pool, all {@code P}
     * from the start; for cluster-wide permits, the store's figures (held, fenced, lease remaining, grants,
     * revocations, losses, renewals). Threadsafe.
     *
     * @return the status
     */
    public PermitStatus permitStatus() {
        if (config.sourcePermits != null) {
            return config.sourcePermits.status();
        }
        boolean running = started.get() && !terminated.isDone();
        return new PermitStatus(config.permits, running ? config.permits : 0, 0, Duration.ZERO, Duration.ZERO,
                running ? config.permits : 0, 0, 0, 0, 0, 0);
    }

    /**
     * @return queries this relay cancelled because their cluster-wide permit was lost (self-fencing) or a revoked
     *     permit's grace ended; 0 with the local pool. Threadsafe
     */
    public long permitCancellations() {
        PermitGate gate = loop.gate();
        return gate == null ? 0 : gate.cancellations();
    }

    /**
     * How well the relay works now: {@link dev.relay.api.HealthStatus#UP}, or the issues that keep it from working
     * fully — not running; lanes suspended after repeated failures; a lane whose oldest buffered task has waited for a
     * permit beyond {@link Builder#healthMaxWait}; polls of the queue failing; what the queue reports itself
     * ({@link TaskQueue#health()}: unreachable, authentication or authorization failures); cluster-wide permits
     * that do not come back or that this process fenced itself from. Computed when asked from the figures the
     * control turns publish (nothing is kept per task), plus one call of the queue's {@code health()}; each issue
     * says since when it holds. Threadsafe.
     *
     * @return the health
     */
    public Health health() {
        return health.health(stats.lanes);
    }

    /** @return the relay's name ({@link Builder#name}) */
    public String name() {
        return config.name;
    }

    /**
     * The relay's figures now. Threadsafe; reads what the control turns published at their end, and asks the
     * queue for each lane's backlog.
     *
     * @return the snapshot
     */
    public RelaySnapshot snapshot() {
        Instant now = config.clock.instant();
        List<LaneSnapshot> out = new ArrayList<>();
        for (LaneStats lane : stats.lanes) {
            long backlog;
            try {
                backlog = config.queue.backlog(lane.name);
            } catch (RuntimeException e) {
                backlog = -1;
            }
            out.add(lane.snapshot(now, backlog));
        }
        PressureSnapshot pressure = stats.pressure;
        return new RelaySnapshot(now, stats.permits, stats.permitLimit, stats.permitsInUse, stats.maxPermitsInUse,
                List.copyOf(out), stats.unservedBacklog, pressure != null ? pressure : PressureSnapshot.off(now, stats.permits),
                health());
    }

    @Override
    public String toString() {
        return "Relay[" + stats.lanes.size() + " lanes, permits " + stats.permitsInUse + "/" + stats.permits + "]";
    }

    // ================================================================== builder

    /**
     * Builds a {@link Relay}. Not threadsafe. {@link #build()} validates everything and copies the settings;
     * the builder may be reused.
     */
    public static final class Builder {
        TaskQueue queue;
        Puller puller;
        Sink defaultSink;
        final Map<String, Sink> sinks = new HashMap<>();
        final Map<String, LaneSpec> lanes = new LinkedHashMap<>();
        final List<String> duplicateLanes = new ArrayList<>();
        CompletionLedger ledger;
        int permits = 1;
        boolean permitsSet;
        SourcePermits sourcePermitsStore;
        Duration quantum = Duration.ofSeconds(1);
        long quantumRows = 10_000;
        CostMeasure costMeasure = CostMeasure.SOURCE_TIME;
        Clock clock = Clock.systemUTC();
        Executor workers;
        ControlExecutor control;
        ThreadFactory threadFactory;
        MeterRegistry meterRegistry;
        RelayListener listener = RelayListener.NONE;
        DoubleSupplier random;
        Duration idlePollInterval = Duration.ofMillis(250);
        Duration shutdownTimeout = Duration.ofSeconds(30);
        int suspendAfterFailures = 5;
        Pressure pressure = Pressure.off();
        String name = "relay";
        Duration healthMaxWait = Duration.ofHours(1);
        final Map<String, Duration> laneHealthMaxWait = new HashMap<>();
        boolean jmx;
        MBeanServer mbeanServer;

        private Builder() {
        }

        /**
         * Registers the relay's {@link RelayAdminMBean} in the platform MBean server while it runs: from
         * {@link Relay#start()} (which fails if another relay of the same {@linkplain #name name} is registered) until
         * it has shut down, under {@code dev.relay:type=Relay,name=<name>}. Off by default.
         *
         * @return this builder
         */
        public Builder jmx() {
            this.jmx = true;
            this.mbeanServer = null;
            return this;
        }

        /**
         * The same as {@link #jmx()}, in another MBean server.
         *
         * @param server the MBean server
         * @return this builder
         */
        public Builder jmx(MBeanServer server) {
            this.jmx = true;
            this.mbeanServer = Objects.requireNonNull(server, "server");
            return this;
        }

        /**
         * @param name the relay's name, in its {@linkplain #jmx() MBean's} ObjectName and its health messages: 1 to 100
         *     letters, digits, '.', '_' or '-' (default {@code relay}); give each relay of a process its own
         * @return this builder
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("name must be 1 to 100 letters, digits, '.', '_' or '-' but was '" + name + "'");
            }
            this.name = name;
            return this;
        }

        /**
         * @param maxWait how long the oldest task a lane holds may wait for a source permit before {@link Relay#health()}
         *     reports the lane ({@code TASK_WAITING_TOO_LONG}, degraded), and, in a lane that declares no
         *     {@linkplain LaneSpec.Builder#maxTaskTime maximum task time}, how long a task may hold its permit
         *     ({@code TASK_RUNNING_TOO_LONG}): 1 ms to 30 days (default 1 hour)
         * @return this builder
         */
        public Builder healthMaxWait(Duration maxWait) {
            this.healthMaxWait = checkMaxWait(maxWait);
            return this;
        }

        /**
         * @param lane a lane of this builder (checked at {@link #build()})
         * @param maxWait that lane's own {@link #healthMaxWait(Duration)}: a lane of daily config tables may be
         *     expected to start within minutes, a backfill lane within an hour
         * @return this builder
         */
        public Builder healthMaxWait(String lane, Duration maxWait) {
            Objects.requireNonNull(lane, "lane");
            laneHealthMaxWait.put(lane, checkMaxWait(maxWait));
            return this;
        }

        private static Duration checkMaxWait(Duration maxWait) {
            Objects.requireNonNull(maxWait, "healthMaxWait");
            if (maxWait.compareTo(Duration.ofMillis(1)) < 0 || maxWait.compareTo(Duration.ofDays(30)) > 0) {
                throw new IllegalArgumentException("healthMaxWait must be within [1ms, 30d] but was " + maxWait);
            }
            return maxWait;
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
            this.permitsSet = true;
            return this;
        }

        /**
         * Takes the source permits from a store: {@link SourcePermits#local(int)} is {@link #sourcePermits(int)};
         * a cluster-wide store ({@code KafkaSourcePermits}, {@code JdbcSourcePermits}) shares {@code P} with every
         * relay process using the same store, so that all of them together never run more than {@code P} queries
         * (see {@link SourcePermits} for what holds when a process freezes). The relay starts the store in
         * {@link Relay#start()} (its failure fails the start), runs at most as many tasks as it holds permits (or
         * fewer, under {@link Relay#permitLimit}), gives a revoked permit back once no query beyond what it still holds
         * runs, cancels at once the queries beyond a lost permit, and closes the store at shutdown.
         *
         * @param permits the store; its {@link SourcePermits#total()} is {@code P}
         * @return this builder
         */
        public Builder sourcePermits(SourcePermits permits) {
            this.sourcePermitsStore = Objects.requireNonNull(permits, "permits");
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
         * Adapts the load on the source: an effective limit {@code P_eff ≤ P} moved by a rule from completed pulls,
         * and an optional brake that the source's owners control (see {@link Pressure}). The relay then holds itself
         * to {@code min(P_eff, permitLimit)}; {@link RelaySnapshot#pressure()} and the {@code relay.pressure.*}
         * meters show the limit, the rule's state and the brake's.
         *
         * @param pressure the settings; default {@link Pressure#off()} ({@code P_eff = P}, no brake)
         * @return this builder
         */
        public Builder pressure(Pressure pressure) {
            this.pressure = Objects.requireNonNull(pressure, "pressure");
            return this;
        }

        /**
         * Validates the settings and builds the relay (not yet started).
         *
         * @return the relay
         * @throws IllegalStateException naming the bad setting
         */
        public Relay build() {
            return new Relay(RelayConfig.from(this));
        }
    }
}
