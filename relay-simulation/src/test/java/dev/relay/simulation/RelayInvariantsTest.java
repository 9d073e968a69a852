package dev.relay.simulation;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.relay.api.CompletionLedger;
import dev.relay.api.LaneSpec;
import dev.relay.api.Lease;
import dev.relay.api.PullException;
import dev.relay.api.Puller;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.api.Window;
import dev.relay.core.LaneSnapshot;
import dev.relay.core.LaneState;
import dev.relay.core.Relay;
import dev.relay.core.RelaySnapshot;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The engine's invariants ({@link Relay}'s class comment) over random interleavings, on virtual time: offers (with
 * the same task id offered again, to the same lane and to lanes of another sink), slow and failing pulls, sink
 * outages, pauses, drains, removals, re-weights, permit limits up and down, cancellations, and a shutdown at a
 * random moment with a random timeout; then a second relay on the same queue finishes what is left. Checked:
 *
 * <ol>
 *   <li>every lease the relay took is ended exactly once (a wrapping queue counts the endings; none is left open
 *       after the shutdown);
 *   <li>the permits in use equal the tasks in flight and never exceed {@code P} (the engine asserts the equality at
 *       the end of every turn; assertions are on in tests) — checked from outside on every published snapshot;
 *   <li>a lease is completed only after its sink committed the task and the ledger recorded it;
 *   <li>no two attempts of one task id run against one sink at once (run intervals on virtual time);
 *   <li>a paused, suspended or removed lane holds no lease but those of its running tasks; no lease is lost to a timeout
 *       (the lease timeout is shorter than the pauses and outages, longer than any buffered wait);
 *   <li>nothing is lost: after the second relay, every offered task reached its sink or the dead letters.
 * </ol>
 * Each example is a seed; a failure names it, and {@code withFixedSeed} makes the run reproducible.
 */
class RelayInvariantsTest {

    static final Instant START = Instant.parse("2024-06-15T00:00:00Z");
    static final String[] LANES = {"a", "b", "c", "d"};
    /** Lanes a and b write to sink A, c and d to sink B. */
    static final Duration LEASE_TIMEOUT = Duration.ofMinutes(10);
    static final RetryPolicy RETRY = RetryPolicy.builder().maxAttempts(4).initialDelay(Duration.ofSeconds(2))
            .maxDelay(Duration.ofMinutes(1)).build();

    @Test
    void invariants_holdOverRandomInterleavings() {
        qt().withExamples(60).withFixedSeed(13L).forAll(longs().all()).checkAssert(seed -> {
            World w = new World(seed);
            List<String> violations = w.run();
            if (!violations.isEmpty()) {
                throw new AssertionError("seed " + seed + " (" + w + "): " + violations.subList(0, Math.min(8, violations.size())));
            }
        });
    }

    static String sinkOf(String lane) {
        return lane.equals("a") || lane.equals("b") ? "A" : "B";
    }

    /** One random scenario and everything it records. */
    static final class World {
        final long seed;
        final SplittableRandom random;
        final Simulation sim;
        final int permits;
        final int lanes;
        final List<String> violations = new ArrayList<>();
        final CheckingQueue queue;
        final Map<String, CheckingSink> sinks = new HashMap<>();
        /** sink/id recorded by the ledger. */
        final Set<String> ledger = new HashSet<>();
        /** sink/id → virtual end of the attempt running now. */
        final Map<String, Instant> running = new HashMap<>();
        /** lane/id of every offer that was accepted. */
        final Set<String> offered = new HashSet<>();
        final Set<String> poison = new HashSet<>();

        World(long seed) {
            this.seed = seed;
            this.random = new SplittableRandom(seed);
            this.sim = new Simulation(START, seed);
            this.permits = 1 + random.nextInt(4);
            this.lanes = 2 + random.nextInt(3);
            this.queue = new CheckingQueue(InMemoryTaskQueue.builder().clock(sim.clock()).leaseTimeout(LEASE_TIMEOUT).build());
            sinks.put("A", new CheckingSink("A"));
            sinks.put("B", new CheckingSink("B"));
        }

