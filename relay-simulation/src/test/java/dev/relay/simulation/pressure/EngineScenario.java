package dev.relay.simulation.pressure;

import dev.relay.api.LaneSpec;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.core.pressure.Pressure;
import dev.relay.inmemory.InMemoryTaskQueue;
import dev.relay.simulation.Simulation;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * The knee source driven through the whole engine: the real {@link Relay} (control loop, task runs, in-memory
 * queue, scheduler, pressure control) on the {@link Simulation}'s virtual time, its puller taking as long as the
 * {@link KneeSource} says for the pulls on the source when it starts. Records, at every start, the permits in use
 * and the {@code P_eff} the relay published, and {@code P_eff} after every completion.
 *
 * <p>Not threadsafe: one run on the calling thread.
 */
final class EngineScenario {

    static final Instant T0 = PressureScenario.T0;
    static final Duration WINDOW = Duration.ofMinutes(10);

    int permits = 8;
    Pressure pressure = Pressure.off();
    final KneeSource source;
    int backfillTasks = 1_000;
    /** Config snapshots' dedicated permits (0: none). */
    int configDedicated;
    List<Duration> configAt = List.of(Duration.ofMinutes(30));
    double noise = 0.10;

    /** A start: the permits in use once it started and the limit published at that moment. */
    record Start(Task task, Instant at, int inUse, int limit, boolean braked) {
    }

    final List<Start> starts = new ArrayList<>();
    /** (completions, P_eff) after each completion that changed it. */
    final List<long[]> trace = new ArrayList<>();
    final Map<String, Long> rows = new HashMap<>();
    long completions;
    long backfillDone;
    Instant backfillDoneAt;
    Relay relay;
    Simulation sim;

    EngineScenario(KneeSource source) {
        this.source = source;
    }

    EngineScenario run() {
        sim = new Simulation(T0, 7);
        SplittableRandom rnd = sim.split();
        InMemoryTaskQueue queue = sim.queue();
        PriorityQueue<Instant> ends = new PriorityQueue<>();
        Function<Task, Duration> duration = task -> {
            Instant now = sim.now();
            while (!ends.isEmpty() && !ends.peek().isAfter(now)) {
                ends.poll();
            }
            double s = source.seconds(ends.size() + 1, rows.get(task.id()), now) * (1 + noise * (2 * rnd.nextDouble() - 1));
            Duration d = Duration.ofNanos((long) (s * 1e9));
            ends.add(now.plus(d));
            return d;
        };
        Relay[] self = new Relay[1];
        RelayListener recorder = new RelayListener() {
            @Override
            public void started(Task task, Instant at, Duration waited, int permitsInUse) {
                var p = self[0].snapshot().pressure();
                starts.add(new Start(task, at, permitsInUse, p.limit(), p.brake().braked()));
            }

            @Override
            public void completed(Task task, Instant at, Duration service, long n) {
                completions++;
                if (task.lane().equals("backfill") && ++backfillDone == backfillTasks) {
                    backfillDoneAt = at;
                }
                int limit = self[0].snapshot().pressure().limit();
                if (trace.isEmpty() || trace.get(trace.size() - 1)[1] != limit) {
                    trace.add(new long[] {completions, limit});
                }
            }
        };
        relay = Relay.builder().queue(queue).puller(sim.puller(duration, t -> rows.get(t.id()))).sink(sim.sink())
                .lane(LaneSpec.builder("backfill").weight(1).build())
                .lane(LaneSpec.builder("realtime").weight(4).build())
                .lane(LaneSpec.builder("config").weight(8).dedicatedPermits(configDedicated).build())
                .sourcePermits(permits).quantum(Duration.ofSeconds(1)).pressure(pressure)
                .clock(sim.clock()).control(sim.control()).workers(sim.workers()).random(sim.random())
                .idlePollInterval(Duration.ofMinutes(1)).listener(recorder).build();
        self[0] = relay;
        relay.start();

        LocalDateTime w = LocalDateTime.of(2024, 6, 1, 0, 0);
        for (int i = 0; i < backfillTasks; i++, w = w.plus(WINDOW)) {
            Task t = Task.builder("backfill", "vds30sec").scope(Window.starting(w, WINDOW)).parameter("district", "4").build();
            rows.put(t.id(), Math.round(10_000 * (0.95 + 0.1 * rnd.nextDouble())));
            queue.offer(t);
        }
        Instant end = T0.plus(Duration.ofDays(3));
        sim.every(T0.plus(WINDOW), WINDOW, end, at -> {
            LocalDateTime closed = LocalDateTime.ofInstant(at, java.time.ZoneOffset.UTC).minus(WINDOW);
            for (int d = 3; d <= 11; d++) {
                Task t = Task.builder("realtime", "vds30sec").scope(Window.starting(closed, WINDOW))
                        .parameter("district", Integer.toString(d)).build();
                rows.put(t.id(), Math.round(2_000 * (0.9 + 0.2 * rnd.nextDouble())));
                queue.offer(t);
            }
        });
        for (Duration at : configAt) {
            sim.at(T0.plus(at), () -> {
                for (int k = 0; k < 6; k++) {
                    Task t = Task.builder("config", "PEMS.CONFIG_" + k).scope(Snapshot.of(LocalDate.of(2024, 6, 15)))
                            .parameter("at", at.toString()).build();
                    rows.put(t.id(), 5_000 + rnd.nextLong(25_000));
                    queue.offer(t);
                }
            });
        }
        sim.runUntil(() -> backfillDone == backfillTasks, end);
        return this;
    }

    Duration backfillTime() {
        return Duration.between(T0, backfillDoneAt);
    }

    /** @return the first completion after which P_eff stays within [lo, hi] */
    long convergedAfter(int lo, int hi) {
        long since = -1;
        for (long[] p : trace) {
            if (p[1] < lo || p[1] > hi) {
                since = -1;
            } else if (since < 0) {
                since = p[0];
            }
        }
        return since < 0 ? Long.MAX_VALUE : since;
    }
}
