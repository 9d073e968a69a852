package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.RetryPolicy;
import dev.relay.inmemory.InMemoryTaskQueue;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.cumulative.CumulativeTimer;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.pause.PauseDetector;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The relay's meters added for operating it: the lane-state and health gauges, the timers' histogram buckets. */
class RelayMetricsTest {

    final VirtualTurns v = new VirtualTurns();
    final InMemoryTaskQueue queue = InMemoryTaskQueue.builder().clock(v).build();
    final SimpleMeterRegistry registry = new AggregatingRegistry();

    /**
     * The simple registry, but publishing aggregable percentiles as Prometheus's and the other registries of systems
     * that sum histograms do: the simple one drops percentile histogram buckets, since it cannot ship them anywhere.
     */
    static final class AggregatingRegistry extends SimpleMeterRegistry {
        @Override
        protected Timer newTimer(Meter.Id id, DistributionStatisticConfig config, PauseDetector pauseDetector) {
            return new CumulativeTimer(id, clock, config, pauseDetector, getBaseTimeUnit(), true);
        }
    }

    Relay start(Relay.Builder b) {
        Relay r = b.queue(queue).puller(RelayTest.puller(1)).sink(new RelayTest.MemorySink()).clock(v).control(v)
                .workers(v.workers).idlePollInterval(Duration.ofSeconds(1)).meterRegistry(registry).build().start();
        v.runReady();
        return r;
    }

    double state(String lane) {
        return registry.get("relay.lane.state").tag("lane", lane).gauge().value();
    }

    @Test
    void laneStateGauge_followsTheLaneState_andHealthGaugeItsStatus() {
        RetryPolicy slow = RetryPolicy.builder().maxAttempts(10).initialDelay(Duration.ofSeconds(30))
                .maxDelay(Duration.ofSeconds(30)).build();
        Relay r = start(Relay.builder().suspendAfterFailures(1).lane(LaneSpec.of("a"))
                .lane(LaneSpec.builder("bad").retryPolicy(slow).build()));
        assertEquals(0.0, state("a"));
        assertEquals(0.0, registry.get("relay.health").gauge().value());

        r.pause("a");
        v.runReady();
        assertEquals(LaneState.PAUSED.code(), state("a"));
        r.drain("a");
        v.runReady();
        assertEquals(LaneState.DRAINED.code(), state("a"), "a lane holding nothing drains at once");
        r.resume("a");
        v.runReady();
        assertEquals(LaneState.RUNNING.code(), state("a"));

        queue.offer(RelayHealthTest.poison(1));
        v.runReady();
        assertEquals(LaneState.SUSPENDED.code(), state("bad"));
        assertEquals(1.0, registry.get("relay.health").gauge().value(), "degraded");
        r.resume("bad");
        v.runReady();
        assertEquals(LaneState.RUNNING.code(), state("bad"));
        assertEquals(0.0, registry.get("relay.health").gauge().value());
    }

    @Test
    void timers_publishHistogramBuckets_thatCountWaitsAndServiceTimesWhereTheyFall() {
        v.holdWorkers(true);
        start(Relay.builder().sourcePermits(1).lane(LaneSpec.of("a")));
        queue.offer(RelayTest.task("a", 1)); // starts at once (wait 0) and runs 3 s
        queue.offer(RelayTest.task("a", 2)); // waits those 3 s, then runs at once on the permit handed over
        v.runReady();
        v.advance(Duration.ofSeconds(3));
        v.holdWorkers(false);
        v.runReady();

        Timer service = registry.get("relay.lane.service").tag("lane", "a").timer();
        assertEquals(2, service.count());
        HistogramSnapshot s = service.takeSnapshot();
        CountAtBucket[] buckets = s.histogramCounts();
        assertTrue(buckets.length > 20, "a percentile histogram has many buckets, not " + buckets.length);
        assertEquals(RelayMetrics.TIMER_MAX.toNanos(), (long) buckets[buckets.length - 1].bucket(), "the largest bucket");
        assertTrue(buckets[0].bucket(TimeUnit.MILLISECONDS) >= 1.0, "the smallest bucket is at least 1 ms");
        assertEquals(1.0, countBelow(buckets, 0.002), "the task that ran in no virtual time");
        assertEquals(1.0, countBelow(buckets, 3.0));
        assertEquals(2.0, countAt(buckets, 3.0), "and the 3 s task in the first bucket of 3 s or more");
        assertTrue(s.percentileValues().length == 2, "and the client-side p50 and p99");

        CountAtBucket[] waits = registry.get("relay.lane.wait").tag("lane", "a").timer().takeSnapshot().histogramCounts();
        assertEquals(1.0, countBelow(waits, 0.002), "one start without waiting");
        assertEquals(2.0, countAt(waits, 3.0), "and one after 3 s");
    }

    /** @return the cumulative count of the first bucket at or above {@code seconds} */
    static double countAt(CountAtBucket[] buckets, double seconds) {
        for (CountAtBucket b : buckets) {
            if (b.bucket(TimeUnit.SECONDS) >= seconds) {
                return b.count();
            }
        }
        throw new AssertionError("no bucket of " + seconds + " s or more");
    }

    /** @return the cumulative count of the last bucket below {@code seconds} */
    static double countBelow(CountAtBucket[] buckets, double seconds) {
        double c = 0;
        for (CountAtBucket b : buckets) {
            if (b.bucket(TimeUnit.SECONDS) < seconds) {
                c = b.count();
            }
        }
        return c;
    }
}
