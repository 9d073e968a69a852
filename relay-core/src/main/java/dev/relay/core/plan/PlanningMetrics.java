package dev.relay.core.plan;

import dev.relay.api.SeriesKey;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.Objects;

/**
 * Micrometer meters for the planners. The one to alert on is {@code relay.plan.watermark.lag}: it grows
 * without bound when a window of a series is lost, a skipped run or a dead-lettered task, long before anyone
 * notices the hole downstream.
 *
 * <ul>
 *   <li>{@code relay.plan.watermark.lag} (gauge, seconds, tag {@code series}): now minus the watermark of the
 *       series, read through {@link RealtimeTicker#watermark(SeriesKey)} (one ledger read per series and
 *       scrape);
 *   <li>{@code relay.plan.windows.planned} (function counter, tag {@code lane}): windows the ticker offered;
 *   <li>{@code relay.plan.backfill.pending} (gauge): windows waiting in the ticker's backfill ranges;
 *   <li>{@code relay.backfill.planned}, {@code relay.backfill.remaining} (gauges, tag {@code backfill}): a
 *       backfill planner's offers and the windows of its range not completed yet.
 * </ul>
 *
 * <p>This class is threadsafe (stateless); the meters read the planners, which are threadsafe.
 */
public final class PlanningMetrics {

    private PlanningMetrics() {
    }

    /**
     * Registers the meters of a ticker.
     *
     * @param ticker the ticker
     * @param zone the source's zone, to measure the watermark's lag
     * @param clock the clock to measure against
     * @param registry where to register
     */
    public static void bind(RealtimeTicker ticker, ZoneId zone, Clock clock, MeterRegistry registry) {
        Objects.requireNonNull(ticker, "ticker");
        Objects.requireNonNull(zone, "zone");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(registry, "registry");
        for (SeriesKey series : ticker.series()) {
            Gauge.builder("relay.plan.watermark.lag", ticker, t -> lagSeconds(t.watermark(series), zone, clock))
                    .description("seconds between now and the end of the series' contiguous completed prefix")
                    .baseUnit("seconds")
                    .tag("series", series.canonical())
                    .register(registry);
        }
        FunctionCounter.builder("relay.plan.windows.planned", ticker, t -> t.totals().realtime())
                .description("windows the realtime ticker offered").tag("lane", "realtime").register(registry);
        FunctionCounter.builder("relay.plan.windows.planned", ticker, t -> t.totals().backfill())
                .description("windows the realtime ticker offered").tag("lane", "backfill").register(registry);
        Gauge.builder("relay.plan.backfill.pending", ticker, RealtimeTicker::backfillPending)
                .description("windows older than the horizon waiting to be offered to the backfill lane")
                .register(registry);
    }

    /**
     * Registers the meters of a backfill planner.
     *
     * @param planner the planner
     * @param name a name for the backfill, used as the {@code backfill} tag
     * @param registry where to register
     */
    public static void bind(BackfillPlanner planner, String name, MeterRegistry registry) {
        Objects.requireNonNull(planner, "planner");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(registry, "registry");
        Gauge.builder("relay.backfill.planned", planner, p -> p.progress().planned())
                .description("windows the backfill offered").tag("backfill", name).register(registry);
        Gauge.builder("relay.backfill.remaining", planner, p -> p.progress().remaining())
                .description("windows of the backfill range not completed yet").tag("backfill", name).register(registry);
    }

    static double lagSeconds(LocalDateTime watermark, ZoneId zone, Clock clock) {
        Duration lag = Duration.between(LocalGrid.lastOccurrence(zone, watermark), clock.instant());
        return Math.max(0, lag.toMillis() / 1000.0);
    }
}
