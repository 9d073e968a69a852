package dev.relay.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.LaneSnapshot;
import dev.relay.core.Relay;
import dev.relay.core.RelaySnapshot;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** Isolation between lanes, on virtual time: failures in one lane never cost the others their share. */
class IsolationSimulationTest {

    static final Instant START = Instant.parse("2024-06-15T00:00:00Z");

    static Task task(String lane, int i) {
        return Task.builder(lane, "vds30sec").scope(Window.starting(LocalDateTime.of(2024, 6, 1, 0, 0).plusMinutes(10L * i),
                Duration.ofMinutes(10))).parameter("district", lane).build();
    }

    record Outcome(RelaySnapshot snapshot, Simulation.RecordingSink sink, InMemoryTaskQueue queue, RunRecorder recorder) {
    }

    static Outcome run(int permits, Duration length, Predicate<Task> sinkFails, Set<String> poison, int tasksPerLane,
            SplittableRandom costs, String... lanes) {
        Simulation sim = new Simulation(START, 7);
        InMemoryTaskQueue queue = sim.queue();
        Simulation.RecordingSink sink = sim.sink();
        sink.failWhen(sinkFails);
        RunRecorder rec = new RunRecorder();
        Relay.Builder b = Relay.builder().queue(queue).sink(sink)
                .puller(sim.puller(t -> {
                    if (poison.contains(t.id())) {
                        throw new dev.relay.api.PullException("poison " + t.id(), null);
                    }
                    return Duration.ofMillis(500 + (t.id().hashCode() & 1023));
                }, t -> 10))
                .sourcePermits(permits).clock(sim.clock()).control(sim.control()).workers(sim.workers()).random(sim.random())
                .idlePollInterval(Duration.ofSeconds(30)).listener(rec);
        RetryPolicy retry = RetryPolicy.builder().maxAttempts(4).initialDelay(Duration.ofSeconds(5)).maxDelay(Duration.ofMinutes(1)).build();
        for (String l : lanes) {
            b.lane(LaneSpec.builder(l).retryPolicy(retry).build());
        }
        Relay relay = b.build().start();
        for (String l : lanes) {
            for (int i = 0; i < tasksPerLane; i++) {
                queue.offer(task(l, i));
            }
        }
        sim.runUntil(START.plus(length));
        return new Outcome(relay.snapshot(), sink, queue, rec);
    }

    @Test
    void sinkFailingForOneLane_leavesTheOtherLanesThroughputUntouched() {
        Outcome healthy = run(1, Duration.ofHours(1), t -> false, Set.of(), 5_000, null, "a", "b", "c");
        Outcome broken = run(1, Duration.ofHours(1), t -> t.lane().equals("b"), Set.of(), 5_000, null, "a", "b", "c");
        long aHealthy = healthy.snapshot().lane("a").orElseThrow().completed();
        long cHealthy = healthy.snapshot().lane("c").orElseThrow().completed();
        LaneSnapshot aBroken = broken.snapshot().lane("a").orElseThrow();
        LaneSnapshot bBroken = broken.snapshot().lane("b").orElseThrow();
        LaneSnapshot cBroken = broken.snapshot().lane("c").orElseThrow();
        System.out.printf("one hour, P=1, three equal lanes: healthy a=%d c=%d; with b's sink down a=%d c=%d, b retried %d, "
                + "b's share of source time %.1f%%%n", aHealthy, cHealthy, aBroken.completed(), cBroken.completed(),
                bBroken.retried(), 100.0 * bBroken.sourceTime().toMillis()
                        / (aBroken.sourceTime().toMillis() + bBroken.sourceTime().toMillis() + cBroken.sourceTime().toMillis()));
        assertTrue(aBroken.completed() >= aHealthy, "a lost throughput: " + aBroken.completed() + " < " + aHealthy);
        assertTrue(cBroken.completed() >= cHealthy, "c lost throughput: " + cBroken.completed() + " < " + cHealthy);
        assertEquals(0, bBroken.completed());
        assertTrue(bBroken.sourceTime().compareTo(Duration.ofMinutes(5)) < 0,
                "the failing lane kept the source busy for " + bBroken.sourceTime());
    }

    @Test
    void poisonTask_endsInTheDeadLetters_andNeverBlocksItsLane() {
        Set<String> poison = new HashSet<>();
        poison.add(task("a", 0).id());
        Outcome o = run(1, Duration.ofHours(2), t -> false, poison, 200, null, "a", "b");
        assertEquals(1, o.queue().deadLetters("a").size());
        assertEquals(task("a", 0).id(), o.queue().deadLetters("a").get(0).task().id());
        assertEquals(4, o.queue().deadLetters("a").get(0).task().attempt(), "dead after its 4 attempts");
        assertEquals(199, o.snapshot().lane("a").orElseThrow().completed());
        assertEquals(200, o.snapshot().lane("b").orElseThrow().completed());
        // the lane went on while the poison task waited for its retries
        Instant poisonDead = o.queue().deadLetters("a").get(0).at();
        long aDoneBeforeDeath = o.recorder().completions().stream()
                .filter(c -> c.task().lane().equals("a") && c.at().isBefore(poisonDead)).count();
        assertTrue(aDoneBeforeDeath > 10, "only " + aDoneBeforeDeath + " of lane a's tasks finished before the poison died");
    }

    @Test
    void retryStorm_neverExceedsThePermits() {
        Outcome o = run(3, Duration.ofHours(1), t -> (t.id().hashCode() & 1) == 0 && t.attempt() < 3, Set.of(), 2_000, null,
                "a", "b", "c", "d");
        assertTrue(o.recorder().maxPermitsInUse() <= 3);
        assertEquals(3, o.snapshot().maxPermitsInUse());
        assertTrue(o.recorder().retries() > 100, "a storm needs retries: " + o.recorder().retries());
        // every task that completed is in the sink exactly once
        assertEquals(o.snapshot().completed(), o.sink().rowsByTask().size());
    }
}
