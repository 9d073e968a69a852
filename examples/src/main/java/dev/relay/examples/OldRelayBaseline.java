package dev.relay.examples;

import dev.relay.api.LaneSpec;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.inmemory.InMemoryTaskQueue;
import dev.relay.simulation.Simulation;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The counterfactual: the same outage, the same tasks and the same source times, run the old relay's way — one
 * FIFO queue in front of the source. After the restart the whole backlog is queued, and the 19:00 config
 * snapshots join the queue behind it. It runs on the simulation alone (no databases): only the timing matters.
 *
 * <p>Not threadsafe: one thread runs it.
 */
final class OldRelayBaseline {

    private static final String QUEUE = "queue";

    /**
     * What the old design would have done.
     *
     * @param configDue when the first day's config snapshots were due
     * @param configFirstWait how long the first of them would have waited
     * @param configDone how long after 19:00 the last of them would have been done (null if not within the limit)
     * @param realtimeWorstWait the longest wait of a realtime window
     * @param configCompletions when each of them was done, after {@code configDue}, in order
     */
    record Result(Instant configDue, Duration configFirstWait, Duration configDone, Duration realtimeWorstWait,
                  List<Duration> configCompletions) {
        /** Copies the list. */
        Result {
            configCompletions = List.copyOf(configCompletions);
        }
    }

    private OldRelayBaseline() {
    }

    /**
     * @param options the demo's options (outage, permits, seed)
     * @return the old relay's figures for the first day's config snapshots
     */
    static Result run(DemoOptions options) {
        Instant restart = IncidentScenario.RESTART.atZone(IncidentScenario.ZONE).toInstant();
        LocalDateTime outageStart = IncidentScenario.RESTART.minusDays(options.outageDays());
        Simulation sim = new Simulation(restart, options.seed());
        InMemoryTaskQueue queue = sim.queue();
        SourceTimeModel model = new SourceTimeModel(options.seed());
        Map<String, Task> original = new HashMap<>(); // what each task would be in relay's lanes, for its source time
        LocalDate day = IncidentScenario.RESTART.toLocalDate();
        Instant due = ZonedDateTime.of(day, java.time.LocalTime.of(19, 0), IncidentScenario.ZONE).toInstant();
        Figures rec = new Figures(original, due);
        Relay relay = Relay.builder().queue(queue)
                .puller(sim.puller(t -> model.sourceTime(original.get(t.id())), t -> 0)).sink(sim.sink())
                .lane(LaneSpec.builder(QUEUE).build()).sourcePermits(options.permits()).quantum(SourceTimeModel.QUANTUM)
                .clock(sim.clock()).control(sim.control()).workers(sim.workers()).random(sim.random())
                .idlePollInterval(Duration.ofMinutes(1)).listener(rec).build();
        relay.start();
        Duration window = Duration.ofMinutes(10);
        LocalDateTime realtimeFrom = IncidentScenario.RESTART.minusHours(2);
        // the backlog of the outage, queued at once; the last two hours count as recent (hot) windows
        for (LocalDateTime w = outageStart; w.isBefore(IncidentScenario.RESTART); w = w.plus(window)) {
            offer(queue, original, w.isBefore(realtimeFrom) ? IncidentScenario.BACKFILL : IncidentScenario.REALTIME, w);
        }
        Instant limit = restart.plus(Duration.ofDays(3L * options.outageDays() + 2));
        sim.every(restart.plus(Duration.ofMinutes(15)), window, limit, at -> {
            LocalDateTime closed = LocalDateTime.ofInstant(at, IncidentScenario.ZONE).minusMinutes(15);
            offer(queue, original, IncidentScenario.REALTIME, closed);
        });
        sim.at(due, () -> {
            for (String table : PemsSource.CONFIG_TABLES.keySet()) {
                Task t = Task.builder(IncidentScenario.CONFIG, IncidentScenario.CONFIG_SOURCE).scope(Snapshot.of(day))
                        .parameter(IncidentScenario.TABLE_PARAMETER, table).build();
                original.put(t.id(), t);
                queue.offer(t.withLane(QUEUE));
            }
        });
        int tables = PemsSource.CONFIG_TABLES.size();
        sim.runUntil(() -> rec.configDone >= tables, limit);
        Duration done = rec.configDone >= tables ? Duration.between(due, sim.now()) : null;
        java.util.concurrent.CompletableFuture<Boolean> stopped = relay.shutdownAsync(Duration.ofMinutes(5));
        sim.runUntil(stopped::isDone, sim.now().plus(Duration.ofMinutes(10)));
        return new Result(due, rec.configFirstWait, done, rec.realtimeWorstWait, rec.configCompletions);
    }

    /** Keeps the few figures the comparison needs; called on the simulation thread. */
    private static final class Figures implements RelayListener {
        private final Map<String, Task> original;
        private final Instant due;
        final List<Duration> configCompletions = new ArrayList<>();
        Duration configFirstWait;
        Duration realtimeWorstWait = Duration.ZERO;
        int configDone;

        Figures(Map<String, Task> original, Instant due) {
            this.original = original;
            this.due = due;
        }

        @Override
        public void started(Task task, Instant at, Duration waited, int permitsInUse) {
            String lane = original.get(task.id()).lane();
            if (lane.equals(IncidentScenario.CONFIG) && configFirstWait == null) {
                configFirstWait = waited;
            } else if (lane.equals(IncidentScenario.REALTIME) && waited.compareTo(realtimeWorstWait) > 0) {
                realtimeWorstWait = waited;
            }
        }

        @Override
        public void completed(Task task, Instant at, Duration service, long rows) {
            if (original.get(task.id()).lane().equals(IncidentScenario.CONFIG)) {
                configDone++;
                configCompletions.add(Duration.between(due, at));
            }
        }
    }

    private static void offer(InMemoryTaskQueue queue, Map<String, Task> original, String lane, LocalDateTime start) {
        for (int d : PemsSource.DISTRICTS) {
            Task t = Task.builder(lane, IncidentScenario.VDS_SOURCE).scope(Window.starting(start, Duration.ofMinutes(10)))
                    .parameter(IncidentScenario.DISTRICT_PARAMETER, PemsSource.schema(d)).build();
            original.put(t.id(), t);
            queue.offer(t.withLane(QUEUE));
        }
    }
}
