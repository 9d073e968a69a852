package dev.relay.examples;

import dev.relay.api.PlanningLedger;
import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.core.plan.RealtimeTicker;
import dev.relay.core.plan.SnapshotSchedule;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The scenario's planning, done by the library's planners: a {@link RealtimeTicker} over the nine district
 * series (10-minute windows from the start of the outage; windows closed longer ago than two hours go to the
 * backfill lane lazily, 500 at a time; the rest to the realtime lane) and a {@link SnapshotSchedule} of the six
 * config tables at 19:00 local time, both over one completion ledger that the engine records into. The scenario
 * calls {@link #tick(Instant)} once a simulated minute, as an embedding service's timer would.
 *
 * <p>Not threadsafe: the simulation thread calls it (the planners themselves are threadsafe).
 */
final class ScenarioPlanner {

    /** How long after a window's end its rows are complete enough to pull. */
    static final Duration LATENESS = Duration.ofMinutes(5);

    private final RealtimeTicker ticker;
    private final SnapshotSchedule snapshots;
    private final ZoneId zone;
    private final List<Instant> snapshotTimes = new ArrayList<>();
    private LocalDate lastSnapshotDay;
    private Instant lastTick;

    /**
     * @param queue where tasks go
     * @param ledger the completion ledger the engine records into
     * @param clock the scenario's clock
     * @param zone the source's zone
     * @param seriesStart the first window start (the outage began here; everything before was relayed)
     * @param firstSnapshotDay the first day whose config snapshot is planned
     */
    ScenarioPlanner(TaskQueue queue, PlanningLedger ledger, Clock clock, ZoneId zone, LocalDateTime seriesStart,
            LocalDate firstSnapshotDay) {
        this.zone = zone;
        List<SeriesKey> districts = PemsSource.DISTRICTS.stream().map(d -> SeriesKey.of(IncidentScenario.VDS_SOURCE,
                IncidentScenario.DISTRICT_PARAMETER, PemsSource.schema(d))).toList();
        List<SeriesKey> tables = PemsSource.CONFIG_TABLES.keySet().stream().map(t -> SeriesKey.of(
                IncidentScenario.CONFIG_SOURCE, IncidentScenario.TABLE_PARAMETER, t)).toList();
        this.ticker = RealtimeTicker.builder().series(districts).windowSize(Duration.ofMinutes(10)).zone(zone)
                .seriesStart(seriesStart).lateness(LATENESS).realtimeLane(IncidentScenario.REALTIME)
                .backfillLane(IncidentScenario.BACKFILL).queue(queue).ledger(ledger).clock(clock).build();
        this.snapshots = SnapshotSchedule.builder().tables(tables).at(LocalTime.of(19, 0), zone)
                .firstDay(firstSnapshotDay).lane(IncidentScenario.CONFIG).queue(queue).ledger(ledger).clock(clock).build();
    }

    /**
     * Plans what became due by {@code now} (the planners read the time from the scenario's clock).
     *
     * @param now the current instant
     */
    void tick(Instant now) {
        ticker.tick();
        List<Task> offered = snapshots.tick();
        for (Task t : offered) {
            LocalDate day = t.snapshot().orElseThrow().asOf();
            if (!day.equals(lastSnapshotDay)) {
                lastSnapshotDay = day;
                snapshotTimes.add(snapshots.dueAt(day));
            }
        }
        lastTick = now;
    }

    /**
     * Where the planned windows end, derived from the time of the last tick and the lateness alone (not from the
     * planners' own state, so that checking the sink up to it also checks the planners).
     *
     * @param seriesStart the first window start
     * @return the end of the last 10-minute window that had closed by the last tick
     */
    LocalDateTime plannedUntil(LocalDateTime seriesStart) {
        if (lastTick == null) {
            return seriesStart;
        }
        LocalDateTime closed = LocalDateTime.ofInstant(lastTick.minus(LATENESS), zone);
        LocalDateTime end = closed.withSecond(0).withNano(0).minusMinutes(closed.getMinute() % 10);
        return end.isBefore(seriesStart) ? seriesStart : end;
    }

    /** @return the watermark of every district series: the end of its contiguous completed prefix in the ledger */
    Map<SeriesKey, LocalDateTime> watermarks() {
        return ticker.watermarks();
    }

    /** @return window tasks offered to the backfill lane so far */
    long backfillPlanned() {
        return ticker.totals().backfill();
    }

    /** @return window tasks of the backfill lane in all: offered plus still waiting in the ticker */
    long backfillTotal() {
        return ticker.totals().backfill() + ticker.backfillPending();
    }

    /** @return whether the ticker holds no more backfill windows to offer */
    boolean backfillAllOffered() {
        return ticker.backfillPending() == 0;
    }

    /** @return window tasks offered to the realtime lane */
    long realtimePlanned() {
        return ticker.totals().realtime();
    }

    /** @return when each planned day's snapshots were due */
    List<Instant> snapshotTimes() {
        return List.copyOf(snapshotTimes);
    }
}
