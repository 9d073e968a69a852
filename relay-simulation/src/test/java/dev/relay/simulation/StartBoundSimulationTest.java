package dev.relay.simulation;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.relay.api.LaneSpec;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.FairScheduler;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The starvation bound through the real engine, on virtual time: every time a task reaches the head of its lane the
 * engine reports the guaranteed bound ({@link RelayListener#reachedHead}, from {@code FairScheduler.startBound}),
 * and the task must start within it. QuickTheories draws the scenarios: 1 to 8 permits, 2 to 7 lanes declaring their
 * largest task ({@link LaneSpec.Builder#maxTaskTime}), some capped, heavy-tailed and lagging task times, bursts and
 * idle gaps, and a victim lane whose tasks arrive right after another lane started one of its longest tasks.
 * {@code -Drelay.bound.engineExamples=N} runs N scenarios instead of 100; {@code -Drelay.bound.engineReplay=SEED} replays
 * one and prints every head and start.
 */
class StartBoundSimulationTest {

    private static final Instant START = Instant.parse("2024-06-15T00:00:00Z");
    private static final int EXAMPLES = Integer.getInteger("relay.bound.engineExamples", 100);

    private static long waits;
    private static double worst;
    private static String worstCase = "none";

    /** Records every head's deadline and checks every start against it. */
    private static final class Checker implements RelayListener {
        final Map<String, Instant> deadline = new HashMap<>();
        final Map<String, Instant> headAt = new HashMap<>();
        final Map<String, Long> headBound = new HashMap<>();
        final List<String> violations = new ArrayList<>();
        final List<Runnable> onStart = new ArrayList<>();
        Task lastStarted;
        long completed;
        java.io.PrintStream trace;
        long measured;
        double worstRatio;
        String worstWait = "none";

        @Override
        public void reachedHead(Task task, Instant at, long bound) {
            if (bound == FairScheduler.UNBOUNDED) {
                return;
            }
            Instant d = at.plusNanos(bound);
            if (trace != null) {
                trace.println(at + " head " + task.lane() + " " + task.id().substring(0, 8) + " bound " + Duration.ofNanos(bound));
            }
            deadline.merge(task.id(), d, (a, b) -> a.isBefore(b) ? a : b);
            headAt.putIfAbsent(task.id(), at);
            headBound.putIfAbsent(task.id(), bound);
        }

        @Override
        public void completed(Task task, Instant at, Duration service, long rows) {
            completed++;
        }

        @Override
        public void started(Task task, Instant at, Duration waited, int permitsInUse) {
            Instant d = deadline.remove(task.id());
            if (trace != null) {
                trace.println(at + " start " + task.lane() + " " + task.id().substring(0, 8) + " waited " + waited + " inUse " + permitsInUse);
            }
            if (d != null && at.isAfter(d)) {
                violations.add(task.id() + " started at " + at + ", after its deadline " + d);
            }
            Instant h = headAt.remove(task.id());
            Long b = headBound.remove(task.id());
            if (h != null && b != null && b > 0) {
                measured++;
                double r = (double) Duration.between(h, at).toNanos() / b;
                if (r > worstRatio) {
                    worstRatio = r;
                    worstWait = task.lane() + " task waited " + Duration.between(h, at) + " at the head, bound " + Duration.ofNanos(b);
                }
            }
            lastStarted = task;
            onStart.forEach(Runnable::run);
        }
    }

    static Task task(String lane, int i) {
        return Task.builder(lane, "q").scope(Window.starting(LocalDateTime.of(2024, 6, 1, 0, 0).plusMinutes(10L * i),
                Duration.ofMinutes(10))).parameter("lane", lane).build(); // ids differ between lanes
    }

    @Test
    void engine_everyHeadTask_startsWithinTheBoundReportedWhenItReachedTheHead() {
        qt().withExamples(EXAMPLES).withFixedSeed(1818L).forAll(longs().all()).checkAssert(seed -> runSeed(seed, null));
        assertTrue(waits > 0, "no head wait had a finite bound");
    }

    @Test
    void replay_oneSeed_printsItsHeadsAndStarts() {
        String seed = System.getProperty("relay.bound.engineReplay");
        org.junit.jupiter.api.Assumptions.assumeTrue(seed != null, "replays a scenario only with -Drelay.bound.engineReplay=SEED");
        runSeed(Long.parseLong(seed), System.out);
    }

    static void runSeed(long seed, java.io.PrintStream trace) {
        SplittableRandom r = new SplittableRandom(seed);
        int permits = 1 + r.nextInt(8);
        int n = 2 + r.nextInt(6);
        Simulation sim = new Simulation(START, seed);
        InMemoryTaskQueue queue = sim.queue();
        Checker checker = new Checker();
        checker.trace = trace;
        Map<String, Duration> durations = new HashMap<>();
        Relay.Builder b = Relay.builder().queue(queue).sink(sim.sink())
                .puller(sim.puller(t -> durations.get(t.id()), t -> 1))
                .sourcePermits(permits).quantum(Duration.ofMillis(1 + r.nextInt(2000))).clock(sim.clock())
                .control(sim.control()).workers(sim.workers()).random(sim.random())
                .idlePollInterval(Duration.ofSeconds(5)).listener(checker);
        long[] maxMillis = new long[n];
        String victim = "l" + (n - 1);
        StringBuilder desc = new StringBuilder("seed=" + seed + " P=" + permits);
        for (int i = 0; i < n; i++) {
            maxMillis[i] = 50 + r.nextInt(r.nextBoolean() ? 2_000 : 60_000);
            LaneSpec.Builder lane = LaneSpec.builder("l" + i).weight(1 + r.nextInt(8))
                    .maxTaskTime(Duration.ofMillis(maxMillis[i]));
            if (r.nextInt(4) == 0) {
                lane.maxInFlight(1 + r.nextInt(permits));
            }
            LaneSpec spec = lane.build();
            desc.append(' ').append(spec);
            b.lane(spec);
        }
        b.build().start();
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            int kind = r.nextInt(4);
            int count = 20 + r.nextInt(120);
            long t = 0;
            for (int k = 0; k < count; k++) {
                long ms = switch (kind) {
                    case 0 -> 1 + r.nextLong(maxMillis[i]); // uniform
                    case 1 -> Math.min(maxMillis[i], 1 + (long) (maxMillis[i] / 50.0 / Math.pow(1 - r.nextDouble(), 1 / 1.2)));
                    case 2 -> (k / 8) % 2 == 0 ? 1 + r.nextInt(3) : maxMillis[i] - r.nextLong(Math.max(1, maxMillis[i] / 10));
                    default -> maxMillis[i];
                };
                Task task = task("l" + i, next[i]++);
                durations.put(task.id(), Duration.ofMillis(Math.max(1, ms)));
                t += r.nextInt(3) == 0 ? r.nextInt(120_000) : 0;
                sim.at(START.plusMillis(t), () -> queue.offer(task));
            }
        }
        // the victim: a task arrives right after another lane starts one of its longest tasks
        SplittableRandom reactive = r.split();
        int[] victimTasks = {0};
        checker.onStart.add(() -> {
            Task started = checker.lastStarted;
            int from = Integer.parseInt(started.lane().substring(1));
            Duration d = durations.get(started.id());
            if (from != n - 1 && d.toMillis() * 5 >= maxMillis[from] * 4 && victimTasks[0] < 60 && reactive.nextInt(3) == 0) {
                Task v = task(victim, next[n - 1]++);
                durations.put(v.id(), Duration.ofMillis(1 + reactive.nextLong(maxMillis[n - 1])));
                victimTasks[0]++;
                sim.at(sim.now(), () -> queue.offer(v));
            }
        });
        sim.runUntil(() -> checker.completed == durations.size(), START.plus(Duration.ofDays(2)));
        if (!checker.violations.isEmpty()) {
            throw new AssertionError(desc + ": " + checker.violations.subList(0, Math.min(5, checker.violations.size())));
        }
        synchronized (StartBoundSimulationTest.class) {
            waits += checker.measured;
            if (checker.worstRatio > worst) {
                worst = checker.worstRatio;
                worstCase = desc + ": " + checker.worstWait;
            }
        }
    }

    @AfterAll
    static void report() {
        System.out.printf("StartBoundSimulationTest: %d scenarios, %d head waits with a finite bound, worst wait/bound %.6f in %s%n",
                EXAMPLES, waits, worst, worstCase);
    }
}