        @Override
        public String toString() {
            return "P=" + permits + ", " + lanes + " lanes";
        }

        Task task(String lane, int i) {
            return Task.builder(lane, "vds30sec").scope(Window.starting(LocalDateTime.of(2024, 6, 1, 0, 0).plusMinutes(10L * i),
                    Duration.ofMinutes(10))).parameter("district", "7").build();
        }

        Relay relay(boolean faults) {
            Puller puller = sim.puller(t -> {
                String key = sinkOf(t.lane()) + "/" + t.id();
                Instant end = running.get(key);
                if (end != null && end.isAfter(sim.now())) {
                    violations.add("invariant 4: task " + t.id() + " started against sink " + sinkOf(t.lane()) + " at "
                            + sim.now() + " while an attempt runs until " + end);
                }
                if (faults && poison.contains(t.id())) {
                    throw new PullException("poison " + t.id(), null); // fails at once: no time on the source
                }
                Duration d = Duration.ofMillis(500 + (Math.floorMod(t.id().hashCode() + t.attempt(), 15_000)));
                running.put(key, sim.now().plus(d));
                return d;
            }, t -> 3);
            Relay.Builder b = Relay.builder().queue(queue).puller(puller).sourcePermits(permits)
                    .ledger(new CompletionLedger() {
                        @Override
                        public void recordCompleted(Task task, long rows) {
                            ledger.add(sinkOf(task.lane()) + "/" + task.id());
                        }
                    })
                    .quantum(Duration.ofSeconds(1 + random.nextInt(3))).suspendAfterFailures(random.nextInt(4))
                    .clock(sim.clock()).control(sim.control()).workers(sim.workers()).random(sim.random())
                    .idlePollInterval(Duration.ofSeconds(5 + random.nextInt(30)));
            int dedicatedLeft = permits - 1;
            for (int i = 0; i < lanes; i++) {
                int dedicated = dedicatedLeft > 0 && random.nextInt(4) == 0 ? 1 : 0;
                dedicatedLeft -= dedicated;
                b.lane(LaneSpec.builder(LANES[i]).weight(1 + random.nextInt(4)).dedicatedPermits(dedicated)
                        .buffer(1 + random.nextInt(4)).retryPolicy(RETRY).build(), sinks.get(sinkOf(LANES[i])));
            }
            return b.build().start();
        }

        List<String> run() {
            Relay relay = relay(true);
            Instant end = START.plus(Duration.ofHours(3));
            int events = 20 + random.nextInt(60);
            for (int e = 0; e < events; e++) {
                Instant at = START.plusSeconds(random.nextInt(3 * 3600));
                schedule(relay, at);
            }
            int ids = 20 + random.nextInt(60);
            int bursts = 4 + random.nextInt(8);
            for (int k = 0; k < bursts; k++) { // bursts keep the lanes backlogged for a while
                Instant at = START.plusSeconds(random.nextInt(3 * 3600));
                int size = 5 + random.nextInt(30);
                for (int i = 0; i < size; i++) {
                    Task t = task(LANES[random.nextInt(lanes)], random.nextInt(ids));
                    if (random.nextInt(60) == 0) {
                        poison.add(t.id());
                    }
                    sim.at(at.plusMillis(random.nextInt(2000)), () -> {
                        queue.offer(t);
                        offered.add(t.lane() + "/" + t.id());
                    });
                }
            }
            AtomicReference<CompletableFuture<Boolean>> stopped = new AtomicReference<>();
            sim.every(START, Duration.ofSeconds(17), end, at -> {
                if (stopped.get() == null) {
                    check(relay, false);
                }
            });
            Instant stopAt = START.plusSeconds(1800 + random.nextInt(3 * 3600));
            Duration timeout = Duration.ofSeconds(random.nextInt(4) == 0 ? 0 : random.nextInt(30));
            sim.at(stopAt, () -> stopped.set(relay.shutdownAsync(timeout)));
            sim.runUntil(() -> stopped.get() != null && stopped.get().isDone(), stopAt.plus(Duration.ofHours(2)));
            if (stopped.get() == null || !stopped.get().isDone()) {
                violations.add("the shutdown did not end");
                return violations;
            }
            check(relay, true);
            running.clear(); // attempts abandoned at the shutdown were cancelled
            // a second relay, without faults, finishes what is left
            sinks.values().forEach(s -> s.downUntil = Instant.MIN);
            poison.clear();
            Relay second = relay(false);
            Instant limit = sim.now().plus(Duration.ofHours(6));
            sim.runUntil(() -> everythingDone(), limit);
            check(second, false);
            for (TrackedLease t : queue.leases) {
                if (t.endings != 1) {
                    violations.add("invariant 1: the lease of " + t.task().id() + " in lane " + t.task().lane()
                            + " (attempt " + t.task().attempt() + ") was ended " + t.endings + " times");
                }
            }
            for (String key : offered) {
                String lane = key.substring(0, 1);
                String id = key.substring(2);
                if (!sinks.get(sinkOf(lane)).committed.contains(id) && !deadLettered(lane, id)) {
                    violations.add("invariant 6: task " + id + " offered to lane " + lane + " never reached sink "
                            + sinkOf(lane) + " nor the dead letters");
                }
            }
            return violations;
        }

