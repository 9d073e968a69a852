package dev.relay.core;

import dev.relay.api.TaskQueue;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers a relay's meters in a Micrometer registry, reading only the published statistics ({@link LaneStats},
 * {@link EngineStats}) and the queue's backlog: per lane (tag {@code lane}) gauges {@code relay.lane.backlog},
 * {@code relay.lane.buffered}, {@code relay.lane.in_flight}, {@code relay.lane.oldest_waiting} (seconds),
 * {@code relay.lane.deficit}, timers {@code relay.lane.wait} and {@code relay.lane.service}, counters
 * {@code relay.lane.completed}, {@code relay.lane.retried}, {@code relay.lane.dead_lettered}, {@code relay.lane.rows};
 * and gauges {@code relay.permits}, {@code relay.permits.limit}, {@code relay.permits.in_use},
 * {@code relay.permits.max_in_use}, {@code relay.unserved.backlog} (tasks waiting in lanes the relay does not serve)
 * and {@code relay.unserved.lanes}; with adaptive pressure, the {@code relay.pressure.*} meters of
 * {@link #registerPressure}.
 *
 * <p>Threadsafe: meters read published statistics; registration happens in a control turn or while the relay is
 * built. Without a registry every method does nothing.
 */
final class RelayMetrics {

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
        m.add(Gauge.builder("relay.lane.deficit", lane, l -> l.deficit).tags(tags)
                .description("the lane's deficit in the fair scheduler, in the relay's cost measure").register(registry));
        m.add(FunctionCounter.builder("relay.lane.completed", lane, l -> l.completed.get()).tags(tags).register(registry));
        m.add(FunctionCounter.builder("relay.lane.retried", lane, l -> l.retried.get()).tags(tags).register(registry));
        m.add(FunctionCounter.builder("relay.lane.dead_lettered", lane, l -> l.deadLettered.get()).tags(tags).register(registry));
        m.add(FunctionCounter.builder("relay.lane.rows", lane, l -> l.rows.get()).tags(tags).register(registry));
        Timer wait = Timer.builder("relay.lane.wait").tags(tags).description("from ready to start")
                .publishPercentiles(0.5, 0.99).register(registry);
        Timer service = Timer.builder("relay.lane.service").tags(tags).description("from start to completion")
                .publishPercentiles(0.5, 0.99).register(registry);
        m.add(wait);
        m.add(service);
        lane.waitTimer = wait;
        lane.serviceTimer = service;
        meters.put(lane, m);
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
