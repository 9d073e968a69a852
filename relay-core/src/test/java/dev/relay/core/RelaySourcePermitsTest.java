package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.PermitHolder;
import dev.relay.api.PermitStatus;
import dev.relay.api.PullException;
import dev.relay.api.RelayException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.SourcePermits;
import dev.relay.api.Task;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The engine with cluster-wide permits, on real threads: a scripted store grants, revokes and loses permits; the
 * puller's queries run until the test lets them finish (or they are cancelled). Checked: never more queries than
 * permits held, a revoked permit given back only after its query ended or was cancelled, a lost permit's query
 * cancelled at once (self-fencing) and its task run again later, every task committed exactly once.
 */
class RelaySourcePermitsTest {

    /** A store the test drives: grants, revokes (waiting for the give-back) and loses permits on command. */
    static final class ScriptedPermits implements SourcePermits {
        final int total;
        volatile PermitHolder holder;
        volatile boolean closed;
        final AtomicInteger held = new AtomicInteger();
        RuntimeException failStart;

        ScriptedPermits(int total) {
            this.total = total;
        }

        @Override
        public int total() {
            return total;
        }

        @Override
        public void start(PermitHolder holder) {
            if (failStart != null) {
                throw failStart;
            }
            this.holder = holder;
        }

        void grant(int k) {
            held.incrementAndGet();
            holder.granted(k);
        }

        CompletableFuture<Void> revoke(int k, Duration grace) {
            CompletableFuture<Void> given = new CompletableFuture<>();
            holder.revoked(k, grace, () -> {
                held.decrementAndGet();
                given.complete(null);
            });
            return given;
        }

        void lose(int k) {
            held.decrementAndGet();
            holder.lost(k);
        }

        @Override
        public PermitStatus status() {
            return new PermitStatus(total, Math.max(0, held.get()), 0, Duration.ofSeconds(10), Duration.ZERO, 0, 0, 0, 0, 0, 0);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** Queries that run until released or cancelled; counts the open ones and the most ever open. */
    static final class GatedPuller implements dev.relay.api.Puller {
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger maxOpen = new AtomicInteger();
        final List<GatedCursor> cursors = new CopyOnWriteArrayList<>();
        final AtomicInteger cancelled = new AtomicInteger();
        /** Checked at every open: the queries may not exceed it. */
        volatile int allowed = Integer.MAX_VALUE;
        final List<String> violations = new CopyOnWriteArrayList<>();

        @Override
        public RowCursor open(Task task) {
            GatedCursor c = new GatedCursor(task);
            int n = open.incrementAndGet();
            maxOpen.accumulateAndGet(n, Math::max);
            if (n > allowed) {
                violations.add(n + " queries open with " + allowed + " permits, at " + task.id());
            }
            cursors.add(c);
            return c;
        }

        /** Lets the oldest running query finish. */
        boolean finishOne() {
            for (GatedCursor c : cursors) {
                if (c.go.getCount() > 0 && !c.cancelled) {
                    c.go.countDown();
                    return true;
                }
            }
            return false;
        }

        void finishAll() {
            cursors.forEach(c -> c.go.countDown());
        }

        /** From now on every query finishes at once (the test is over). */
        void releaseAll() {
            released = true;
            finishAll();
        }

        volatile boolean released;

        int running() {
            return (int) cursors.stream().filter(c -> c.go.getCount() > 0 && !c.closed).count();
        }

        final class GatedCursor implements RowCursor {
            final Task task;
            final CountDownLatch go = new CountDownLatch(1);
            volatile boolean cancelled;
            volatile boolean closed;
            private boolean done;

            GatedCursor(Task task) {
                this.task = task;
            }

            @Override
            public RowSchema schema() {
                return RelayTest.SCHEMA;
            }

            @Override
            public List<Row> next() {
                try {
                    if (!released && !go.await(60, TimeUnit.SECONDS)) {
                        throw new PullException("query of " + task.id() + " never released", null);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new PullException("interrupted", e);
                }
                if (cancelled) {
                    throw new PullException("query of " + task.id() + " was cancelled", null);
                }
                if (done) {
                    return List.of();
                }
                done = true;
                return List.of(Row.of(RelayTest.SCHEMA, task.id(), 1L));
            }

            @Override
            public void cancel() {
                cancelled = true;
                GatedPuller.this.cancelled.incrementAndGet();
                go.countDown();
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    open.decrementAndGet();
                }
            }
        }
    }

    /** Counts commits per task id: a task committed twice would show. */
    static final class CountingSink implements Sink {
        final Map<String, AtomicInteger> commits = new ConcurrentHashMap<>();

        @Override
        public SinkSession open(Task task, RowSchema schema) {
            return new SinkSession() {
                @Override
                public void write(List<Row> chunk) {
                }

                @Override
                public void commit() {
                    commits.computeIfAbsent(task.id(), k -> new AtomicInteger()).incrementAndGet();
                }

                @Override
                public void abort() {
                }

                @Override
                public void close() {
                }
            };
        }
    }

    final InMemoryTaskQueue queue = InMemoryTaskQueue.create();
    final ScriptedPermits store = new ScriptedPermits(4);
    final GatedPuller puller = new GatedPuller();
    final CountingSink sink = new CountingSink();
    final List<Relay> relays = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        puller.releaseAll();
        for (Relay r : relays) {
            r.shutdown(Duration.ofSeconds(5));
        }
    }

