package dev.relay.simulation.pressure;

import dev.relay.api.LaneSpec;
import dev.relay.core.FairScheduler;
import dev.relay.core.pressure.Pressure;
import dev.relay.core.pressure.PressureControl;
import dev.relay.core.pressure.PullSample;
import dev.relay.simulation.Simulation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A deterministic scenario that drives the real {@link FairScheduler} and the real {@link PressureControl} on the
 * {@link Simulation}'s virtual clock and event loop, against a {@link KneeSource}: a backfill lane holding
 * {@code backfillTasks} ten-minute windows, a realtime lane receiving 9 district windows every 10 minutes and a
 * config lane receiving 6 snapshots at the given times. Each completed pull is reported to the pressure control,
 * whose limit is applied to the scheduler at once ({@code FairScheduler.limit}), as the engine does.
 *
 * <p>It records the {@code P_eff} trace, every start against the limit in force, and, for every task, the instant
 * from which the restated starvation bound applies to it — when it reached the head of its lane, or later when the
 * limit last fell while it waited — with the scheduler state the bound needs, so that the bound can be evaluated
 * after the run with the lanes' actual largest and smallest costs.
 *
 * <p>Not threadsafe: one run on the calling thread.
 */
final class PressureScenario {

    static final Instant T0 = Instant.parse("2024-06-15T00:00:00Z");
    static final Duration QUANTUM = Duration.ofSeconds(1);
    static final Duration WINDOW = Duration.ofMinutes(10);
    static final String[] LANES = {"backfill", "realtime", "config"};
    static final int[] WEIGHTS = {1, 4, 8};
    static final int DISTRICTS = 9;
    static final int CONFIG_TABLES = 6;

    // ---- inputs
    int permits = 8;
    Pressure pressure = Pressure.off();
    KneeSource source;
    long seed = 17;
    int backfillTasks = 2_000;
    long backfillRows = 10_000;
    long realtimeRows = 2_000;
    List<Duration> configAt = List.of(Duration.ofMinutes(30), Duration.ofMinutes(90));
    /** Pull times vary by ±noise around the model (data, plans, caches). */
    double noise = 0.10;

    /** A task. */
    record Job(int lane, String source, long rows, Duration window, int seq) {
    }

    /** {@code P_eff} after a completion. */
    record Point(long completion, Instant at, int limit) {
    }

    /** One task's wait against the restated bound; everything in nanoseconds of virtual time or cost. */
    record Wait(Job job, Instant boundFrom, long remainingNanos, long deficit, int inFlightShared, Instant started,
            long brakedNanos) {
    }

    /** One pull on the source. */
    record Pull(Job job, Instant start, Instant end, int concurrency) {
    }

    // ---- outputs
    final List<Point> trace = new ArrayList<>();
    final List<Wait> waits = new ArrayList<>();
    final List<Pull> pulls = new ArrayList<>();
    final long[] maxCost = new long[LANES.length];
    final long[] minCost = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
    int maxInUse;
    int startsAboveLimit;
    int startsWhileBraked;
    Instant backfillDone;
    long completions;
    PressureControl control;
    /** The braked spells, [on, off). */
    final List<Instant[]> spells = new ArrayList<>();
    private Instant brakedFrom;

    // ---- run state
    private Simulation sim;
    private FairScheduler<Job> scheduler;
    private final List<FairScheduler.Lane<Job>> lanes = new ArrayList<>();
    /** End times of the pulls in flight (all on shared permits here): nanos since T0 → count. */
    private final TreeMap<Long, Integer> ends = new TreeMap<>();
    /** Per lane: the wait record of its head item. */
    private final Map<Integer, Wait> heads = new HashMap<>();
    private SplittableRandom rnd;
    private int seq;
    private int backfillLeft;

    PressureScenario(KneeSource source) {
        this.source = source;
    }

