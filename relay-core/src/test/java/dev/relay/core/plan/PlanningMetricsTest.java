package dev.relay.core.plan;

import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.LocalDateTime;

import static dev.relay.core.plan.Pems.LA;
import static dev.relay.core.plan.Pems.TEN_MINUTES;
import static dev.relay.core.plan.Pems.VDS30SEC;
import static dev.relay.core.plan.Pems.la;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PlanningMetricsTest {

    @Test
    void watermarkLag_growsWhileAWindowIsLost() {
        InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
        MutableClock clock = new MutableClock(la("2024-03-05T11:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        SeriesKey d7 = VDS30SEC.get(4);
        RealtimeTicker ticker = RealtimeTicker.builder().series(d7).windowSize(TEN_MINUTES).zone(LA)
                .seriesStart(LocalDateTime.parse("2024-03-05T10:00")).queue(queue).ledger(ledger).clock(clock).build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        PlanningMetrics.bind(ticker, LA, clock, registry);
        ticker.tick();
        assertEquals(3600.0, registry.get("relay.plan.watermark.lag").tag("series", "vds30sec;district=7").gauge().value());
        for (Task t : queue.take("realtime", 6)) {
            if (!t.window().orElseThrow().start().equals(LocalDateTime.parse("2024-03-05T10:20"))) {
                ledger.recordCompleted(t, 1);
            }
        }
        clock.advance(Duration.ofHours(1));
        ticker.tick();
        queue.take("realtime", 6).forEach(t -> ledger.recordCompleted(t, 1));
        // everything but 10:20 is done: the lag counts from 10:20
        assertEquals(6000.0, registry.get("relay.plan.watermark.lag").gauge().value());
        assertEquals(12.0, registry.get("relay.plan.windows.planned").tag("lane", "realtime").functionCounter().count());
        assertEquals(0.0, registry.get("relay.plan.backfill.pending").gauge().value());
    }

    @Test
    void backfillGauges_followProgress() {
        InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
        MutableClock clock = new MutableClock(la("2024-03-05T11:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        BackfillPlanner planner = BackfillPlanner.builder().series(VDS30SEC).windowSize(TEN_MINUTES)
                .range(LocalDateTime.parse("2024-03-01T00:00"), LocalDateTime.parse("2024-03-02T00:00"))
                .chunk(100).queue(queue).ledger(ledger).clock(clock).build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        PlanningMetrics.bind(planner, "march", registry);
        planner.planMore();
        queue.take("backfill", 40).forEach(t -> ledger.recordCompleted(t, 1));
        assertEquals(100.0, registry.get("relay.backfill.planned").tag("backfill", "march").gauge().value());
        assertEquals(144 * 9 - 40.0, registry.get("relay.backfill.remaining").gauge().value());
    }
}
