package dev.relay.core.plan;

import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.List;

import static dev.relay.core.plan.Pems.CONFIG_TABLES;
import static dev.relay.core.plan.Pems.LA;
import static dev.relay.core.plan.Pems.la;
import static dev.relay.core.plan.RealtimeTickerTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnapshotScheduleTest {

    private final InMemoryCompletionLedger ledger = new InMemoryCompletionLedger();

    private SnapshotSchedule.Builder schedule(MutableClock clock, RecordingQueue queue) {
        return SnapshotSchedule.builder().tables(CONFIG_TABLES).at(LocalTime.of(19, 0), LA)
                .firstDay(LocalDate.parse("2024-03-01")).queue(queue).ledger(ledger).clock(clock);
    }

    @Test
    void tick_atTheTimeOfDay_plansEachTableOnceForThatDay() {
        MutableClock clock = new MutableClock(la("2024-03-05T18:59"));
        RecordingQueue queue = new RecordingQueue(clock);
        SnapshotSchedule s = schedule(clock, queue).firstDay(LocalDate.parse("2024-03-05")).build();
        assertEquals(List.of(), s.tick(), "not due yet");
        clock.advance(Duration.ofMinutes(1));
        List<Task> planned = s.tick();
        assertEquals(6, planned.size());
        assertTrue(planned.stream().allMatch(t -> t.lane().equals("config")
                && t.snapshot().orElseThrow().equals(Snapshot.of(LocalDate.parse("2024-03-05")))));
        for (int i = 0; i < 120; i++) {
            clock.advance(Duration.ofMinutes(1));
            assertEquals(List.of(), s.tick(), "planned twice at " + clock.instant());
        }
    }

    @Test
    void tick_restartWithinTheSnapshotHour_plansNoSecondSnapshot() {
        MutableClock clock = new MutableClock(la("2024-03-05T19:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        assertEquals(6, schedule(clock, queue).build().tick().size());
        // the relay restarts at 19:20 with the snapshots still queued (not completed); then again at 19:50
        // after they completed
        clock.set(la("2024-03-05T19:20"));
        assertEquals(List.of(), schedule(clock, queue).build().tick());
        queue.take("config", 6).forEach(t -> ledger.recordCompleted(t, 100));
        clock.set(la("2024-03-05T19:50"));
        assertEquals(List.of(), schedule(clock, queue).build().tick());
        assertEquals(6, queue.offers.size());
        // the next day's are planned at the next 19:00
        clock.set(la("2024-03-06T19:00"));
        assertEquals(6, schedule(clock, queue).build().tick().size());
    }

    @Test
    void tick_plannedButLostAndNotCompleted_isOfferedAgainAfterReplanAfter() {
        MutableClock clock = new MutableClock(la("2024-03-05T19:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        SnapshotSchedule s = schedule(clock, queue).replanAfter(Duration.ofHours(2)).build();
        assertEquals(6, s.tick().size());
        ledger.recordCompleted(queue.take("config", 1).get(0), 11_157);
        clock.set(la("2024-03-05T20:59"));
        assertEquals(0, s.tick().size());
        clock.set(la("2024-03-05T21:00"));
        List<Task> again = s.tick();
        assertEquals(5, again.size(), "the completed one is not offered again");
        clock.set(la("2024-03-05T22:00"));
        assertEquals(0, s.tick().size());
    }

    @Test
    void tick_afterDaysOfDowntime_plansOnlyTheLatestDueDay() {
        MutableClock clock = new MutableClock(la("2024-03-09T08:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        List<Task> planned = schedule(clock, queue).build().tick();
        assertEquals(6, planned.size());
        assertTrue(planned.stream().allMatch(t -> t.snapshot().orElseThrow().asOf().equals(LocalDate.parse("2024-03-08"))),
                "yesterday's snapshot is due at once, older days are not planned");
    }

    @Test
    void tick_beforeFirstDay_plansNothing() {
        MutableClock clock = new MutableClock(la("2024-03-05T08:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        assertEquals(List.of(), schedule(clock, queue).firstDay(LocalDate.parse("2024-03-05")).build().tick());
    }

    @Test
    void dueAt_dstDays_usesTheDaysOffset() {
        MutableClock clock = new MutableClock(la("2024-03-05T08:00"));
        SnapshotSchedule s = schedule(clock, new RecordingQueue(clock)).build();
        assertEquals(Instant.parse("2024-03-10T03:00:00Z"), s.dueAt(LocalDate.parse("2024-03-09")), "19:00 PST");
        assertEquals(Instant.parse("2024-03-11T02:00:00Z"), s.dueAt(LocalDate.parse("2024-03-10")), "19:00 PDT");
        assertEquals(Instant.parse("2024-11-04T03:00:00Z"), s.dueAt(LocalDate.parse("2024-11-03")), "19:00 PST");
    }

    @Test
    void tick_timeOfDayInsideTheSpringGap_isDueAtTheEndOfTheGap() {
        MutableClock clock = new MutableClock(Instant.parse("2024-03-10T09:59:00Z")); // 01:59 PST
        RecordingQueue queue = new RecordingQueue(clock);
        SnapshotSchedule s = SnapshotSchedule.builder().tables(CONFIG_TABLES).at(LocalTime.of(2, 30), LA)
                .firstDay(LocalDate.parse("2024-03-10")).queue(queue).ledger(ledger).clock(clock).build();
        assertEquals(Instant.parse("2024-03-10T10:00:00Z"), s.dueAt(LocalDate.parse("2024-03-10")), "03:00 PDT");
        assertEquals(List.of(), s.tick());
        assertEquals(Instant.parse("2024-03-10T10:00:00Z"), s.nextDue());
        clock.set(Instant.parse("2024-03-10T10:00:00Z"));
        assertEquals(6, s.tick().size());
        assertEquals(Instant.parse("2024-03-11T09:30:00Z"), s.nextDue(), "02:30 PDT the day after");
    }

    @Test
    void tick_timeOfDayInsideTheRepeatedAutumnHour_isDueAtItsFirstOccurrenceOnly() {
        MutableClock clock = new MutableClock(Instant.parse("2024-11-03T08:30:00Z")); // 01:30 PDT
        RecordingQueue queue = new RecordingQueue(clock);
        SnapshotSchedule s = SnapshotSchedule.builder().tables(CONFIG_TABLES).at(LocalTime.of(1, 30), LA)
                .firstDay(LocalDate.parse("2024-11-03")).queue(queue).ledger(ledger).clock(clock).build();
        assertEquals(6, s.tick().size());
        clock.set(Instant.parse("2024-11-03T09:30:00Z")); // 01:30 PST, the second occurrence
        assertEquals(List.of(), s.tick());
        assertEquals(6, queue.offers.size());
    }

    @Test
    void build_missingSettings_failNamingThem() {
        MutableClock clock = new MutableClock(la("2024-03-05T08:00"));
        RecordingQueue queue = new RecordingQueue(clock);
        assertMessage(() -> SnapshotSchedule.builder().build(), "tables");
        assertMessage(() -> SnapshotSchedule.builder().tables(CONFIG_TABLES).build(), "time of day");
        assertMessage(() -> SnapshotSchedule.builder().tables(CONFIG_TABLES).at(LocalTime.NOON, LA).build(), "queue");
        assertMessage(() -> SnapshotSchedule.builder().replanAfter(Duration.ofSeconds(5)), "PT5S");
        assertMessage(() -> SnapshotSchedule.builder().lane("Config!"), "Config!");
        assertMessage(() -> schedule(clock, queue).tables(CONFIG_TABLES.get(2)), "DETECTOR_CONFIG");
    }
}
