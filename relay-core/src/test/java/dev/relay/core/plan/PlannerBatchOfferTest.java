package dev.relay.core.plan;

import dev.relay.api.Lease;
import dev.relay.api.QueueException;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.api.TasksNotAcceptedException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import static dev.relay.core.plan.Pems.CONFIG_TABLES;
import static dev.relay.core.plan.Pems.LA;
import static dev.relay.core.plan.Pems.TEN_MINUTES;
import static dev.relay.core.plan.Pems.VDS30SEC;
import static dev.relay.core.plan.Pems.la;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The planners offer a tick's tasks in one {@code offerAll} batch, and when the queue does not accept some of
 * them (any of them, not only a suffix) they wind back to the first task not accepted: no window is lost.
 */
class PlannerBatchOfferTest {

    /** A queue that records each batch and refuses the tasks a predicate picks, while it is set. */
    private static final class BatchQueue implements TaskQueue {
        final RecordingQueue recorded;
        final List<RecordingQueue.Offer> offers;
        final List<List<Task>> batches = new ArrayList<>();
        Predicate<Task> refuse = t -> false;

        BatchQueue(MutableClock clock) {
            recorded = new RecordingQueue(clock);
            offers = recorded.offers;
        }

        @Override
        public void offerAll(List<Task> tasks) {
            batches.add(List.copyOf(tasks));
            List<Task> refused = new ArrayList<>();
            for (Task t : tasks) {
                if (refuse.test(t)) {
                    refused.add(t);
                } else {
                    recorded.offer(t);
                }
            }
            if (!refused.isEmpty()) {
                throw new TasksNotAcceptedException(refused, tasks.size(), new QueueException("partition down (test)", null), true);
            }
        }

        @Override
        public void offer(Task task) {
            offerAll(List.of(task));
        }

        @Override
        public void subscribe(Set<String> lanes) {
        }

        @Override
        public List<Lease> poll(String lane, int max) {
            return List.of();
        }

        @Override
        public long backlog(String lane) {
            return recorded.backlog(lane);
        }

        @Override
        public void setAvailabilityListener(Runnable listener) {
        }

        @Override
        public void close() {
        }
    }

    private final InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();

    @Test
    void tick_afterAnOutage_offersRealtimeAndBackfillInOneBatch() {
        MutableClock clock = new MutableClock(la("2024-03-05T12:00"));
        BatchQueue queue = new BatchQueue(clock);
        RealtimeTicker ticker = RealtimeTicker.builder().series(VDS30SEC).windowSize(TEN_MINUTES).zone(LA)
                .seriesStart(LocalDateTime.parse("2024-03-05T00:00")).backfillChunk(1_000).queue(queue).ledger(ledger)
                .clock(clock).build();
        RealtimeTicker.Planned p = ticker.tick();
        assertTrue(p.realtime() > 0 && p.backfill() > 0, p.toString());
        assertEquals(1, queue.batches.size(), "one batch per tick");
        assertEquals(p.total(), queue.batches.get(0).size());
        assertEquals(p.total(), queue.offers.size());
    }

    @Test
    void tick_someTasksNotAccepted_nextTickResumesAtEachSeriesFirstRefusedWindow_noWindowLost() {
        MutableClock clock = new MutableClock(la("2024-03-05T12:00"));
        BatchQueue queue = new BatchQueue(clock);
        RealtimeTicker ticker = RealtimeTicker.builder().series(VDS30SEC).windowSize(TEN_MINUTES).zone(LA)
                .seriesStart(LocalDateTime.parse("2024-03-05T00:00")).backfillChunk(1_000).queue(queue).ledger(ledger)
                .clock(clock).build();
        // refuse every 7th task of the batch, realtime and backfill alike: holes in the middle of each series
        int[] n = {0};
        queue.refuse = t -> n[0]++ % 7 == 3;
        TasksNotAcceptedException e = assertThrows(TasksNotAcceptedException.class, ticker::tick);
        assertTrue(e.notAccepted().size() > 1);
        long acceptedFirst = queue.offers.size();
        queue.refuse = t -> false;
        ticker.tick();
        Map<String, Integer> seen = new HashMap<>();
        queue.offers.forEach(o -> seen.merge(o.task().id(), 1, Integer::sum));
        // what a ticker whose queue accepts everything plans at the same time
        BatchQueue control = new BatchQueue(clock);
        RealtimeTicker.builder().series(VDS30SEC).windowSize(TEN_MINUTES).zone(LA)
                .seriesStart(LocalDateTime.parse("2024-03-05T00:00")).backfillChunk(1_000).queue(control)
                .ledger(new InMemoryCompletionLedger()).clock(clock).build().tick();
        Set<String> expectedIds = new java.util.HashSet<>();
        control.offers.forEach(o -> expectedIds.add(o.task().id()));
        int expected = expectedIds.size();
        assertEquals(expectedIds, seen.keySet(), "every window was offered, the refused ones included, and no other");
        assertTrue(queue.offers.size() - acceptedFirst >= e.notAccepted().size(), "the refused tasks were offered again");
        assertEquals(expected, ticker.totals().total(), "each window counted once, when accepted before its series' wind-back point");
    }

    @Test
    void snapshotTick_taskNotAccepted_isNotMarkedPlanned_andIsOfferedAgainNextTick() {
        MutableClock clock = new MutableClock(la("2024-03-05T19:00"));
        BatchQueue queue = new BatchQueue(clock);
        SnapshotSchedule s = SnapshotSchedule.builder().tables(CONFIG_TABLES).at(LocalTime.of(19, 0), LA)
                .firstDay(LocalDate.parse("2024-03-05")).queue(queue).ledger(ledger).clock(clock).build();
        String refused = CONFIG_TABLES.get(2).task("config", dev.relay.api.Snapshot.of(LocalDate.parse("2024-03-05"))).id();
        queue.refuse = t -> t.id().equals(refused);
        assertThrows(TasksNotAcceptedException.class, s::tick);
        assertEquals(1, queue.batches.size());
        assertEquals(CONFIG_TABLES.size() - 1, queue.offers.size());
        assertTrue(ledger.plannedAt(refused).isEmpty(), "a refused snapshot is not marked planned");
        queue.refuse = t -> false;
        clock.advance(Duration.ofMinutes(1));
        List<Task> again = s.tick();
        assertEquals(List.of(refused), again.stream().map(Task::id).toList(), "only the refused snapshot is offered again");
    }

    @Test
    void backfillPlanMore_someTasksNotAccepted_resumesAtTheFirstRefused_noWindowLost() {
        MutableClock clock = new MutableClock(la("2024-03-20T00:00"));
        BatchQueue queue = new BatchQueue(clock);
        BackfillPlanner planner = BackfillPlanner.builder().series(VDS30SEC)
                .range(LocalDateTime.parse("2024-03-01T00:00"), LocalDateTime.parse("2024-03-01T06:00"))
                .windowSize(TEN_MINUTES).chunk(10_000).queue(queue).ledger(ledger).clock(clock).build();
        int[] n = {0};
        queue.refuse = t -> n[0]++ == 100;
        assertThrows(TasksNotAcceptedException.class, planner::planMore);
        assertEquals(1, queue.batches.size(), "one batch per call");
        queue.refuse = t -> false;
        planner.planMore();
        Map<String, Integer> seen = new HashMap<>();
        queue.offers.forEach(o -> seen.merge(o.task().id(), 1, Integer::sum));
        assertEquals(9 * 36, seen.size(), "every window offered");
        assertEquals(BackfillPlanner.State.PLANNED, planner.progress().state());
    }
}
