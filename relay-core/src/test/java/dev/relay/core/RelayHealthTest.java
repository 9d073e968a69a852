package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Health;
import dev.relay.api.HealthIssue;
import dev.relay.api.HealthStatus;
import dev.relay.api.LaneSpec;
import dev.relay.api.Lease;
import dev.relay.api.PermitHolder;
import dev.relay.api.PermitStatus;
import dev.relay.api.QueueException;
import dev.relay.api.RetryPolicy;
import dev.relay.api.SourcePermits;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Each rule of {@link Relay#health()} on virtual time: turns and workers run on the test's thread
 * ({@link VirtualTurns}), so that tasks stay in flight and clocks move exactly as the test says.
 */
class RelayHealthTest {

    final VirtualTurns v = new VirtualTurns();
    final InMemoryTaskQueue memory = InMemoryTaskQueue.builder().clock(v).build();
    final RelayTest.MemorySink sink = new RelayTest.MemorySink();

    Relay.Builder relay(TaskQueue queue) {
        return Relay.builder().queue(queue).puller(RelayTest.puller(2)).sink(sink).clock(v).control(v).workers(v.workers)
                .idlePollInterval(Duration.ofSeconds(1));
    }

    Relay start(Relay.Builder b) {
        Relay r = b.build().start();
        v.runReady();
        return r;
    }

    static Task poison(int i) {
        return Task.builder("bad", "poison").scope(RelayTest.task("bad", i).scope()).build();
    }

    static HealthIssue only(Health h) {
        assertEquals(1, h.issues().size(), h.toString());
        return h.issues().get(0);
    }

    // ---------------------------------------------------------------- lifecycle

    @Test
    void health_beforeStartAndAfterShutdown_isDownStopped() {
        Relay r = relay(memory).name("pems-puller").lane(LaneSpec.of("a")).build();
        HealthIssue before = only(r.health());
        assertEquals(HealthStatus.DOWN, r.health().status());
        assertEquals(HealthIssue.Kind.STOPPED, before.kind());
        assertTrue(before.message().contains("pems-puller") && before.message().contains("not started"), before.message());

        r.start();
        v.runReady();
        assertEquals(Health.up(), r.health());
        assertEquals(HealthStatus.UP, r.snapshot().health().status());

        v.advance(Duration.ofMinutes(1));
        r.shutdownAsync(Duration.ZERO);
        v.runReady();
        HealthIssue after = only(r.health());
        assertEquals(HealthIssue.Kind.STOPPED, after.kind());
        assertEquals(v.instant(), after.since());
        assertTrue(after.message().contains("shut down"), after.message());
    }

    // ---------------------------------------------------------------- suspended lanes

    @Test
    void health_suspendedLane_isDegradedSinceTheSuspensionUntilTheCoolDownEnds() {
        RetryPolicy slow = RetryPolicy.builder().maxAttempts(10).initialDelay(Duration.ofSeconds(30))
                .maxDelay(Duration.ofSeconds(30)).build();
        Relay r = start(relay(memory).suspendAfterFailures(2).lane(LaneSpec.builder("bad").retryPolicy(slow).build())
                .lane(LaneSpec.of("good")));
        Instant failedAt = v.instant();
        memory.offer(poison(1));
        memory.offer(poison(2));
        v.runReady();

        HealthIssue issue = only(r.health());
        assertEquals(HealthStatus.DEGRADED, issue.severity());
        assertEquals("bad", issue.component());
        assertEquals(HealthIssue.Kind.LANE_SUSPENDED, issue.kind());
        assertEquals(failedAt, issue.since());
        assertEquals(LaneState.SUSPENDED, r.snapshot().lane("bad").orElseThrow().state());

        v.advance(Duration.ofSeconds(10)); // still cooling down: same issue, same since
        assertEquals(issue, only(r.health()));

        r.resume("bad");
        v.runReady();
        assertEquals(HealthStatus.UP, r.health().status(), r.health().toString());
    }

    // ---------------------------------------------------------------- a task waiting too long

    @Test
    void health_oldestTaskWaitingBeyondTheMaximum_isDegradedSinceItCrossedIt() {
        v.holdWorkers(true); // the first task holds the only permit as long as the test wants
        Relay r = start(relay(memory).sourcePermits(1).healthMaxWait(Duration.ofMinutes(5))
                .healthMaxWait("backfill", Duration.ofMinutes(30))
                .lane(LaneSpec.builder("config").maxTaskTime(Duration.ofHours(1)).build()) // its long run is no issue here
                .lane(LaneSpec.of("backfill")));
        memory.offer(RelayTest.task("config", 1)); // starts, stays in flight
        v.runReady();
        Instant readyAt = v.instant();
        memory.offer(RelayTest.task("config", 2));
        memory.offer(RelayTest.task("backfill", 3));
        v.runReady();
        assertEquals(1, r.snapshot().inFlight());

        v.advance(Duration.ofMinutes(5));
        assertEquals(Health.up(), r.health(), "exactly at the maximum is not beyond it");

        v.advance(Duration.ofMinutes(4));
        HealthIssue issue = only(r.health());
        assertEquals(HealthIssue.Kind.TASK_WAITING_TOO_LONG, issue.kind());
        assertEquals("config", issue.component(), "the backfill lane's own maximum is 30 min");
        assertEquals(readyAt.plus(Duration.ofMinutes(5)), issue.since());
        assertTrue(issue.message().contains("waited 9 min") && issue.message().contains("the 5 min allowed"), issue.message());

        v.advance(Duration.ofMinutes(30));
        assertEquals(List.of("config", "backfill"), r.health().issues().stream().map(HealthIssue::component).toList());

        v.holdWorkers(false); // the permit comes back: each waiting task runs in turn
        v.advance(Duration.ofSeconds(2));
        assertEquals(Health.up(), r.health());
        assertEquals(3, sink.committed.size());
    }

    @Test
    void health_taskHoldingItsPermitBeyondItsLanesMaximum_isDegradedSinceItPassedIt() {
        v.holdWorkers(true); // the tasks hang on the source until the test lets them go
        Relay r = start(relay(memory).sourcePermits(2).healthMaxWait(Duration.ofMinutes(10))
                .lane(LaneSpec.builder("config").maxTaskTime(Duration.ofMinutes(1)).build()).lane(LaneSpec.of("backfill")));
        Instant startedAt = v.instant();
        memory.offer(RelayTest.task("config", 1));
        memory.offer(RelayTest.task("backfill", 2));
        v.runReady();
        assertEquals(2, r.snapshot().inFlight());

        v.advance(Duration.ofMinutes(2));
        HealthIssue config = only(r.health());
        assertEquals(HealthIssue.Kind.TASK_RUNNING_TOO_LONG, config.kind());
        assertEquals("config", config.component());
        assertEquals(startedAt.plus(Duration.ofMinutes(1)), config.since());
        assertTrue(config.message().contains("declared maxTaskTime of 60.0 s"), config.message());

        v.advance(Duration.ofMinutes(10)); // the backfill lane declares nothing: healthMaxWait bounds it
        Health h = r.health();
        assertEquals(List.of("config", "backfill"), h.issues().stream().map(HealthIssue::component).toList(), h.toString());
        assertEquals(startedAt.plus(Duration.ofMinutes(10)), h.issuesOf("backfill").get(0).since());

        v.holdWorkers(false);
        v.advance(Duration.ofSeconds(1)); // the runs end; the next housekeeping turn publishes it
        assertEquals(Health.up(), r.health());
    }

    @Test
    void build_healthMaxWaitOfAnUnknownLane_failsNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> relay(memory).lane(LaneSpec.of("a")).healthMaxWait("b", Duration.ofMinutes(1)).build());
        assertTrue(e.getMessage().contains("[b]") && e.getMessage().contains("healthMaxWait"), e.getMessage());
    }

    @Test
    void builder_badHealthSettings_failNamingTheValue() {
        Relay.Builder b = relay(memory);
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> b.healthMaxWait(Duration.ZERO));
        assertTrue(zero.getMessage().contains("PT0S"), zero.getMessage());
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class, () -> b.name("my relay"));
        assertTrue(name.getMessage().contains("'my relay'"), name.getMessage());
    }

    // ---------------------------------------------------------------- the queue

    /** The in-memory queue, with polls that fail on command and a health the test sets. */
    static final class FlakyQueue implements TaskQueue {
        final InMemoryTaskQueue delegate;
        volatile Set<String> failing = Set.of();
        volatile Health reported = Health.up();
        volatile RuntimeException healthFails;
        volatile RuntimeException subscribeFails;

        FlakyQueue(InMemoryTaskQueue delegate) {
            this.delegate = delegate;
        }

        @Override
        public void offer(Task task) {
            delegate.offer(task);
        }

        @Override
        public void subscribe(Set<String> lanes) {
            if (subscribeFails != null) {
                throw subscribeFails;
            }
            delegate.subscribe(lanes);
        }

        @Override
        public List<Lease> poll(String lane, int max) {
            if (failing.contains(lane)) {
                throw new QueueException("broker 10.0.0.7:9092 not reachable", null, true);
            }
            return delegate.poll(lane, max);
        }

        @Override
        public long backlog(String lane) {
            return delegate.backlog(lane);
        }

        @Override
        public Health health() {
            if (healthFails != null) {
                throw healthFails;
            }
            return reported;
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

    @Test
    void health_pollsOfOneLaneFailing_isDegradedForThatLane_ofEveryLane_isDownForTheQueue() {
        FlakyQueue queue = new FlakyQueue(memory);
        Relay r = start(relay(queue).lane(LaneSpec.of("a")).lane(LaneSpec.of("b")));
        Instant firstFailure = v.instant().plusSeconds(1);
        queue.failing = Set.of("a");
        v.advance(Duration.ofSeconds(3)); // housekeeping polls every second
        HealthIssue lane = only(r.health());
        assertEquals(HealthStatus.DEGRADED, lane.severity());
        assertEquals("a", lane.component());
        assertEquals(HealthIssue.Kind.QUEUE_UNREACHABLE, lane.kind());
        assertEquals(firstFailure, lane.since(), "since the first failure, not the last");
        assertTrue(lane.message().contains("10.0.0.7:9092"), lane.message());

        queue.failing = Set.of("a", "b");
        v.advance(Duration.ofSeconds(2));
        HealthIssue down = only(r.health());
        assertEquals(HealthStatus.DOWN, down.severity());
        assertEquals(HealthIssue.QUEUE, down.component());
        assertEquals(firstFailure, down.since());

        queue.failing = Set.of();
        v.advance(Duration.ofSeconds(1));
        assertEquals(Health.up(), r.health());
    }

    @Test
    void health_subscriptionFailing_isDownUntilOneWorked_thenDegraded_andRetriedUntilItWorks() {
        FlakyQueue queue = new FlakyQueue(InMemoryTaskQueue.builder().clock(v).lanes("a", "b").build());
        queue.subscribeFails = new QueueException("TopicAuthorizationException: not authorized to create topic pems.a", null, true);
        Instant failedAt = v.instant();
        Relay r = start(relay(queue).lane(LaneSpec.of("a")));
        HealthIssue down = only(r.health());
        assertEquals(HealthStatus.DOWN, down.severity());
        assertEquals(HealthIssue.QUEUE, down.component());
        assertEquals(HealthIssue.Kind.QUEUE_UNREACHABLE, down.kind());
        assertEquals(failedAt, down.since());
        assertTrue(down.message().contains("[a]") && down.message().contains("not authorized"), down.message());

        v.advance(Duration.ofSeconds(3)); // retried at each housekeeping turn, still refused: the same stretch
        assertEquals(down, only(r.health()));
        queue.subscribeFails = null;
        v.advance(Duration.ofSeconds(1));
        assertEquals(Health.up(), r.health());
        queue.offer(RelayTest.task("a", 1));
        v.advance(Duration.ofSeconds(1));
        assertEquals(1, sink.committed.size(), "the lane is served once subscribed");

        queue.subscribeFails = new QueueException("broker down", null, true);
        r.addLane(LaneSpec.of("b"));
        v.runReady();
        HealthIssue degraded = only(r.health());
        assertEquals(HealthStatus.DEGRADED, degraded.severity(), "the lanes subscribed before are still served");
        assertTrue(degraded.message().contains("[a, b]"), degraded.message());
        queue.subscribeFails = null;
        v.advance(Duration.ofSeconds(1));
        assertEquals(Health.up(), r.health());
    }

    @Test
    void health_queueReportsItsOwnIssues_theyAreFoldedIn_andAFailingReportIsAnIssueItself() {
        FlakyQueue queue = new FlakyQueue(memory);
        Relay r = start(relay(queue).lane(LaneSpec.of("a")));
        HealthIssue auth = HealthIssue.down("kafka-consumer", HealthIssue.Kind.AUTHENTICATION_FAILED,
                "SASL authentication failed for user relay", Instant.parse("2026-01-05T07:59:00Z"));
        queue.reported = Health.of(List.of(auth));
        assertEquals(List.of(auth), r.health().issues());
        assertEquals(HealthStatus.DOWN, r.health().status());
        assertEquals(List.of(auth), r.snapshot().health().issues());

        queue.healthFails = new IllegalStateException("closed");
        HealthIssue broken = only(r.health());
        assertEquals(HealthIssue.Kind.OTHER, broken.kind());
        assertEquals(HealthStatus.DEGRADED, broken.severity());
        assertTrue(broken.message().contains("closed"), broken.message());
    }

    @Test
    void taskQueue_health_defaultsToUp() {
        assertEquals(Health.up(), memory.health());
    }

    // ---------------------------------------------------------------- permits

    /** Cluster-wide permits the test drives: grants, revocations and a status with fenced permits. */
    static final class DrivenPermits implements SourcePermits {
        PermitHolder holder;
        volatile int held;
        volatile int fenced;
        final CompletableFuture<Void> givenBack = new CompletableFuture<>();

        @Override
        public int total() {
            return 2;
        }

        @Override
        public void start(PermitHolder holder) {
            this.holder = holder;
        }

        @Override
        public PermitStatus status() {
            return new PermitStatus(2, held, fenced, Duration.ofSeconds(10), Duration.ZERO, 2, 0, 0, 0, fenced * 3L, 0);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void health_revokedPermitNotGivenBackAfterItsGrace_isDegradedSinceTheGraceEnded() {
        DrivenPermits permits = new DrivenPermits();
        v.holdWorkers(true);
        Relay r = start(relay(memory).sourcePermits(permits).lane(LaneSpec.of("a")));
        permits.holder.granted(0);
        permits.held = 1;
        v.runReady();
        memory.offer(RelayTest.task("a", 1));
        v.runReady();
        assertEquals(1, r.snapshot().inFlight());

        permits.holder.revoked(0, Duration.ofSeconds(5), () -> permits.givenBack.complete(null));
        v.runReady();
        Instant graceEnds = v.instant().plusSeconds(5);
        assertEquals(Health.up(), r.health(), "within its grace a revoked permit is not late");
        v.advance(Duration.ofSeconds(8)); // the grace ends: the query is cancelled, but its worker has not ended it
        HealthIssue late = only(r.health());
        assertEquals(HealthIssue.PERMITS, late.component());
        assertEquals(HealthIssue.Kind.PERMITS_NOT_RETURNING, late.kind());
        assertEquals(HealthStatus.DEGRADED, late.severity());
        assertEquals(graceEnds, late.since());

        v.holdWorkers(false); // the cancelled run ends: the permit goes back
        v.runReady();
        assertTrue(permits.givenBack.isDone());
        assertEquals(Health.up(), r.health());
    }

    @Test
    void health_fencedPermits_areDegraded_orDownWhenNothingElseIsHeld_sinceFirstSeen() {
        DrivenPermits permits = new DrivenPermits();
        Relay r = start(relay(memory).sourcePermits(permits).lane(LaneSpec.of("a")));
        permits.held = 1;
        permits.fenced = 1;
        Instant firstSeen = v.instant();
        HealthIssue one = only(r.health());
        assertEquals(HealthIssue.Kind.PERMITS_FENCED, one.kind());
        assertEquals(HealthStatus.DEGRADED, one.severity());
        assertEquals(firstSeen, one.since());
        assertTrue(one.message().contains("3 renewals failed"), one.message());

        v.advance(Duration.ofSeconds(30));
        permits.held = 0;
        HealthIssue all = only(r.health());
        assertEquals(HealthStatus.DOWN, all.severity());
        assertEquals(firstSeen, all.since(), "the same stretch of fencing");

        permits.fenced = 0;
        permits.held = 1;
        assertEquals(Health.up(), r.health());
        permits.fenced = 1;
        assertEquals(v.instant(), only(r.health()).since(), "a new stretch starts now");
    }
}