    PressureScenario run(Duration limit) {
        sim = new Simulation(T0, seed);
        rnd = sim.split();
        scheduler = FairScheduler.builder().permits(permits).quantum(QUANTUM.toNanos()).clock(sim.clock()).build();
        for (int i = 0; i < LANES.length; i++) {
            lanes.add(scheduler.addLane(LaneSpec.builder(LANES[i]).weight(WEIGHTS[i]).build()));
        }
        control = pressure.start(permits, 1, sim.clock(), sim.control()::execute, sim.control()::schedule, this::limitChanged);
        scheduler.limit(control.limit());
        trace.add(new Point(0, T0, control.limit()));
        if (control.braked()) {
            brakedFrom = T0;
        }

        backfillLeft = backfillTasks;
        for (int i = 0; i < backfillTasks; i++) {
            long rows = Math.round(backfillRows * (0.95 + 0.1 * rnd.nextDouble()));
            scheduler.enqueue(lanes.get(0), new Job(0, "vds30sec", rows, WINDOW, seq++));
        }
        Instant end = T0.plus(limit);
        sim.every(T0.plus(WINDOW), WINDOW, end, at -> {
            for (int d = 0; d < DISTRICTS; d++) {
                long rows = Math.round(realtimeRows * (0.9 + 0.2 * rnd.nextDouble()));
                scheduler.enqueue(lanes.get(1), new Job(1, "vds30sec", rows, WINDOW, seq++));
            }
            pump();
        });
        for (Duration at : configAt) {
            sim.at(T0.plus(at), () -> {
                for (int t = 0; t < CONFIG_TABLES; t++) {
                    long rows = 5_000 + rnd.nextLong(25_000);
                    scheduler.enqueue(lanes.get(2), new Job(2, "PEMS.CONFIG_" + t, rows, Duration.ZERO, seq++));
                }
                pump();
            });
        }
        sim.at(T0, this::pump);
        sim.runUntil(() -> backfillLeft == 0, end);
        control.close();
        return this;
    }

    /** A brake verdict changed the limit (control turn). */
    private void limitChanged() {
        if (control.braked() && brakedFrom == null) {
            brakedFrom = sim.now();
        } else if (!control.braked() && brakedFrom != null) {
            spells.add(new Instant[] {brakedFrom, sim.now()});
            brakedFrom = null;
        }
        applyLimit();
        pump();
    }

    private void applyLimit() {
        int before = scheduler.limit();
        scheduler.limit(control.limit());
        if (control.limit() < before) {
            refreshHeads(true);
        }
    }

    private void pump() {
        while (scheduler.next(this::started)) {
            // started() did the work
        }
        refreshHeads(false);
    }

    private void started(FairScheduler.Lane<Job> lane, Job job, long ticket) {
        Instant now = sim.now();
        int inUse = scheduler.permitsInUse();
        boolean atLimit = scheduler.sharedPermitsInUse() >= scheduler.sharedPermits();
        maxInUse = Math.max(maxInUse, inUse);
        if (inUse > control.limit()) {
            startsAboveLimit++;
        }
        if (control.braked()) {
            startsWhileBraked++;
        }
        Wait head = heads.remove(job.lane());
        if (head != null && head.job() == job) {
            waits.add(new Wait(job, head.boundFrom(), head.remainingNanos(), head.deficit(), head.inFlightShared(), now,
                    brakedNanos(head)));
        } else {
            waits.add(new Wait(job, now, 0, 0, 0, now, 0)); // started the instant it reached the head
        }
        double seconds = source.seconds(inUse, job.rows(), now) * (1 + noise * (2 * rnd.nextDouble() - 1));
        Duration d = Duration.ofNanos((long) (seconds * 1e9));
        Instant end = now.plus(d);
        ends.merge(nanos(end), 1, Integer::sum);
        pulls.add(new Pull(job, now, end, inUse));
        sim.at(end, () -> completed(lane, job, ticket, now, d, atLimit));
    }

    private void completed(FairScheduler.Lane<Job> lane, Job job, long ticket, Instant started, Duration d, boolean atLimit) {
        long cost = d.toNanos();
        scheduler.complete(lane, ticket, cost);
        ends.computeIfPresent(nanos(sim.now()), (k, v) -> v == 1 ? null : v - 1);
        maxCost[job.lane()] = Math.max(maxCost[job.lane()], cost);
        minCost[job.lane()] = Math.min(minCost[job.lane()], cost);
        completions++;
        if (job.lane() == 0 && --backfillLeft == 0) {
            backfillDone = sim.now();
        }
        if (control.record(new PullSample(job.source(), started, d, job.rows(), job.window(), PullSample.Outcome.SUCCESS, atLimit))) {
            applyLimit();
        }
        if (trace.get(trace.size() - 1).limit() != control.limit()) {
            trace.add(new Point(completions, sim.now(), control.limit()));
        }
        pump();
    }

