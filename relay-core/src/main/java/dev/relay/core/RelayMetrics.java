package dev.relay.core;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers a relay's per-lane meters in a Micrometer registry: gauges {@code relay.lane.backlog},
 * {@code relay.lane.buffered}, {@code relay.lane.in_flight}, {@code relay.lane.oldest_waiting} (seconds),
 * timers {@code relay.lane.wait} and {@code relay.lane.service}, counters {@code relay.lane.completed},
 * {@code relay.lane.retried}, {@code relay.lane.dead_lettered}, {@code relay.lane.rows}, all tagged {@code lane};
 * and gauges {@code relay.permits.in_use}, {@code relay.permits.max_in_use}, {@code relay.permits}.
 *
 * <p>Threadsafe: meters read atomics the control thread publishes; registration happens on the control
 * thread (or while the relay is built).
 */
final class RelayMetrics {

    private final MeterRegistry registry;
    private final Relay relay;
    private final Map<Relay.LaneRuntime, List<Meter>> meters = new HashMap<>();
    private final Map<Relay.LaneRuntime, Timer[]> timers = new HashMap<>();

    RelayMetrics(MeterRegistry registry, Relay relay) {
        this.registry = registry;
        this.relay = relay;
        if (registry != null) {
            Gauge.builder("relay.permits.in_use", relay, Relay::permitsInUse).description("source permits held now").register(registry);
            Gauge.builder("relay.permits", relay, Relay::permits).description("source permits P").register(registry);
            Gauge.builder("relay.permits.max_in_use", relay, Relay::maxPermitsInUse)
                    .description("most source permits ever held at once").register(registry);
        }
    }

    void register(Relay.LaneRuntime lane) {
        if (registry == null) {
            return;
        }
        Tags tags = Tags.of("lane", lane.spec.name());
        List<Meter> m = new ArrayList<>();
        m.add(Gauge.builder("relay.lane.backlog", lane, l -> {
            long q = relay.queue().backlog(l.spec.name());
            return q < 0 ? Double.NaN : q + l.publishedBuffered;
        }).tags(tags).description("tasks waiting in the queue and the buffer").register(registry));
        m.add(Gauge.builder("relay.lane.buffered", lane, l -> l.publishedBuffered).tags(tags).register(registry));
        m.add(Gauge.builder("relay.lane.in_flight", lane, l -> l.publishedInFlight).tags(tags).register(registry));
        m.add(Gauge.builder("relay.lane.oldest_waiting", lane, l -> {
            var oldest = l.publishedOldestReady;
            return oldest == null ? 0 : Math.max(0, Duration.between(oldest, relay.now()).toMillis() / 1000.0);
        }).tags(tags).baseUnit("seconds").register(registry));
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
        meters.put(lane, m);
        timers.put(lane, new Timer[] {wait, service});
    }

    void unregister(Relay.LaneRuntime lane) {
        List<Meter> m = meters.remove(lane);
        timers.remove(lane);
        if (m != null) {
            m.forEach(registry::remove);
        }
    }

    void recordWait(Relay.LaneRuntime lane, Duration d) {
        Timer[] t = timers.get(lane);
        if (t != null) {
            t[0].record(d);
        }
    }

    void recordService(Relay.LaneRuntime lane, Duration d) {
        Timer[] t = timers.get(lane);
        if (t != null) {
            t[1].record(d);
        }
    }

}
