package dev.relay.core;

import java.time.Duration;

/**
 * A lane's figures at one moment. Immutable and threadsafe.
 *
 * @param name the lane
 * @param state its run state
 * @param weight its weight
 * @param backlog tasks waiting in the queue (ready, delayed, not yet fetched) plus those buffered by the engine;
 *     -1 if the backend cannot tell
 * @param buffered leases held by the engine waiting for a permit
 * @param inFlight tasks running
 * @param oldestWaiting how long the oldest buffered task has been ready
 * @param started tasks started
 * @param completed tasks completed (sink committed, lease completed)
 * @param retried failed attempts sent back for a retry
 * @param deadLettered tasks dead-lettered
 * @param leasesLost completions the backend refused because the lease was lost (the task repeats)
 * @param rows rows written
 * @param waitP50 median wait from ready to start, over the whole run (log-bucket precision, ±10 %)
 * @param waitP99 99th percentile wait
 * @param waitMax longest wait
 * @param sourceTime total time the lane's tasks held source permits
 * @param cost total cost charged to the lane, in the relay's {@link CostMeasure}
 * @param duplicates second deliveries of a task that was buffered or running here at the time: they waited for the
 *     first and were completed with it, without running (counted in the lane of the second delivery)
 * @param deficit the lane's deficit in the fair scheduler, in the relay's {@link CostMeasure}: positive is credit in
 *     the current round, negative is debt that the lane works off before it starts again on the shared pool
 * @param headBound the starvation bound of the task at the head of the lane's buffer (or of a task arriving now),
 *     from the moment the figure was taken, in the relay's {@link CostMeasure} (nanoseconds of source time by
 *     default): a <b>guarantee</b> ({@link FairScheduler#startBound}) as long as the configuration does not change
 *     and tasks keep within their lanes' declared maximum cost; {@link FairScheduler#UNBOUNDED} ({@code Long.MAX_VALUE})
 *     where no guarantee follows (paused, at its cap, undeclared costs); 0 with a free dedicated permit
 * @param headEstimate the same bound with the largest costs seen so far standing in for undeclared maxima
 *     ({@link FairScheduler#startEstimate}): an estimate, not a guarantee
 * @param dedicatedPermits the lane's dedicated permits in force: as configured, or fewer (at least one) while the
 *     permit limit — the adaptive {@code P_eff}, the cluster-wide share — is below the dedicated permits plus one;
 *     0 while the limit is 0 (braked)
 * <p>{@code headBound} and {@code headEstimate} are refreshed at every housekeeping turn (the idle poll interval)
 * and, for a listener that overrides {@link RelayListener#reachedHead}, whenever the lane's head changes.
 */
public record LaneSnapshot(String name, LaneState state, int weight, long backlog, int buffered, int inFlight,
        Duration oldestWaiting, long started, long completed, long retried, long deadLettered, long leasesLost, long rows,
        Duration waitP50, Duration waitP99, Duration waitMax, Duration sourceTime, long cost, long duplicates,
        long deficit, long headBound, long headEstimate, int dedicatedPermits) {
}
