package dev.relay.core.plan;

import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.relay.core.plan.Pems.LA;
import static dev.relay.core.plan.Pems.TEN_MINUTES;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * The ticker's invariants under arbitrary tick schedules (short and long pauses), consumer speeds, crashes that
 * lose the queue, and both DST changes: a window reaches the realtime lane only while it is recent, the backfill
 * lane only once it is old, never before it closed, never twice from one ticker, and once the consumer catches
 * up every window from the series start is completed.
 */
class RealtimeTickerPropertyTest {

    private static final Duration LATENESS = Duration.ofMinutes(3);
    private static final Duration HORIZON = Duration.ofMinutes(90);
    private static final LocalGrid GRID = LocalGrid.of(TEN_MINUTES, LA);
    private static final List<SeriesKey> SERIES = Pems.VDS30SEC.subList(0, 3);
    private static final String[] STARTS = {"2024-03-09T20:00", "2024-11-02T20:00", "2024-06-01T00:00"};

    @Test
    void tick_anySchedule_keepsTheLaneAndCompletenessInvariants() {
        qt().withFixedSeed(42L).withExamples(60)
                .forAll(integers().between(0, STARTS.length - 1),
                        lists().of(integers().between(1, 600)).ofSizeBetween(1, 60),   // minutes between ticks
                        lists().of(integers().between(0, 60)).ofSizeBetween(1, 60),    // tasks completed per tick
                        integers().between(0, 7))                                      // crash every k-th step (0: never)
                .checkAssert((startIndex, pauses, rates, crashEvery) -> {
                    LocalDateTime seriesStart = LocalDateTime.parse(STARTS[startIndex]);
                    InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
                    MutableClock clock = new MutableClock(seriesStart.atZone(LA).toInstant());
                    RecordingQueue queue = new RecordingQueue(clock);
                    RealtimeTicker ticker = build(seriesStart, queue, ledger, clock);
                    Set<String> offeredByThisTicker = new HashSet<>();
                    int seen = 0;
                    for (int step = 0; step < pauses.size(); step++) {
                        clock.advance(Duration.ofMinutes(pauses.get(step)));
                        if (crashEvery > 0 && step % crashEvery == crashEvery - 1) {
                            queue = new RecordingQueue(clock); // the in-memory queue dies with the process
                            ticker = build(seriesStart, queue, ledger, clock);
                            offeredByThisTicker.clear();
                            seen = 0;
                        }
                        ticker.tick();
                        seen = check(queue, seen, offeredByThisTicker);
                        int rate = rates.get(step % rates.size());
                        queue.take("realtime", rate).forEach(t -> ledger.recordCompleted(t, 1));
                        queue.take("backfill", rate).forEach(t -> ledger.recordCompleted(t, 1));
                    }
                    // catch up: the consumer now keeps pace
                    for (int i = 0; i < 10_000 && (ticker.backfillPending() > 0 || queue.depth("backfill") > 0
                            || queue.depth("realtime") > 0); i++) {
                        clock.advance(Duration.ofMinutes(1));
                        ticker.tick();
                        seen = check(queue, seen, offeredByThisTicker);
                        queue.take("realtime", Integer.MAX_VALUE).forEach(t -> ledger.recordCompleted(t, 1));
                        queue.take("backfill", Integer.MAX_VALUE).forEach(t -> ledger.recordCompleted(t, 1));
                    }
                    LocalDateTime closed = GRID.firstStartClosingAfter(clock.instant().minus(LATENESS));
                    LocalDateTime closedEnd = closed.isBefore(seriesStart) ? seriesStart : closed;
                    for (SeriesKey k : SERIES) {
                        assertEquals(closedEnd, ticker.watermark(k), () -> k + " has a hole");
                    }
                    assertEquals(SERIES.size() * GRID.count(seriesStart, closedEnd), ledger.size());
                });
    }

    private static RealtimeTicker build(LocalDateTime seriesStart, RecordingQueue queue, InMemoryCompletionLedger ledger,
                                        MutableClock clock) {
        return RealtimeTicker.builder().series(SERIES).windowSize(TEN_MINUTES).zone(LA).seriesStart(seriesStart)
                .lateness(LATENESS).horizon(HORIZON).backfillChunk(50).queue(queue).ledger(ledger).clock(clock).build();
    }

    private static int check(RecordingQueue queue, int seen, Set<String> offeredByThisTicker) {
        List<RecordingQueue.Offer> offers = queue.offers;
        for (int i = seen; i < offers.size(); i++) {
            RecordingQueue.Offer o = offers.get(i);
            Task task = o.task();
            Instant closed = GRID.closeInstant(task.window().orElseThrow());
            assertTrue(offeredByThisTicker.add(task.id()), () -> "offered twice: " + o);
            assertFalse(closed.plus(LATENESS).isAfter(o.at()), () -> "offered before it closed: " + o);
            if (task.lane().equals("realtime")) {
                assertTrue(closed.isAfter(o.at().minus(HORIZON)), () -> "stale window in the realtime lane: " + o);
            } else {
                assertFalse(closed.isAfter(o.at().minus(HORIZON)), () -> "recent window in the backfill lane: " + o);
            }
        }
        return offers.size();
    }
}
