package dev.relay.core;

import dev.relay.api.Health;
import dev.relay.api.HealthIssue;
import dev.relay.api.HealthStatus;
import dev.relay.api.PermitStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Computes a relay's {@link Health} when asked, from what the engine publishes anyway — the lanes' states, the age
 * of their oldest buffered task, their failed polls ({@link LaneStats}), the permit gate's overdue revocations
 * ({@link PermitGate#overdueSince()}) — and from what the queue and the permit store report
 * ({@link dev.relay.api.TaskQueue#health()}, {@link dev.relay.api.SourcePermits#status()}). Nothing is spent per task
 * to keep it: the only state of its own is the relay's lifecycle and when this process was first seen fenced from a
 * permit (the store's status says how many, not since when).
 *
 * <h2>Rules</h2>
 * <ol>
 *   <li>Not started, stopping or stopped: {@code DOWN}, component {@value HealthIssue#RELAY}, {@code STOPPED}.
 *   <li>A lane {@linkplain LaneState#SUSPENDED suspended} after failing in a row: {@code DEGRADED}, since it was
 *       suspended.
 *   <li>A running or draining lane whose oldest buffered task has waited for a permit longer than its configured
 *       maximum ({@link Relay.Builder#healthMaxWait}): {@code DEGRADED}, since the wait passed the maximum.
 *   <li>A task that has held its source permit longer than its lane's declared maximum task time
 *       ({@link dev.relay.api.LaneSpec.Builder#maxTaskTime}, when the relay charges source time), or than the
 *       lane's {@code healthMaxWait} without one: {@code DEGRADED}, since it passed the limit (the longest run of each
 *       lane is published at every housekeeping turn).
 *   <li>Polls of a lane's queue failing since the last one that worked: {@code DEGRADED} for that lane, or one
 *       {@code DOWN} issue of the {@value HealthIssue#QUEUE} when the polls of every lane fail.
 *   <li>The subscription of the lanes failing ({@link dev.relay.api.TaskQueue#subscribe}, retried at every
 *       housekeeping turn): {@code DOWN} for the {@value HealthIssue#QUEUE} until one worked, then {@code DEGRADED}
 *       (the earlier subscription stays in force).
 *   <li>Whatever the queue reports ({@link dev.relay.api.TaskQueue#health()}); a queue whose {@code health()}
 *       throws is reported {@code DEGRADED}.
 *   <li>With cluster-wide permits: a revoked permit still held after its grace ({@code PERMITS_NOT_RETURNING},
 *       {@code DEGRADED}); permits this process fenced itself from ({@code PERMITS_FENCED}: {@code DEGRADED}, or
 *       {@code DOWN} when it holds no permit besides them).
 * </ol>
 * Paused and drained lanes are an operator's choice and no issue.
 *
 * <p>Threadsafe: any thread may call {@link #health}; the lifecycle is written by the relay's façade.
 */
final class HealthCheck {

    private enum Life { BUILT, RUNNING, STOPPING, STOPPED }

    private record Lifecycle(Life life, Instant since) {
    }

    private final RelayConfig config;
    private final EngineStats stats;
    private final PermitGate gate;
    private final AtomicReference<Lifecycle> lifecycle;
    /** When this process was first seen fenced from a permit in the current stretch; null while not fenced. */
    private final AtomicReference<Instant> fencedSince = new AtomicReference<>();

    HealthCheck(RelayConfig config, EngineStats stats, PermitGate gate) {
        this.config = config;
        this.stats = stats;
        this.gate = gate;
        this.lifecycle = new AtomicReference<>(new Lifecycle(Life.BUILT, config.clock.instant()));
    }

    void started() {
        lifecycle.set(new Lifecycle(Life.RUNNING, config.clock.instant()));
    }

    void stopping() {
        lifecycle.updateAndGet(l -> l.life() == Life.STOPPED || l.life() == Life.STOPPING ? l
                : new Lifecycle(Life.STOPPING, config.clock.instant()));
    }

    void stopped() {
        lifecycle.updateAndGet(l -> l.life() == Life.STOPPED ? l : new Lifecycle(Life.STOPPED, config.clock.instant()));
    }

    /**
     * @param lanes the lanes' published figures
     * @return the relay's health now
     */
    Health health(List<LaneStats> lanes) {
        Instant now = config.clock.instant();
        long nowNanos = Clocks.epochNanos(now);
        List<HealthIssue> issues = new ArrayList<>();
        Lifecycle life = lifecycle.get();
        if (life.life() != Life.RUNNING) {
            issues.add(HealthIssue.down(HealthIssue.RELAY, HealthIssue.Kind.STOPPED, switch (life.life()) {
                case BUILT -> "relay '" + config.name + "' is not started";
                case STOPPING -> "relay '" + config.name + "' is shutting down";
                default -> "relay '" + config.name + "' is shut down";
            }, life.since()));
        }
        lanes(lanes, nowNanos, issues);
        queue(now, issues);
        permits(now, issues);
        return Health.of(issues);
    }

    private void lanes(List<LaneStats> lanes, long nowNanos, List<HealthIssue> issues) {
        int failingPolls = 0;
        long failingSince = Long.MAX_VALUE;
        String failure = null;
        List<HealthIssue> pollIssues = new ArrayList<>();
        for (LaneStats lane : lanes) {
            LaneState state = lane.state;
            if (state == LaneState.SUSPENDED) {
                issues.add(HealthIssue.degraded(lane.name, HealthIssue.Kind.LANE_SUSPENDED, "lane '" + lane.name
                        + "' is suspended after failing repeatedly in a row (its sink or source is down); it starts "
                        + "nothing until its cool-down ends or it is resumed", since(lane.stateSinceNanos, nowNanos)));
            }
            long oldest = lane.oldestReadyNanos;
            Duration max = config.healthMaxWait(lane.name);
            if ((state == LaneState.RUNNING || state == LaneState.DRAINING) && oldest != Long.MIN_VALUE
                    && nowNanos - oldest > max.toNanos()) {
                Duration waited = Duration.ofNanos(nowNanos - oldest);
                issues.add(HealthIssue.degraded(lane.name, HealthIssue.Kind.TASK_WAITING_TOO_LONG, "the oldest task of lane '"
                        + lane.name + "' has waited " + seconds(waited) + " for a source permit, more than the "
                        + seconds(max) + " allowed (healthMaxWait); " + lane.inFlight + " of its tasks run",
                        Clocks.instant(oldest + max.toNanos())));
            }
            long run = lane.oldestRunSince;
            if (run != Long.MIN_VALUE) {
                long declared = config.costMeasure == CostMeasure.SOURCE_TIME ? lane.maxTaskCost : 0;
                long limit = declared > 0 ? declared : max.toNanos();
                if (nowNanos - run > limit) {
                    issues.add(HealthIssue.degraded(lane.name, HealthIssue.Kind.TASK_RUNNING_TOO_LONG, "a task of lane '"
                            + lane.name + "' has held its source permit for " + seconds(Duration.ofNanos(nowNanos - run))
                            + ", beyond " + (declared > 0 ? "the lane's declared maxTaskTime of " : "healthMaxWait, ")
                            + seconds(Duration.ofNanos(limit)) + ": its query or its sink may hang, and the permit does "
                            + "not come back", Clocks.instant(run + limit)));
                }
            }
            long failing = lane.pollFailingSince;
            if (failing != Long.MIN_VALUE) {
                String why = lane.pollFailure;
                failingPolls++;
                failingSince = Math.min(failingSince, failing);
                failure = why;
                pollIssues.add(HealthIssue.degraded(lane.name, HealthIssue.Kind.QUEUE_UNREACHABLE, "polling the queue of lane '"
                        + lane.name + "' fails: " + why, Clocks.instant(failing)));
            }
        }
        if (failingPolls > 0 && failingPolls == lanes.size()) {
            issues.add(HealthIssue.down(HealthIssue.QUEUE, HealthIssue.Kind.QUEUE_UNREACHABLE, "polling the queue fails for "
                    + (failingPolls == 1 ? "the relay's only lane" : "all " + failingPolls + " lanes") + ": " + failure,
                    Clocks.instant(failingSince)));
        } else {
            issues.addAll(pollIssues);
        }
    }

    private void queue(Instant now, List<HealthIssue> issues) {
        long subscribeFailing = stats.subscribeFailingSince;
        if (subscribeFailing != Long.MIN_VALUE) {
            String message = stats.subscribeFailure + (stats.subscribedOnce
                    ? "; the lanes subscribed before are still served, the relay tries again"
                    : "; nothing is served until it works, the relay tries again");
            issues.add(new HealthIssue(HealthIssue.QUEUE, HealthIssue.Kind.QUEUE_UNREACHABLE,
                    stats.subscribedOnce ? HealthStatus.DEGRADED : HealthStatus.DOWN, message, Clocks.instant(subscribeFailing)));
        }
        try {
            issues.addAll(config.queue.health().issues());
        } catch (RuntimeException e) {
            issues.add(HealthIssue.degraded(HealthIssue.QUEUE, HealthIssue.Kind.OTHER, "the queue " + config.queue
                    + " could not tell its health: " + e, now));
        }
    }

    private void permits(Instant now, List<HealthIssue> issues) {
        if (gate == null) {
            return; // the local pool holds all its permits for ever
        }
        long overdue = gate.overdueSince();
        if (overdue != Long.MIN_VALUE) {
            issues.add(HealthIssue.degraded(HealthIssue.PERMITS, HealthIssue.Kind.PERMITS_NOT_RETURNING, "a source permit "
                    + "this process was asked to give back is still held after its grace: the queries running on it "
                    + "were cancelled but have not ended", Clocks.instant(overdue)));
        }
        PermitStatus status;
        try {
            status = config.sourcePermits.status();
        } catch (RuntimeException e) {
            issues.add(HealthIssue.degraded(HealthIssue.PERMITS, HealthIssue.Kind.OTHER, "the source permits "
                    + config.sourcePermits + " could not tell their status: " + e, now));
            return;
        }
        if (status.fenced() == 0) {
            fencedSince.set(null);
            return;
        }
        Instant since = fencedSince.updateAndGet(s -> s == null ? now : s);
        String message = "this process fenced itself from " + status.fenced() + " of the " + status.total()
                + " source permits because it could not renew their lease (" + status.failedRenewals()
                + " renewals failed so far); it holds " + status.held();
        issues.add(status.held() == 0
                ? HealthIssue.down(HealthIssue.PERMITS, HealthIssue.Kind.PERMITS_FENCED, message + " and runs nothing", since)
                : HealthIssue.degraded(HealthIssue.PERMITS, HealthIssue.Kind.PERMITS_FENCED, message, since));
    }

    private static Instant since(long nanos, long nowNanos) {
        return Clocks.instant(nanos == Long.MIN_VALUE ? nowNanos : nanos);
    }

    private static String seconds(Duration d) {
        return d.toSeconds() >= 120 ? d.toMinutes() + " min" : d.toMillis() / 1000.0 + " s";
    }

    /** @return the status of a health, for the {@code relay.health} gauge: 0 up, 1 degraded, 2 down */
    static int code(HealthStatus status) {
        return status.ordinal();
    }
}
