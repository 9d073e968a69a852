package dev.relay.core.plan;

import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static dev.relay.core.plan.Pems.TEN_MINUTES;
import static dev.relay.core.plan.Pems.VDS30SEC;
import static dev.relay.core.plan.RealtimeTickerTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackfillPlannerTest {

    private static final LocalDateTime FROM = LocalDateTime.parse("2024-03-01T00:00");
    private static final LocalDateTime TO = LocalDateTime.parse("2024-03-15T00:00");
    private static final int TWO_WEEKS_OF_WINDOWS = 14 * 144 * 9;

    private final InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();
    private final MutableClock clock = new MutableClock(Instant.parse("2024-06-01T00:00:00Z"));
    private final RecordingQueue queue = new RecordingQueue(clock);

    private BackfillPlanner.Builder planner() {
        return BackfillPlanner.builder().series(VDS30SEC).range(FROM, TO).windowSize(TEN_MINUTES).chunk(500)
                .queue(queue).ledger(ledger).clock(clock);
    }

    private int complete(String lane, int max) {
        List<Task> tasks = queue.take(lane, max);
        tasks.forEach(t -> ledger.recordCompleted(t, 1));
        return tasks.size();
    }

    @Test
    void planMore_twoWeeksOfNineDistricts_keepsTheQueueWithinTheChunkWhileAConsumerDrainsIt() {
        BackfillPlanner p = planner().build();
        assertEquals(TWO_WEEKS_OF_WINDOWS, p.total());
        Random random = new Random(375);
        int steps = 0;
        while (p.progress().state() != BackfillPlanner.State.DONE) {
            p.planMore();
            assertTrue(queue.depth("backfill") <= 500, "queue depth " + queue.depth("backfill") + " over the chunk");
            clock.advance(Duration.ofMinutes(1));
            complete("backfill", random.nextInt(120));
            assertTrue(++steps < 10_000, "backfill does not finish");
        }
        assertEquals(500, queue.maxBacklog("backfill"));
        assertEquals(TWO_WEEKS_OF_WINDOWS, queue.offers.size());
        assertEquals(TWO_WEEKS_OF_WINDOWS, queue.offers.stream().map(o -> o.task().id()).distinct().count(), "planned twice");
        BackfillPlanner.Progress done = p.progress();
        assertEquals(new BackfillPlanner.Progress(TWO_WEEKS_OF_WINDOWS, TWO_WEEKS_OF_WINDOWS, 0, TWO_WEEKS_OF_WINDOWS, 0,
                java.util.Optional.empty(), BackfillPlanner.State.DONE), done);
        assertEquals(14, p.manifest().datesOf(VDS30SEC.get(4)).size());
        assertEquals(LocalDate.parse("2024-03-14"), p.manifest().allDates().last());
    }

    @Test
    void planMore_offersOldestWindowFirstAcrossAllSeries() {
        BackfillPlanner p = planner().chunk(20).build();
        assertEquals(20, p.planMore());
        List<Task> offered = queue.offered("backfill");
        for (int i = 0; i < 9; i++) {
            assertEquals(FROM, offered.get(i).window().orElseThrow().start());
            assertEquals(VDS30SEC.get(i), SeriesKey.of(offered.get(i)));
        }
        assertEquals(FROM.plusMinutes(20), offered.get(18).window().orElseThrow().start());
        assertEquals(0, p.planMore(), "the lane is at its chunk");
    }

    @Test
    void planMore_skipsWindowsAlreadyInTheLedger() {
        Random random = new Random(7);
        Set<String> completedBefore = new HashSet<>();
        for (int i = 0; i < 1_000; i++) {
            SeriesKey k = VDS30SEC.get(random.nextInt(9));
            Task t = k.task("realtime", Window.starting(FROM.plusMinutes(10L * random.nextInt(14 * 144)), TEN_MINUTES));
            ledger.recordCompleted(t, 1);
            completedBefore.add(t.id());
        }
        BackfillPlanner p = planner().chunk(1_000_000).build();
        p.planMore();
        assertEquals(TWO_WEEKS_OF_WINDOWS - completedBefore.size(), queue.offers.size());
        assertTrue(queue.offers.stream().noneMatch(o -> completedBefore.contains(o.task().id())));
        BackfillPlanner.Progress progress = p.progress();
        assertEquals(completedBefore.size(), progress.skipped());
        assertEquals(completedBefore.size(), progress.done());
        assertEquals(BackfillPlanner.State.PLANNED, progress.state());
    }

    @Test
    void progress_estimatesTheFinishFromTheObservedRate() {
        BackfillPlanner p = planner().build();
        p.planMore();
        assertTrue(p.progress().estimatedFinish().isEmpty(), "no rate observed yet");
        for (int minute = 0; minute < 10; minute++) {
            clock.advance(Duration.ofMinutes(1));
            complete("backfill", 90);
            p.planMore();
        }
        BackfillPlanner.Progress progress = p.progress();
        assertEquals(900, progress.done());
        assertEquals(TWO_WEEKS_OF_WINDOWS - 900, progress.remaining());
        // 90 windows a minute: the remaining 17,244 take 191.6 minutes
        Instant expected = clock.instant().plus(Duration.ofSeconds((TWO_WEEKS_OF_WINDOWS - 900) * 60L / 90));
        assertTrue(Duration.between(expected, progress.estimatedFinish().orElseThrow()).abs().getSeconds() <= 1,
                () -> "estimated " + progress.estimatedFinish() + ", expected " + expected);
        assertEquals(BackfillPlanner.State.PLANNING, progress.state());
    }

    @Test
    void cancel_stopsPlanningAndKeepsWhatWasQueued() {
        BackfillPlanner p = planner().build();
        assertEquals(500, p.planMore());
        p.cancel();
        p.cancel();
        complete("backfill", 500);
        assertEquals(0, p.planMore());
        assertTrue(p.isCancelled());
        BackfillPlanner.Progress progress = p.progress();
        assertEquals(BackfillPlanner.State.CANCELLED, progress.state());
        assertEquals(500, progress.planned());
        assertTrue(progress.estimatedFinish().isEmpty());
    }

    @Test
    void planMore_restartedPlanner_offersOnlyWhatIsNotCompleted() {
        BackfillPlanner first = planner().build();
        first.planMore();
        complete("backfill", 300); // then the process dies; 200 stay queued
        BackfillPlanner second = planner().chunk(1_000_000).build();
        second.planMore();
        Map<String, Integer> offers = new HashMap<>();
        queue.offers.forEach(o -> offers.merge(o.task().id(), 1, Integer::sum));
        assertEquals(TWO_WEEKS_OF_WINDOWS, offers.size(), "every window planned");
        assertEquals(200, offers.values().stream().filter(c -> c == 2).count(), "only queued-but-not-completed ones twice");
    }

    @Test
    void planMore_backlogUnknown_countsItsOwnUncompletedOffers() {
        queue.backlogUnknown = true;
        BackfillPlanner p = planner().chunk(100).build();
        assertEquals(100, p.planMore());
        assertEquals(0, p.planMore());
        complete("backfill", 40);
        assertEquals(40, p.planMore());
    }

    @Test
    void build_unalignedRange_isWidenedToWholeWindows() {
        BackfillPlanner p = planner().range(FROM.plusMinutes(5), FROM.plusMinutes(25)).build();
        assertEquals(new Window(FROM, FROM.plusMinutes(30)), p.range());
        assertEquals(3 * 9, p.total());
    }

    @Test
    void build_badSettings_failNamingTheValue() {
        assertMessage(() -> BackfillPlanner.builder().range(TO, FROM), "2024-03-15T00:00");
        assertMessage(() -> BackfillPlanner.builder().chunk(0), "0");
        assertMessage(() -> BackfillPlanner.builder().windowSize(Duration.ofMinutes(11)), "PT11M");
        assertMessage(() -> BackfillPlanner.builder().series(VDS30SEC).build(), "range");
        assertMessage(() -> BackfillPlanner.builder().series(VDS30SEC).range(FROM, TO).build(), "windowSize");
        assertMessage(() -> BackfillPlanner.builder().series(VDS30SEC).range(FROM, TO).windowSize(TEN_MINUTES).build(), "queue");
        assertFalse(planner().build().isCancelled());
    }
}