    /**
     * Records, for each lane's head item, the state from which its bound runs: when it became the head, and again
     * whenever the limit fell while it waited (the bound restarts then).
     */
    private void refreshHeads(boolean limitFell) {
        for (FairScheduler.Lane<Job> lane : lanes) {
            Job head = lane.peek();
            int i = lanes.indexOf(lane);
            if (head == null) {
                heads.remove(i);
                continue;
            }
            Wait w = heads.get(i);
            if (w == null || w.job() != head || limitFell) {
                heads.put(i, new Wait(head, sim.now(), remaining(), lane.deficit(), lane.inFlight(), null,
                        control.timeBraked().toNanos()));
            }
        }
    }

    /** The (u − S + 1)-th shortest remaining time of the pulls holding shared permits, 0 if a shared permit is free. */
    private long remaining() {
        int u = scheduler.sharedPermitsInUse();
        int s = scheduler.sharedPermits();
        if (u < s) {
            return 0;
        }
        int k = u - s + 1;
        long now = nanos(sim.now());
        for (Map.Entry<Long, Integer> e : ends.entrySet()) {
            k -= e.getValue();
            if (k <= 0) {
                return Math.max(0, e.getKey() - now);
            }
        }
        return Long.MAX_VALUE; // every permit is held by pulls that never end: no bound
    }

    private long brakedNanos(Wait head) {
        return control.timeBraked().toNanos() - head.brakedNanos();
    }

    /** @return the virtual time now (for checks that run on it) */
    Instant now() {
        return sim.now();
    }

    /**
     * Runs a brake check as simulated work: at the current virtual time, as a worker of the simulation.
     *
     * @param check the check
     */
    void work(Runnable check) {
        sim.workers().execute(check);
    }

    static long nanos(Instant t) {
        return Duration.between(T0, t).toNanos();
    }

    // ------------------------------------------------------------------ figures

    /**
     * The restated bound for one wait: from {@code boundFrom}, the remaining time {@code r_L}, then
     * {@code (1 + ⌈D_i / Q_i⌉)} rounds of the other lanes' {@code S_j = ⌈Q_j / m_j⌉ · C_j}, plus the time braked,
     * with each lane's actual largest cost {@code C_j} and smallest estimate bound {@code m_j = min(Q_j, min cost)}.
     *
     * @param w the wait
     * @return the latest start the bound allows
     */
    Instant bound(Wait w) {
        int i = w.job().lane();
        long others = 0;
        for (int j = 0; j < LANES.length; j++) {
            if (j == i || maxCost[j] == 0) {
                continue;
            }
            long qj = WEIGHTS[j] * QUANTUM.toNanos();
            long mj = Math.max(1, Math.min(qj, minCost[j]));
            others += ((qj + mj - 1) / mj) * maxCost[j];
        }
        long qi = WEIGHTS[i] * QUANTUM.toNanos();
        long debt = Math.max(0, (long) w.inFlightShared() * maxCost[i] - w.deficit());
        long rounds = 1 + (debt + qi - 1) / qi;
        return w.boundFrom().plusNanos(w.remainingNanos()).plusNanos(rounds * others).plusNanos(w.brakedNanos());
    }

    /** @return the waits that started after their bound */
    List<String> boundViolations() {
        List<String> out = new ArrayList<>();
        for (Wait w : waits) {
            Instant b = bound(w);
            if (w.started().isAfter(b)) {
                out.add(LANES[w.job().lane()] + " task " + w.job().seq() + " started " + w.started() + " after its bound " + b
                        + " (from " + w.boundFrom() + ")");
            }
        }
        return out;
    }