    Relay start(LaneSpec... lanes) {
        Relay.Builder b = Relay.builder().queue(queue).puller(puller).sink(sink).sourcePermits(store)
                .idlePollInterval(Duration.ofMillis(5));
        for (LaneSpec l : lanes) {
            b.lane(l);
        }
        Relay r = b.build().start();
        relays.add(r);
        return r;
    }

    void offer(int n) {
        for (int i = 0; i < n; i++) {
            queue.offer(RelayTest.task("a", i));
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        RelayTest.await(condition, what);
    }

    @Test
    void nothingGranted_nothingRuns_thenAsManyAsHeld() throws Exception {
        Relay relay = start(LaneSpec.of("a"));
        offer(10);
        Thread.sleep(50);
        assertEquals(0, puller.open.get(), "no query before a permit is granted");
        puller.allowed = 2;
        store.grant(0);
        store.grant(1);
        await(() -> puller.open.get() == 2, "two queries on two permits");
        Thread.sleep(30);
        assertEquals(2, puller.open.get());
        puller.allowed = 4;
        store.grant(2);
        store.grant(3);
        await(() -> puller.open.get() == 4, "four queries on four permits");
        assertEquals(4, relay.permitStatus().held());
        assertEquals(List.of(), puller.violations);
    }

    @Test
    void revoked_givenBackOnlyAfterItsQueryEnded() throws Exception {
        start(LaneSpec.of("a"));
        offer(10);
        store.grant(0);
        store.grant(1);
        await(() -> puller.open.get() == 2, "two queries");
        puller.allowed = 2;
        CompletableFuture<Void> given = store.revoke(1, Duration.ofMinutes(5));
        Thread.sleep(50);
        assertFalse(given.isDone(), "two queries still run on two permits");
        puller.allowed = 1;
        assertTrue(puller.finishOne());
        given.get(30, TimeUnit.SECONDS);
        Thread.sleep(30);
        assertTrue(puller.open.get() <= 1, "the freed permit went back, not to the next task");
        assertEquals(List.of(), puller.violations);
        assertEquals(0, puller.cancelled.get());
    }

    @Test
    void revokedGraceEnded_newestQueryCancelledThenGivenBack_nothingLostOrDoubled() throws Exception {
        Relay relay = start(LaneSpec.of("a"));
        offer(6);
        store.grant(0);
        store.grant(1);
        await(() -> puller.open.get() == 2, "two queries");
        CompletableFuture<Void> given = store.revoke(0, Duration.ofMillis(50));
        given.get(30, TimeUnit.SECONDS);
        assertEquals(1, puller.cancelled.get(), "one query cancelled after the grace");
        assertEquals(1, relay.permitCancellations());
        store.grant(0);
        await(() -> {
            puller.finishAll();
            return sink.commits.size() == 6;
        }, "every task committed");
        sink.commits.forEach((id, n) -> assertEquals(1, n.get(), "task " + id + " committed once"));
    }

    @Test
    void lost_queriesCancelledAtOnceAndNothingStarts_thenRunAgain() throws Exception {
        Relay relay = start(LaneSpec.of("a"));
        offer(5);
        store.grant(0);
        store.grant(1);
        await(() -> puller.open.get() == 2, "two queries");
        puller.allowed = 0;
        store.lose(0);
        store.lose(1);
        await(() -> puller.open.get() == 0, "both queries cancelled and closed");
        assertEquals(2, puller.cancelled.get());
        assertEquals(2, relay.permitCancellations());
        Thread.sleep(50);
        assertEquals(0, puller.open.get(), "no query starts without a permit");
        assertEquals(List.of(), puller.violations);
        puller.allowed = 1;
        store.grant(3);
        await(() -> {
            puller.finishAll();
            return sink.commits.size() == 5;
        }, "every task committed after the permit came back");
        sink.commits.forEach((id, n) -> assertEquals(1, n.get(), "task " + id + " committed once"));
        assertEquals(List.of(), puller.violations);
    }

    @Test
    void permitLimit_belowHeld_capsTheQueries() throws Exception {
        Relay relay = start(LaneSpec.of("a"));
        offer(10);
        relay.permitLimit(1).get(10, TimeUnit.SECONDS);
        puller.allowed = 1;
        for (int k = 0; k < 4; k++) {
            store.grant(k);
        }
        await(() -> puller.open.get() == 1, "one query under the limit");
        Thread.sleep(30);
        assertEquals(1, puller.open.get());
        puller.allowed = 4;
        relay.permitLimit(4).get(10, TimeUnit.SECONDS);
        await(() -> puller.open.get() == 4, "four queries");
        assertEquals(List.of(), puller.violations);
    }

    @Test
    void fewerPermitsThanDedicatedLanes_nothingStarts() throws Exception {
        start(LaneSpec.builder("a").dedicatedPermits(1).build(), LaneSpec.builder("b").dedicatedPermits(1).build(),
                LaneSpec.of("c"));
        offer(4);
        puller.allowed = 1;
        store.grant(0);
        Thread.sleep(60);
        assertEquals(0, puller.open.get(), "one permit for two lanes with a dedicated permit each: none starts");
        puller.allowed = 2;
        store.grant(1);
        await(() -> puller.open.get() >= 1, "queries once two permits are held");
        assertEquals(List.of(), puller.violations);
    }

    @Test
    void shutdown_closesTheStore() throws Exception {
        Relay relay = start(LaneSpec.of("a"));
        assertTrue(store.holder != null, "started with the relay");
        relay.shutdown(Duration.ofSeconds(5));
        assertTrue(store.closed);
    }

    @Test
    void start_storeFails_relayStartFails() {
        store.failStart = new RelayException("the permits topic has 3 partitions", null, false);
        Relay relay = Relay.builder().queue(queue).puller(puller).sink(sink).sourcePermits(store).lane(LaneSpec.of("a")).build();
        relays.add(relay);
        RelayException e = assertThrows(RelayException.class, relay::start);
        assertTrue(e.getMessage().contains("3 partitions"), e.getMessage());
    }

    @Test
    void build_permitsContradictTheStore_failsNamingBoth() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Relay.builder().queue(queue)
                .puller(puller).sink(sink).sourcePermits(2).sourcePermits(store).lane(LaneSpec.of("a")).build());
        assertTrue(e.getMessage().contains("sourcePermits(2)") && e.getMessage().contains("4 permits"), e.getMessage());
    }
}
