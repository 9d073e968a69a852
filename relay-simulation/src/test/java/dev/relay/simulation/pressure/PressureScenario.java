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
import java.util.LinkedHashMap;

/**
 * A deterministic scenario that drives the real {@link FairScheduler} and the real {@link PressureControl} on the
 * {@link Simulation}'s virtual clock and event loop, against a {@link KneeSource}: a backfill lane holding
 * {@code backfillTasks} ten-minute windows, a realtime lane receiving 9 district windows every 10 minutes and a
 * config lane receiving 6 snapshots at the given times. Each completed pull is reported to the pressure control,
 * whose limit is applied to the scheduler at once ({@code FairScheduler.limit}), as the engine does.
 *
 * <p>It records the {@code P_eff} trace and every start against the limit in force, and checks every task's start
 * against the scheduler's starvation bound ({@link FairScheduler#startBound}, a guarantee: the lanes declare the
 * source model's largest pull time as their {@code maxTaskCost}), evaluated when the task reached the head of its
 * lane and again at every change of the limit while it waited — the restated bound: the bound holds with the limit
 * in force and is evaluated anew when {@code P_eff} changes; while braked there is none (the limit is 0), so the
 * time braked adds itself.
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
    /** The most pulls on the source at once, over every process sharing it (0: this relay's {@code P}). */
    int sourceMax;
    /** Pull times vary by ±noise around the model (data, plans, caches). */
    double noise = 0.10;

    /** A task. */
    record Job(int lane, String source, long rows, Duration window, int seq) {
    }

    /** {@code P_eff} after a completion. */
    record Point(long completion, Instant at, int limit) {
    }

    /**
     * One task's wait: when it reached the head of its lane, when its bound was last evaluated (then, or at the last
     * change of the limit), the start that bound allows (null while braked: no bound) and when it started.
     */
    record Wait(Job job, Instant head, Instant evaluated, Instant deadline, Instant started, int version) {
    }

    /** A task holding a permit. */
    record Run(FairScheduler.Lane<Job> lane, long ticket, Instant start) {
    }

    /** One pull on the source. */
    record Pull(Job job, Instant start, Instant end, int concurrency) {
    }

    // ---- outputs
    final List<Point> trace = new ArrayList<>();
    final List<Wait> waits = new ArrayList<>();
    final List<Pull> pulls = new ArrayList<>();
    final long[] maxCost = new long[LANES.length];
    /** The declared largest cost of each lane's tasks: the source model's worst pull at {@code P} at once. */
    final long[] declared = new long[LANES.length];
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
    private int[] sourceLoad;
    private FairScheduler<Job> scheduler;
    private final List<FairScheduler.Lane<Job>> lanes = new ArrayList<>();
    /** The pulls in flight, in start order. */
    private final Map<Job, Run> running = new LinkedHashMap<>();
    /** Per lane: the wait record of its head item. */
    private final Map<Integer, Wait> heads = new HashMap<>();
    /** Counts the changes of the limit in force: a bound holds until the next one. */
    private int version;
    private SplittableRandom rnd;
    private int seq;
    private int backfillLeft;

    PressureScenario(KneeSource source) {
        this.source = source;
    }

    PressureScenario run(Duration limit) {
        Simulation sim = new Simulation(T0, seed);
        prepare(sim, new int[1], limit);
        sim.runUntil(this::done, T0.plus(limit));
        finish();
        return this;
    }

    /** @return whether the backfill is done */
    boolean done() {
        return backfillLeft == 0;
    }

    /** Stops the pressure control (its brake's polling). */
    void finish() {
        control.close();
    }

    /**
     * Sets the scenario up on a simulation, so that several scenarios — relay processes — can share one simulation
     * and one source.
     *
     * @param sim the simulation
     * @param load the pulls running on the source, shared by every process on it
     * @param limit the longest run
     */
    void prepare(Simulation sim, int[] load, Duration limit) {
        this.sim = sim;
        this.sourceLoad = load;
        rnd = sim.split();
        scheduler = FairScheduler.builder().permits(permits).quantum(QUANTUM.toNanos()).clock(sim.clock()).build();
        for (int i = 0; i < LANES.length; i++) {
            long rows = i == 0 ? Math.round(backfillRows * 1.05) : i == 1 ? Math.round(realtimeRows * 1.1) : 30_000;
            declared[i] = (long) Math.ceil(source.worstSeconds(Math.max(permits, sourceMax), rows) * (1 + noise) * 1e9);
            lanes.add(scheduler.addLane(LaneSpec.builder(LANES[i]).weight(WEIGHTS[i]).maxTaskCost(declared[i]).build()));
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
        if (control.limit() != scheduler.limit()) {
            scheduler.limit(control.limit());
            version++;
        }
    }

    private void pump() {
        while (scheduler.next(this::started)) {
            // started() did the work
        }
        refreshHeads();
    }

    private void started(FairScheduler.Lane<Job> lane, Job job, long ticket) {
        Instant now = sim.now();
        int inUse = scheduler.permitsInUse();
        int onSource = ++sourceLoad[0];
        boolean atLimit = scheduler.sharedPermitsInUse() >= scheduler.sharedPermits();
        maxInUse = Math.max(maxInUse, inUse);
        if (inUse > control.limit()) {
            startsAboveLimit++;
        }
        if (control.braked()) {
            startsWhileBraked++;
        }
        Wait head = heads.remove(job.lane());
        if (head != null && head.job() == job && head.version() != version
                && (head.deadline() == null || !now.isAfter(head.deadline()))) {
            // the limit changed in this turn and the task started at once, before its bound was evaluated anew (and
            // not after the bound in force until the change)
            waits.add(new Wait(job, head.head(), now, now, now, version));
        } else if (head != null && head.job() == job) {
            waits.add(new Wait(job, head.head(), head.evaluated(), head.deadline(), now, head.version()));
        } else {
            waits.add(new Wait(job, now, now, now, now, version)); // started the instant it reached the head
        }
        running.put(job, new Run(lane, ticket, now));
        double seconds = source.seconds(onSource, job.rows(), now) * (1 + noise * (2 * rnd.nextDouble() - 1));
        Duration d = Duration.ofNanos((long) (seconds * 1e9));
        Instant end = now.plus(d);
        pulls.add(new Pull(job, now, end, onSource));
        sim.at(end, () -> completed(lane, job, ticket, now, d, atLimit));
    }

    private void completed(FairScheduler.Lane<Job> lane, Job job, long ticket, Instant started, Duration d, boolean atLimit) {
        long cost = d.toNanos();
        sourceLoad[0]--;
        scheduler.complete(lane, ticket, cost);
        running.remove(job);
        maxCost[job.lane()] = Math.max(maxCost[job.lane()], cost);
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
     * Evaluates the bound of each lane's head item when it became the head and again after every change of the limit
     * while it waits: {@link FairScheduler#startBound} holds as long as the configuration, the limit included, does
     * not change.
     */
    private void refreshHeads() {
        List<FairScheduler.Running<Job>> inFlight = null;
        for (int i = 0; i < lanes.size(); i++) {
            FairScheduler.Lane<Job> lane = lanes.get(i);
            Job head = lane.peek();
            if (head == null) {
                heads.remove(i);
                continue;
            }
            Wait w = heads.get(i);
            if (w == null || w.job() != head || w.version() != version) {
                if (inFlight == null) {
                    inFlight = new ArrayList<>();
                    for (Run r : running.values()) {
                        inFlight.add(FairScheduler.Running.of(r.lane(), r.ticket(), Duration.between(r.start(), sim.now()).toNanos()));
                    }
                }
                long bound = scheduler.startBound(lane, inFlight);
                Instant deadline = bound == FairScheduler.UNBOUNDED ? null : sim.now().plusNanos(bound);
                heads.put(i, new Wait(head, w != null && w.job() == head ? w.head() : sim.now(), sim.now(), deadline, null, version));
            }
        }
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

    /** @return the waits that started after the bound evaluated last before their start */
    List<String> boundViolations() {
        List<String> out = new ArrayList<>();
        for (Wait w : waits) {
            if (w.deadline() != null && w.started().isAfter(w.deadline())) {
                out.add(LANES[w.job().lane()] + " task " + w.job().seq() + " started " + w.started() + " after its bound "
                        + w.deadline() + " (evaluated " + w.evaluated() + ")");
            }
        }
        return out;
    }

    /** @return the waits of a lane that had no bound when they started (their lane was braked or could not start) */
    long unbounded(int lane) {
        return waits.stream().filter(w -> w.job().lane() == lane && w.deadline() == null).count();
    }

    /** @return the largest share of its bound a lane's task used: (start − evaluated) / (deadline − evaluated) */
    double worstBoundUse(int lane) {
        double worst = 0;
        for (Wait w : waits) {
            if (w.job().lane() != lane || w.deadline() == null) {
                continue;
            }
            long allowed = Duration.between(w.evaluated(), w.deadline()).toNanos();
            long used = Duration.between(w.evaluated(), w.started()).toNanos();
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
                Duration d = Duration.between(w.head(), w.started());
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