    /** @return the longest wait over bound ratio's slack: the largest (start − boundFrom) / (bound − boundFrom) */
    double worstBoundUse(int lane) {
        double worst = 0;
        for (Wait w : waits) {
            if (w.job().lane() != lane) {
                continue;
            }
            long allowed = Duration.between(w.boundFrom(), bound(w)).toNanos();
            long used = Duration.between(w.boundFrom(), w.started()).toNanos();
            if (allowed > 0) {
                worst = Math.max(worst, (double) used / allowed);
            }
        }
        return worst;
    }

    /** @return the longest wait of a lane's tasks from the instant they became the head of the lane */
    Duration worstWait(int lane) {
        Duration worst = Duration.ZERO;
        for (Wait w : waits) {
            if (w.job().lane() == lane) {
                Duration d = Duration.between(w.boundFrom(), w.started());
                worst = d.compareTo(worst) > 0 ? d : worst;
            }
        }
        return worst;
    }

    /**
     * @param from the start
     * @param until the end
     * @return the mean number of pulls running on the source between the two instants
     */
    double meanConcurrency(Instant from, Instant until) {
        long span = Duration.between(from, until).toNanos();
        long busy = 0;
        for (Pull p : pulls) {
            Instant a = p.start().isAfter(from) ? p.start() : from;
            Instant b = p.end().isBefore(until) ? p.end() : until;
            if (b.isAfter(a)) {
                busy += Duration.between(a, b).toNanos();
            }
        }
        return (double) busy / span;
    }

    /** @return the pulls completed by an instant */
    long completionsBy(Instant at) {
        return pulls.stream().filter(p -> !p.end().isAfter(at)).count();
    }

    /** @return the backfill's total time */
    Duration backfillTime() {
        return Duration.between(T0, backfillDone);
    }

    /** @return the limit in force at an instant, from the trace */
    int limitAt(Instant at) {
        int l = trace.get(0).limit();
        for (Point p : trace) {
            if (p.at().isAfter(at)) {
                break;
            }
            l = p.limit();
        }
        return l;
    }

    /**
     * @param from the first completion counted
     * @return the smallest and largest {@code P_eff} from that completion on
     */
    int[] rangeFrom(long from) {
        int lo = Integer.MAX_VALUE;
        int hi = Integer.MIN_VALUE;
        int current = trace.get(0).limit();
        for (Point p : trace) {
            if (p.completion() <= from) {
                current = p.limit();
            } else {
                lo = Math.min(lo, p.limit());
                hi = Math.max(hi, p.limit());
            }
        }
        return new int[] {Math.min(lo, current), Math.max(hi, current)};
    }

    /**
     * @param lo the band's low end
     * @param hi its high end
     * @param until the last completion considered
     * @return the first completion after which {@code P_eff} stays within {@code [lo, hi]} up to {@code until}
     */
    long convergedAfter(int lo, int hi, long until) {
        long since = -1;
        for (Point p : trace) {
            if (p.completion() > until) {
                break;
            }
            if (p.limit() < lo || p.limit() > hi) {
                since = -1;
            } else if (since < 0) {
                since = p.completion();
            }
        }
        return since < 0 ? Long.MAX_VALUE : since;
    }

    /** @return the time-weighted mean of {@code P_eff} between two instants */
    double meanLimit(Instant from, Instant until) {
        double sum = 0;
        for (int k = 0; k < trace.size(); k++) {
            Instant a = trace.get(k).at();
            Instant b = k + 1 < trace.size() ? trace.get(k + 1).at() : until;
            a = a.isBefore(from) ? from : a;
            b = b.isAfter(until) ? until : b;
            if (b.isAfter(a)) {
                sum += trace.get(k).limit() * (double) Duration.between(a, b).toNanos();
            }
        }
        return sum / Duration.between(from, until).toNanos();
    }

    /** @return the trace, compressed: "0:1 12:2 …" (completion:limit) */
    String traceSummary(int max) {
        StringBuilder b = new StringBuilder();
        int n = 0;
        for (Point p : trace) {
            if (n++ == max) {
                b.append("… (").append(trace.size() - max).append(" more changes)");
                break;
            }
            b.append(p.completion()).append(':').append(p.limit()).append(' ');
        }
        return b.toString().trim();
    }
}
