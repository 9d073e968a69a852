package dev.relay.examples;

import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.api.Window;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * <b>Demo-only</b> planning for the incident scenario, kept deliberately small: each {@link #tick(Instant)} offers
 * the 10-minute district windows that have closed (plus a lateness) since the last tick — into the backfill lane
 * when they are older than the horizon (the outage's backlog, all of it at the first tick after the restart), into
 * the realtime lane otherwise — and the six config snapshots once a day at 19:00 local time.
 *
 * <p>The library's own planners ({@code dev.relay.core.plan.RealtimeTicker} and {@code SnapshotSchedule}, with a
 * completion ledger, watermarks, lazy backfill chunks and DST-exact closing) do this properly; this class stands in
 * for them until they are on the demo's branch. It plans from a cursor kept in memory and does not survive a
 * restart, and it assumes no DST change inside the scenario (June).
 *
 * <p>Not threadsafe: the simulation thread calls it.
 */
final class ScenarioPlanner {

    private final TaskQueue queue;
    private final ZoneId zone;
    private final Duration windowSize;
    private final Duration lateness;
    private final Duration horizon;
    private final LocalTime snapshotAt;
    private LocalDateTime cursor;
    private LocalDate nextSnapshotDay;
    private long backfillPlanned;
    private long realtimePlanned;
    private final List<Instant> snapshotTimes = new ArrayList<>();

    /**
     * @param queue where tasks go
     * @param zone the source's zone
     * @param seriesStart the first window start (the outage began here; everything before was relayed)
     * @param firstSnapshotDay the first day whose config snapshot is planned
     */
    ScenarioPlanner(TaskQueue queue, ZoneId zone, LocalDateTime seriesStart, LocalDate firstSnapshotDay) {
        this.queue = queue;
        this.zone = zone;
        this.windowSize = Duration.ofMinutes(10);
        this.lateness = Duration.ofMinutes(5);
        this.horizon = Duration.ofHours(2);
        this.snapshotAt = LocalTime.of(19, 0);
        this.cursor = seriesStart;
        this.nextSnapshotDay = firstSnapshotDay;
    }

    /**
     * Offers what became due by {@code now}.
     *
     * @param now the current instant
     */
    void tick(Instant now) {
        LocalDateTime closedBy = LocalDateTime.ofInstant(now.minus(lateness), zone);
        LocalDateTime backfillBefore = LocalDateTime.ofInstant(now.minus(horizon), zone);
        while (!cursor.plus(windowSize).isAfter(closedBy)) {
            Window w = Window.starting(cursor, windowSize);
            boolean old = !w.end().isAfter(backfillBefore);
            String lane = old ? IncidentScenario.BACKFILL : IncidentScenario.REALTIME;
            for (int d : PemsSource.DISTRICTS) {
                queue.offer(Task.builder(lane, IncidentScenario.VDS_SOURCE).scope(w)
                        .parameter(IncidentScenario.DISTRICT_PARAMETER, PemsSource.schema(d)).build());
            }
            if (old) {
                backfillPlanned += PemsSource.DISTRICTS.size();
            } else {
                realtimePlanned += PemsSource.DISTRICTS.size();
            }
            cursor = w.end();
        }
        Instant due = dueAt(nextSnapshotDay);
        if (!now.isBefore(due)) {
            for (String table : PemsSource.CONFIG_TABLES.keySet()) {
                queue.offer(Task.builder(IncidentScenario.CONFIG, IncidentScenario.CONFIG_SOURCE)
                        .scope(Snapshot.of(nextSnapshotDay)).parameter(IncidentScenario.TABLE_PARAMETER, table).build());
            }
            snapshotTimes.add(due);
            nextSnapshotDay = nextSnapshotDay.plusDays(1);
        }
    }

    /**
     * @param day a day
     * @return when that day's snapshot is due
     */
    Instant dueAt(LocalDate day) {
        return ZonedDateTime.of(day, snapshotAt, zone).toInstant();
    }

    /** @return the end of the last window planned: every window before it was offered */
    LocalDateTime cursor() {
        return cursor;
    }

    /** @return window tasks offered to the backfill lane */
    long backfillPlanned() {
        return backfillPlanned;
    }

    /** @return window tasks offered to the realtime lane */
    long realtimePlanned() {
        return realtimePlanned;
    }

    /** @return when each planned day's snapshots were due */
    List<Instant> snapshotTimes() {
        return List.copyOf(snapshotTimes);
    }
}
