package dev.relay.core;

import dev.relay.api.CompletionLedger;
import dev.relay.api.LaneSpec;
import dev.relay.api.Puller;
import dev.relay.api.Sink;
import dev.relay.api.SourcePermits;
import dev.relay.api.TaskQueue;
import dev.relay.core.pressure.Pressure;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.management.MBeanServer;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import com.google.common.util.concurrent.ThreadFactoryBuilder;
import java.util.function.DoubleSupplier;

/**
 * A relay's settings, validated and copied out of a {@link Relay.Builder} by {@link #from}: the builder may change
 * or be reused afterwards, this never changes. It also makes the executors the relay owns when the builder named
 * none. Immutable and threadsafe (the objects it refers to — queue, puller, sinks, executors — are the caller's or
 * the relay's).
 */
final class RelayConfig {

    /** A lane as configured: its specification and its sink (the default sink unless it has its own). */
    record LaneConfig(LaneSpec spec, Sink sink) {
    }

    final TaskQueue queue;
    final Puller puller;
    final Sink defaultSink;
    final List<LaneConfig> lanes;
    final CompletionLedger ledger;
    final int permits;
    /** Cluster-wide permits, or null for the local pool of {@link #permits}. */
    final SourcePermits sourcePermits;
    final long quantum;
    final CostMeasure costMeasure;
    final Clock clock;
    final Executor workers;
    final ControlExecutor control;
    /** What the relay made and shuts down at its shutdown (default worker pool, timer thread). */
    final List<ExecutorService> owned;
    final MeterRegistry meterRegistry;
    final RelayListener listener;
    final DoubleSupplier random;
    final Duration idlePollInterval;
    final Duration shutdownTimeout;
    final AttemptPolicy attemptPolicy;
    /** Adaptive source pressure and the brake ({@link Pressure#off()} unless set). */
    final Pressure pressure;
    /** The relay's name, in its MBean's ObjectName and its health messages. */
    final String name;
    /** How long a lane's oldest buffered task may wait before {@link Relay#health()} reports the lane. */
    final Duration healthMaxWait;
    /** Lanes with their own {@link #healthMaxWait}. */
    final Map<String, Duration> laneHealthMaxWait;
    /** Whether the relay registers its MBean while it runs. */
    final boolean jmx;
    /** Where: an MBean server, or null for the platform's. */
    final MBeanServer mbeanServer;

    private RelayConfig(Relay.Builder b, List<LaneConfig> lanes, Executor workers, ControlExecutor control,
            List<ExecutorService> owned) {
        this.queue = b.queue;
        this.puller = b.puller;
        this.defaultSink = b.defaultSink;
        this.lanes = List.copyOf(lanes);
        this.ledger = b.ledger;
        this.permits = b.sourcePermitsStore != null ? b.sourcePermitsStore.total() : b.permits;
        this.sourcePermits = b.sourcePermitsStore;
        this.costMeasure = b.costMeasure;
        this.quantum = b.costMeasure == CostMeasure.ROWS ? b.quantumRows : b.quantum.toNanos();
        this.clock = b.clock;
        this.workers = workers;
        this.control = control;
        this.owned = List.copyOf(owned);
        this.meterRegistry = b.meterRegistry;
        this.listener = b.listener;
        this.random = b.random != null ? b.random : new SplittableRandom()::nextDouble;
        this.idlePollInterval = b.idlePollInterval;
        this.shutdownTimeout = b.shutdownTimeout;
        this.attemptPolicy = new AttemptPolicy(b.suspendAfterFailures);
        this.pressure = b.pressure;
        this.name = b.name;
        this.healthMaxWait = b.healthMaxWait;
        this.laneHealthMaxWait = Map.copyOf(b.laneHealthMaxWait);
        this.jmx = b.jmx;
        this.mbeanServer = b.mbeanServer;
    }

    /**
     * @param lane a lane
     * @return how long its oldest buffered task may wait before the relay's health reports it
     */
    Duration healthMaxWait(String lane) {
        Duration d = laneHealthMaxWait.get(lane);
        return d != null ? d : healthMaxWait;
    }

    /**
     * Validates a builder's settings and copies them.
     *
     * @param b the builder
     * @return the configuration
     * @throws IllegalStateException naming the bad setting
     */
    static RelayConfig from(Relay.Builder b) {
        if (b.queue == null) {
            throw new IllegalStateException("a relay needs a queue: call queue(TaskQueue)");
        }
        if (b.puller == null) {
            throw new IllegalStateException("a relay needs a puller: call puller(Puller)");
        }
        if (b.lanes.isEmpty()) {
            throw new IllegalStateException("a relay needs at least one lane: call lane(LaneSpec)");
        }
        if (!b.duplicateLanes.isEmpty()) {
            throw new IllegalStateException("lanes defined twice: " + b.duplicateLanes);
        }
        if (b.sourcePermitsStore != null && b.permitsSet && b.permits != b.sourcePermitsStore.total()) {
            throw new IllegalStateException("sourcePermits(" + b.permits + ") contradicts the " + b.sourcePermitsStore.total()
                    + " permits of " + b.sourcePermitsStore + ": set one of them");
        }
        int total = b.sourcePermitsStore != null ? b.sourcePermitsStore.total() : b.permits;
        int dedicated = 0;
        List<String> withoutSink = new ArrayList<>();
        List<LaneConfig> lanes = new ArrayList<>();
        for (LaneSpec l : b.lanes.values()) {
            dedicated += l.dedicatedPermits();
            Sink sink = b.sinks.getOrDefault(l.name(), b.defaultSink);
            if (sink == null) {
                withoutSink.add(l.name());
            }
            lanes.add(new LaneConfig(l, sink));
        }
        if (!withoutSink.isEmpty()) {
            throw new IllegalStateException("lanes " + withoutSink + " have no sink and no default sink was set");
        }
        if (dedicated > total) {
            throw new IllegalStateException("lanes dedicate " + dedicated + " permits but the relay has only "
                    + total + " source permits");
        }
        if (dedicated == total) {
            List<String> starved = b.lanes.values().stream().filter(l -> l.dedicatedPermits() == 0).map(LaneSpec::name).toList();
            if (!starved.isEmpty()) {
                throw new IllegalStateException("all " + total + " source permits are dedicated, so lanes " + starved
                        + " could never run");
            }
        }
        List<String> unknown = b.laneHealthMaxWait.keySet().stream().filter(l -> !b.lanes.containsKey(l)).sorted().toList();
        if (!unknown.isEmpty()) {
            throw new IllegalStateException("healthMaxWait is set for lanes " + unknown + " that the relay does not have; "
                    + "its lanes are " + b.lanes.keySet());
        }
        try {
            b.pressure.validate(b.permits);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        List<ExecutorService> owned = new ArrayList<>();
        ThreadFactory tf = b.threadFactory != null ? b.threadFactory : new ThreadFactoryBuilder().setNameFormat("relay-%d").setDaemon(true).build();
        Executor workers = b.workers;
        if (workers == null) {
            ExecutorService pool = Executors.newFixedThreadPool(total, tf);
            owned.add(pool);
            workers = pool;
        }
        ControlExecutor control = b.control;
        if (control == null) {
            ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, tf);
            // a delayed turn still pending at shutdown (the abandon timer, a retry wake-up) must not hold it open
            timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            owned.add(timer);
            control = new SerialControlExecutor(timer);
        }
        return new RelayConfig(b, lanes, workers, control, owned);
    }

}