        boolean deadLettered(String lane, String id) {
            return queue.delegate.deadLetters(lane).stream().anyMatch(d -> d.task().id().equals(id));
        }

        boolean everythingDone() {
            for (int i = 0; i < lanes; i++) {
                if (queue.delegate.backlog(LANES[i]) > 0 || queue.delegate.leased(LANES[i]) > 0) {
                    return false;
                }
            }
            return true;
        }

        void schedule(Relay relay, Instant at) {
            String lane = LANES[random.nextInt(lanes)];
            int kind = random.nextInt(9);
            Duration length = Duration.ofMinutes(15 + random.nextInt(45));
            switch (kind) {
                case 0, 1 -> {
                    sim.at(at, () -> relay.pause(lane));
                    sim.at(at.plus(length), () -> relay.resume(lane));
                }
                case 2 -> {
                    CheckingSink s = sinks.get(random.nextBoolean() ? "A" : "B");
                    sim.at(at, () -> s.downUntil = at.plus(length));
                }
                case 3 -> sim.at(at, () -> relay.updateLane(LaneSpec.builder(lane).weight(1 + random.nextInt(8))
                        .buffer(1 + random.nextInt(4)).retryPolicy(RETRY).build()));
                case 4 -> {
                    int limit = random.nextInt(permits + 1);
                    sim.at(at, () -> relay.permitLimit(limit));
                    sim.at(at.plus(length), () -> relay.permitLimit(permits));
                }
                case 5 -> sim.at(at, relay::cancelInFlight);
                case 6 -> {
                    sim.at(at, () -> relay.drain(lane));
                    sim.at(at.plus(length), () -> relay.resume(lane));
                }
                case 7 -> {
                    if (random.nextInt(3) == 0) {
                        sim.at(at, () -> relay.removeLane(lane));
                    }
                }
                default -> { } // a quiet moment
            }
        }

        /** Invariants 2 and 5 from outside, on the published figures; 1 when the relay has stopped. */
        void check(Relay relay, boolean stopped) {
            RelaySnapshot s = relay.snapshot();
            if (s.permitsInUse() != s.inFlight() || s.permitsInUse() > permits || s.maxPermitsInUse() > permits) {
                violations.add("invariant 2 at " + sim.now() + ": permits " + s.permitsInUse() + " (max " + s.maxPermitsInUse()
                        + ") of " + permits + ", in flight " + s.inFlight());
            }
            for (LaneSnapshot l : s.lanes()) {
                if (l.leasesLost() > 0) {
                    violations.add("invariant 5: lane " + l.name() + " lost " + l.leasesLost() + " leases to a timeout");
                }
                boolean stoppedLane = l.state() == LaneState.PAUSED || l.state() == LaneState.SUSPENDED
                        || l.state() == LaneState.REMOVING || stopped;
                int leased = queue.delegate.leased(l.name());
                // a successful attempt's worker completes its lease before its finish turn: leased may be fewer
                if (stoppedLane && leased > l.inFlight()) {
                    violations.add("invariant 5 at " + sim.now() + ": lane " + l.name() + " is " + (stopped ? "stopped" : l.state())
                            + " with " + l.inFlight() + " running but " + leased + " leases out");
                }
            }
            if (stopped) {
                for (TrackedLease t : queue.leases) {
                    if (t.endings != 1) {
                        violations.add("invariant 1: the lease of " + t.task().id() + " in lane " + t.task().lane()
                                + " (attempt " + t.task().attempt() + ") was ended " + t.endings + " times");
                    }
                }
            }
        }

