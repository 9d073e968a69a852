package dev.relay.simulation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Task;
import dev.relay.core.LaneSnapshot;
import dev.relay.core.LaneState;
import dev.relay.core.Relay;
import dev.relay.core.RelaySnapshot;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Regression: a paused or suspended lane kept its buffered leases until they timed out, so with an in-memory lease
 * timeout shorter than the pause (or than a sink outage) the same tasks were handed out again and committed twice.
 * Now a lane that stops starting work gives its buffered leases back at once. On virtual time: a one-minute lease
 * timeout against a one-hour pause and a one-hour sink outage.
 */
class PauseLeaseTimeoutSimulationTest {

    static final Instant START = Instant.parse("2024-06-15T00:00:00Z");
    static final Duration LEASE_TIMEOUT = Duration.ofMinutes(1);

    record Run(Simulation sim, InMemoryTaskQueue queue, Simulation.RecordingSink sink, Relay relay, RunRecorder recorder,
            List<Task> tasks) {
    }

    static Run start(int tasks) {
        Simulation sim = new Simulation(START, 11);
        InMemoryTaskQueue queue = InMemoryTaskQueue.builder().clock(sim.clock()).leaseTimeout(LEASE_TIMEOUT).build();
        Simulation.RecordingSink sink = sim.sink();
        RunRecorder rec = new RunRecorder();
        RetryPolicy retry = RetryPolicy.builder().maxAttempts(1_000).initialDelay(Duration.ofSeconds(5))
                .maxDelay(Duration.ofMinutes(2)).build();
        Relay relay = Relay.builder().queue(queue).sink(sink).puller(sim.puller(t -> Duration.ofSeconds(5), t -> 10))
                .lane(LaneSpec.builder("a").buffer(4).retryPolicy(retry).build())
                .sourcePermits(1).clock(sim.clock()).control(sim.control()).workers(sim.workers()).random(sim.random())
                .idlePollInterval(Duration.ofSeconds(10)).listener(rec).build().start();
        List<Task> offered = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            Task t = IsolationSimulationTest.task("a", i);
            queue.offer(t);
            offered.add(t);
        }
        return new Run(sim, queue, sink, relay, rec, offered);
    }

    static void assertEachCommittedOnce(Run run) {
        for (Task t : run.tasks()) {
            assertEquals(1, run.sink().commitsByTask().getOrDefault(t.id(), 0), "commits of " + t.id());
        }
        LaneSnapshot a = run.relay().snapshot().lane("a").orElseThrow();
        assertEquals(run.tasks().size(), a.completed());
        assertEquals(0, a.leasesLost(), "no lease timed out");
        assertEquals(0, a.deadLettered());
    }

    @Test
    void pause_longerThanTheLeaseTimeout_runsNoTaskTwice() {
        Run run = start(30);
        Simulation sim = run.sim();
        sim.runUntil(START.plusSeconds(12)); // two tasks done, the third running, four buffered
        run.relay().pause("a");
        sim.runUntil(START.plusSeconds(13));
        RelaySnapshot paused = run.relay().snapshot();
        assertEquals(LaneState.PAUSED, paused.lane("a").orElseThrow().state());
        assertEquals(0, paused.lane("a").orElseThrow().buffered(), "the buffered leases were given back");
        assertTrue(run.queue().leased("a") <= 1, "only the running task may hold a lease (its worker may have completed it"
                + " already: on virtual time the work is done at its start)");
        sim.runUntil(START.plus(Duration.ofHours(1)));
        assertEquals(0, run.queue().leased("a"), "a paused lane holds no lease");
        assertEquals(27, run.queue().backlog("a"), "the given-back leases wait in the queue, none counted as an attempt");
        run.relay().resume("a");
        sim.runUntil(() -> run.relay().snapshot().completed() == 30, START.plus(Duration.ofHours(2)));
        assertEachCommittedOnce(run);
        assertEquals(0, run.recorder().retries());
        assertTrue(run.recorder().starts().stream().allMatch(s -> s.task().attempt() == 1), "no attempt was counted");
    }

    @Test
    void sinkOutage_longerThanTheLeaseTimeout_runsNoTaskTwice() {
        Run run = start(30);
        Simulation sim = run.sim();
        Instant outageEnd = START.plus(Duration.ofHours(1));
        run.sink().failWhen(t -> sim.now().isBefore(outageEnd) && !sim.now().isBefore(START.plusSeconds(12)));
        sim.runUntil(START.plus(Duration.ofMinutes(30)));
        LaneSnapshot during = run.relay().snapshot().lane("a").orElseThrow();
        assertTrue(during.retried() > 0, "attempts failed during the outage");
        assertTrue(run.queue().leased("a") <= 1, "during the outage the lane holds at most its running lease, not "
                + run.queue().leased("a"));
        sim.runUntil(() -> run.relay().snapshot().completed() == 30, START.plus(Duration.ofHours(4)));
        assertEachCommittedOnce(run);
    }
}
