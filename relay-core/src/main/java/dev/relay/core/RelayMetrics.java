package dev.relay.core;

import dev.relay.api.TaskQueue;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import dev.relay.api.Health;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Registers a relay's meters in a Micrometer registry, reading only the published statistics ({@link LaneStats},
 * {@link EngineStats}) and the queue's backlog: per lane (tag {@code lane}) gauges {@code relay.lane.backlog},
 * {@code relay.lane.buffered}, {@code relay.lane.in_flight}, {@code relay.lane.oldest_waiting} (seconds),
 * {@code relay.lane.deficit}, {@code relay.lane.state} (the lane's {@link LaneState#code()}: 0 running, 1 paused,
 * 2 draining, 3 drained, 4 suspended, 5 removing), timers {@code relay.lane.wait} and {@code relay.lane.service}
 * (with client-side p50 and p99, and percentile histograms — buckets that a monitoring system adds up across
 * instances and lanes, 1 ms to 2 h), counters
 * {@code relay.lane.completed}, {@code relay.lane.retried}, {@code relay.lane.dead_lettered}, {@code relay.lane.rows};
 * and gauges {@code relay.permits}, {@code relay.permits.limit}, {@code relay.permits.in_use},
 * {@code relay.permits.max_in_use}, {@code relay.unserved.backlog} (tasks waiting in lanes the relay does not serve)
 * and {@code relay.unserved.lanes}; {@code relay.health} ({@link #registerHealth}); with adaptive pressure, the {@code relay.pressure.*} meters of
 * {@link #registerPressure}; with cluster-wide permits, those of {@link #registerPermits}.
 *
 * <p>Threadsafe: meters read published statistics; registration happens in a control turn or while the relay is
 * built. Without a registry every method does nothing.
 */
final class RelayMetrics {

    /** The smallest bucket of the timers' histograms: a wait or a task shorter than this is in the first bucket. */
    static final Duration TIMER_MIN = Duration.ofMillis(1);
    /** The largest bucket of the timers' histograms below +Inf: the longest backfill task expected. */
    static final Duration TIMER_MAX = Duration.ofHours(2);

    private final MeterRegistry registry;
    private final TaskQueue queue;
    private final Clock clock;
    private final Map<LaneStats, List<Meter>> meters = new HashMap<>();

    RelayMetrics(MeterRegistry registry, EngineStats engine, TaskQueue queue, Clock clock) {
        this.registry = registry;
        this.queue = queue;
        this.clock = clock;
        if (registry != null) {
            Gauge.builder("relay.permits", engine, e -> e.permits).description("source permits P").register(registry);
            Gauge.builder("relay.permits.limit", engine, e -> e.permitLimit).description("source permits usable now")
                    .register(registry);
            Gauge.builder("relay.permits.in_use", engine, e -> e.permitsInUse).description("source permits held now")
                    .register(registry);
            Gauge.builder("relay.permits.max_in_use", engine, e -> e.maxPermitsInUse)
                    .description("most source permits ever held at once").register(registry);
            Gauge.builder("relay.unserved.backlog", engine, EngineStats::unservedTotal)
                    .description("tasks waiting in lanes of the queue that this relay does not serve").register(registry);
            Gauge.builder("relay.unserved.lanes", engine, e -> e.unservedBacklog.size())
                    .description("lanes of the queue holding tasks that this relay does not serve").register(registry);
        }
    }

    /**
     * Registers the meters of cluster-wide permits: gauges {@code relay.permits.held} (held by this process),
     * {@code relay.permits.fenced}, {@code relay.permits.lease_remaining} (seconds until this process fences itself
     * unless a renewal succeeds), counters {@code relay.permits.grants}, {@code relay.permits.revocations},
     * {@code relay.permits.losses} (lost renewals: leases that ran out, permits found gone),
     * {@code relay.permits.renewals}, {@code relay.permits.renewals.failed}, {@code relay.permits.forced_releases}
     * and {@code relay.permits.cancellations} (queries cancelled because their permit was lost or revoked). The waits
     * for a permit are the lanes' {@code relay.lane.wait}.
     *
     * @param gate the engine's side of the permits
     */
    void registerPermits(PermitGate gate) {
        if (registry == null) {
            return;
        }
        dev.relay.api.SourcePermits store = gate.store();
        Gauge.builder("relay.permits.held", gate, PermitGate::held).description("source permits this process holds")
                .register(registry);
        Gauge.builder("relay.permits.fenced", store, s -> s.status().fenced())
                .description("permits this process fenced itself from and still tries to renew").register(registry);
        Gauge.builder("relay.permits.lease_remaining", store, s -> s.status().leaseRemaining().toNanos() / 1e9)
                .baseUnit("seconds").description("time until this process fences itself unless a renewal succeeds")
                .register(registry);
        FunctionCounter.builder("relay.permits.grants", store, s -> s.status().grants()).register(registry);
        FunctionCounter.builder("relay.permits.revocations", store, s -> s.status().revocations()).register(registry);
        FunctionCounter.builder("relay.permits.losses", store, s -> s.status().losses())
                .description("lost renewals: leases that ran out unrenewed, permits found gone").register(registry);
        FunctionCounter.builder("relay.permits.renewals", store, s -> s.status().renewals()).register(registry);
        FunctionCounter.builder("relay.permits.renewals.failed", store, s -> s.status().failedRenewals()).register(registry);
        FunctionCounter.builder("relay.permits.forced_releases", store, s -> s.status().forcedReleases()).register(registry);
        FunctionCounter.builder("relay.permits.cancellations", gate, PermitGate::cancellations)
                .description("queries cancelled because their permit was lost or its revocation's grace ended")
                .register(registry);
    }

    /**
     * Registers the adaptive pressure's meters, reading {@link EngineStats#pressure}: gauges {@code relay.pressure.limit}
     * ({@code P_eff}, 0 while braked), {@code relay.pressure.rule.limit} (the rule's real-valued limit),
     * {@code relay.pressure.ratio} (the last measured pull's latency over its baseline), {@code relay.pressure.braked}
     * (1 while braked), and counters {@code relay.pressure.braked.time} (seconds braked in all),
     * {@code relay.pressure.increases}, {@code relay.pressure.decreases}, {@code relay.pressure.timeouts},
     * {@code relay.pressure.brake.errors}.
     *
     * @param engine the published figures
     */
    void registerPressure(EngineStats engine) {
        if (registry == null) {
            return;
        }
        Gauge.builder("relay.pressure.limit", engine, e -> e.pressure == null ? e.permitLimit : e.pressure.limit())
                .description("P_eff: source permits the adaptive limit allows now, 0 while braked").register(registry);
        Gauge.builder("relay.pressure.rule.limit", engine, e -> e.pressure == null ? Double.NaN : e.pressure.ruleLimit())
                .description("the limit rule's state: its real-valued limit").register(registry);
        Gauge.builder("relay.pressure.ratio", engine, e -> e.pressure == null ? Double.NaN : e.pressure.lastRatio())
                .description("the last measured pull's latency per unit of cost over its source's baseline").register(registry);
        Gauge.builder("relay.pressure.braked", engine, e -> e.pressure != null && e.pressure.brake().braked() ? 1 : 0)
                .description("1 while the source's brake stops new pulls").register(registry);
        FunctionCounter.builder("relay.pressure.braked.time", engine,
                e -> e.pressure == null ? 0 : e.pressure.brake().timeBraked().toNanos() / 1e9).baseUnit("seconds")
                .description("time the source's brake stopped new pulls, in all").register(registry);
        FunctionCounter.builder("relay.pressure.increases", engine, e -> e.pressure == null ? 0 : e.pressure.increases())
                .description("times P_eff went up").register(registry);
        FunctionCounter.builder("relay.pressure.decreases", engine, e -> e.pressure == null ? 0 : e.pressure.decreases())
                .description("times P_eff went down").register(registry);
        FunctionCounter.builder("relay.pressure.timeouts", engine, e -> e.pressure == null ? 0 : e.pressure.timeouts())
                .description("pulls that ended in a source timeout").register(registry);
        FunctionCounter.builder("relay.pressure.brake.errors", engine, e -> e.pressure == null ? 0 : e.pressure.brake().errors())
                .description("brake checks that failed").register(registry);
    }

    void register(LaneStats lane) {
        if (registry == null) {
            return;
        }
        Tags tags = Tags.of("lane", lane.name);
        List<Meter> m = new ArrayList<>();
        m.add(Gauge.builder("relay.lane.backlog", lane, l -> {
            long q = queue.backlog(l.name);
            return q < 0 ? Double.NaN : q + l.buffered;
        }).tags(tags).description("tasks waiting in the queue and the buffer").register(registry));
        m.add(Gauge.builder("relay.lane.buffered", lane, l -> l.buffered).tags(tags).register(registry));
        m.add(Gauge.builder("relay.lane.in_flight", lane, l -> l.inFlight).tags(tags).register(registry));
        m.add(Gauge.builder("relay.lane.oldest_waiting", lane, l -> l.oldestWaitingSeconds(Clocks.epochNanos(clock.instant())))
                .tags(tags).baseUnit("seconds").register(registry));
        m.add(Gauge.builder("relay.lane.state", lane, l -> l.state.code()).tags(tags)
                .description("the lane's run state: 0 running, 1 paused, 2 draining, 3 drained, 4 suspended, 5 removing")
                .register(registry));
        m.add(Gauge.builder("relay.lane.deficit", lane, l -> l.deficit).tags(tags)
                .description("the lane's deficit in the fair scheduler, in the relay's cost measure").register(registry));
        m.add(FunctionCounter.builder("relay.lane.completed", lane, l -> l.completed.get()).tags(tags).register(registry));
        m.add(FunctionCounter.builder("relay.lane.retried", lane, l -> l.retried.get()).tags(tags).register(registry));
        m.add(FunctionCounter.builder("relay.lane.dead_lettered", lane, l -> l.deadLettered.get()).tags(tags).register(registry));
        m.add(FunctionCounter.builder("relay.lane.rows", lane, l -> l.rows.get()).tags(tags).register(registry));
        Timer wait = timer("relay.lane.wait", tags, "from ready to start");
        Timer service = timer("relay.lane.service", tags, "from start to completion");
        m.add(wait);
        m.add(service);
        lane.waitTimer = wait;
        lane.serviceTimer = service;
        meters.put(lane, m);
    }

    /**
     * A timer with client-side p50 and p99 for a glance at one instance, and a percentile histogram (Micrometer's
     * buckets, here from {@link #TIMER_MIN} to {@link #TIMER_MAX}) so that a monitoring system can compute
     * percentiles over many instances and lanes, which client-side percentiles cannot be added up to.
     */
    private Timer timer(String name, Tags tags, String description) {
        return Timer.builder(name).tags(tags).description(description).publishPercentiles(0.5, 0.99)
                .publishPercentileHistogram().minimumExpectedValue(TIMER_MIN).maximumExpectedValue(TIMER_MAX)
                .register(registry);
    }

    /**
     * Registers the gauge {@code relay.health}: the relay's {@link dev.relay.api.HealthStatus} as a number, 0 up,
     * 1 degraded, 2 down, computed at each reading (the issues are in {@link Relay#health()} and the MBean).
     *
     * @param health computes the relay's health
     */
    void registerHealth(Supplier<Health> health) {
        if (registry == null) {
            return;
        }
        Gauge.builder("relay.health", health, h -> h.get().status().ordinal())
                .description("the relay's health: 0 up, 1 degraded, 2 down").strongReference(true).register(registry);
    }

    void unregister(LaneStats lane) {
        List<Meter> m = meters.remove(lane);
        if (m != null) {
            m.forEach(registry::remove);
        }
        lane.waitTimer = null;
        lane.serviceTimer = null;
    }
}