        /** Wraps the in-memory queue to count every lease's endings and check completions (invariants 1, 3). */
        final class CheckingQueue implements TaskQueue {
            final InMemoryTaskQueue delegate;
            final List<TrackedLease> leases = new ArrayList<>();

            CheckingQueue(InMemoryTaskQueue delegate) {
                this.delegate = delegate;
            }

            @Override
            public void offer(Task task) {
                delegate.offer(task);
            }

            @Override
            public void subscribe(Set<String> lanes) {
                delegate.subscribe(lanes);
            }

            @Override
            public List<Lease> poll(String lane, int max) {
                List<Lease> out = new ArrayList<>();
                for (Lease l : delegate.poll(lane, max)) {
                    TrackedLease t = new TrackedLease(l);
                    leases.add(t);
                    out.add(t);
                }
                return out;
            }

            @Override
            public long backlog(String lane) {
                return delegate.backlog(lane);
            }

            @Override
            public Optional<Set<String>> lanesWithTasks() {
                return delegate.lanesWithTasks();
            }

            @Override
            public void setAvailabilityListener(Runnable listener) {
                delegate.setAvailabilityListener(listener);
            }

            @Override
            public void close() {
                delegate.close();
            }
        }

        final class TrackedLease implements Lease {
            final Lease delegate;
            int endings;

            TrackedLease(Lease delegate) {
                this.delegate = delegate;
            }

            @Override
            public Task task() {
                return delegate.task();
            }

            @Override
            public Instant readySince() {
                return delegate.readySince();
            }

            private void ending() {
                endings++;
                if (endings > 1) {
                    violations.add("invariant 1: the lease of " + task().id() + " in lane " + task().lane() + " ended again at "
                            + sim.now());
                }
            }

            @Override
            public void complete() {
                ending();
                String key = sinkOf(task().lane()) + "/" + task().id();
                if (!sinks.get(sinkOf(task().lane())).committed.contains(task().id()) || !ledger.contains(key)) {
                    violations.add("invariant 3: " + key + " completed before its sink committed and the ledger recorded it");
                }
                delegate.complete();
            }

            @Override
            public void retry(Duration delay, String reason) {
                ending();
                delegate.retry(delay, reason);
            }

            @Override
            public void deadLetter(String reason) {
                ending();
                delegate.deadLetter(reason);
            }

            @Override
            public void release() {
                ending();
                delegate.release();
            }
        }

        /** An idempotent sink that can be down for a while (it then fails before the source is queried). */
        final class CheckingSink implements Sink {
            final String name;
            final Set<String> committed = new HashSet<>();
            Instant downUntil = Instant.MIN;

            CheckingSink(String name) {
                this.name = name;
            }

            @Override
            public SinkSession openBeforePull(Task task, Supplier<RowSchema> schema) {
                if (sim.now().isBefore(downUntil)) {
                    throw new SinkException("sink " + name + " is down", null);
                }
                return open(task, schema.get());
            }

            @Override
            public SinkSession open(Task task, RowSchema schema) {
                return new SinkSession() {
                    @Override
                    public void write(List<Row> rows) {
                    }

                    @Override
                    public void commit() {
                        committed.add(task.id());
                    }

                    @Override
                    public void abort() {
                    }

                    @Override
                    public void close() {
                    }
                };
            }

            @Override
            public String toString() {
                return "sink " + name;
            }
        }
    }
}
