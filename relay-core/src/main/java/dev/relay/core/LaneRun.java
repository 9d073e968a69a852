package dev.relay.core;

import dev.relay.api.LaneSpec;
import dev.relay.api.Sink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The one owner of a lane's run state in the engine: its {@link LaneState}, its specification, its handle in the
 * {@link FairScheduler} (whose ready queue is the lane's buffer), its run of failures and the futures waiting for
 * it to drain or go. Each transition is one method that changes the state and the scheduler's view of the lane
 * together, so the two cannot drift apart; the methods that stop the lane starting tasks (pause, suspend, remove)
 * return its buffered runs, which the caller must give back at once, so that no lease sits in a lane that will
 * not run it.
 *
 * <pre>
 *   RUNNING ──pause──▶ PAUSED ──resume──▶ RUNNING      (resume works from PAUSED, SUSPENDED, DRAINING, DRAINED)
 *   RUNNING ──suspend─▶ SUSPENDED ──cool-down ends──▶ RUNNING
 *   any ──drain──▶ DRAINING ──nothing held──▶ DRAINED
 *   any ──remove──▶ REMOVING ──nothing in flight──▶ gone
 * </pre>
 * Only a RUNNING lane takes leases from its queue; a DRAINING one still starts what it holds.
 *
 * <p>Not threadsafe: owned by the control turn. Other threads read the lane through its {@link LaneStats}.
 */
final class LaneRun {

    final String name;
    final Sink sink;
    /** What the lane's task runs need (puller, ledger, control executor, finish turn). */
    final TaskRun.Context context;
    final FairScheduler.Lane<TaskRun> slane;
    final LaneStats stats;
    /** The active runs of this lane's sink, by task id (shared by the lanes of the same sink; see {@link ActiveIds}). */
    final IdTable active;
    private final FairScheduler<TaskRun> scheduler;

    LaneSpec spec;
    private LaneState state = LaneState.RUNNING;
    /** Retryable failures in a row. */
    int consecutiveFailures;
    /** Counts suspensions, so that the timer of an earlier one does not end a later one. */
    int suspensions;
    /** Whether the lane is on the control loop's list of lanes to publish at the end of the turn (the loop sets it). */
    boolean dirty;
    private final List<CompletableFuture<Void>> waiters = new ArrayList<>();

    LaneRun(LaneSpec spec, Sink sink, TaskRun.Context context, FairScheduler<TaskRun> scheduler, IdTable active) {
        this.name = spec.name();
        this.context = context;
        this.spec = spec;
        this.sink = sink;
        this.scheduler = scheduler;
        this.slane = scheduler.addLane(spec);
        this.active = active;
        this.stats = new LaneStats(name, spec.weight());
        stats.maxTaskCost = spec.maxTaskCost().orElse(0);
    }

    LaneState state() {
        return state;
    }

    /** @return whether the lane takes leases from its queue */
    boolean takesWork() {
        return state == LaneState.RUNNING;
    }

    /** @return leases the lane's buffer can still take */
    int room() {
        return spec.buffer() - slane.ready();
    }

    int buffered() {
        return slane.ready();
    }

    int inFlight() {
        return slane.inFlight();
    }

    /** Adds a run at the tail of the buffer. @return whether it is now the head */
    boolean enqueue(TaskRun run) {
        run.stage(TaskRun.Stage.BUFFERED);
        scheduler.enqueue(slane, run);
        return slane.ready() == 1;
    }

    /** @return the runs to give back */
    List<TaskRun> pause() {
        requireNotRemoving("paused");
        state = LaneState.PAUSED;
        return stopStarting();
    }

    void resume() {
        requireNotRemoving("resumed");
        state = LaneState.RUNNING;
        consecutiveFailures = 0;
        scheduler.resume(slane);
    }

    /** Suspends a running lane after repeated failures. @return the runs to give back */
    List<TaskRun> suspend() {
        state = LaneState.SUSPENDED;
        suspensions++;
        return stopStarting();
    }

    /** Ends a suspension if it is still the one numbered {@code suspension}. @return whether the lane resumed */
    boolean endSuspension(int suspension) {
        if (state != LaneState.SUSPENDED || suspension != suspensions) {
            return false;
        }
        state = LaneState.RUNNING;
        scheduler.resume(slane);
        return true;
    }

    /** Takes no new leases; starts what it holds. */
    void drain(CompletableFuture<Void> done) {
        requireNotRemoving("drained");
        state = LaneState.DRAINING;
        scheduler.resume(slane);
        waiters.add(done);
    }

    /** @return the runs to give back */
    List<TaskRun> remove(CompletableFuture<Void> gone) {
        state = LaneState.REMOVING;
        waiters.add(gone);
        return scheduler.removeLane(slane);
    }

    void update(LaneSpec newSpec) {
        scheduler.updateLane(slane, newSpec);
        spec = newSpec;
        stats.weight = newSpec.weight();
        stats.maxTaskCost = newSpec.maxTaskCost().orElse(0);
    }

    private List<TaskRun> stopStarting() {
        scheduler.pause(slane);
        return scheduler.drainReady(slane);
    }

    /** @return the buffered runs, for a relay that stops */
    List<TaskRun> takeBuffered() {
        return scheduler.drainReady(slane);
    }

    /**
     * Moves a draining lane that holds nothing to DRAINED, and tells whether a removed lane may go now.
     *
     * @return the waiters to complete (drain or removal done), or null
     */
    List<CompletableFuture<Void>> settle() {
        if (slane.inFlight() > 0 || (state != LaneState.REMOVING && slane.ready() > 0)) {
            return null;
        }
        if (state == LaneState.DRAINING) {
            state = LaneState.DRAINED;
            scheduler.pause(slane);
        } else if (state != LaneState.REMOVING) {
            return null;
        }
        List<CompletableFuture<Void>> done = new ArrayList<>(waiters);
        waiters.clear();
        return done;
    }

    private void requireNotRemoving(String what) {
        if (state == LaneState.REMOVING) {
            throw new IllegalStateException("lane '" + name + "' is being removed and cannot be " + what);
        }
    }

    /**
     * Copies the lane's state to its statistics for other threads.
     *
     * @param turn the turn that publishes (its time is read only when the state changed)
     */
    void publish(Turn turn) {
        LaneStats s = stats;
        if (s.state != state) {
            s.stateSinceNanos = turn.now();
            s.state = state;
        }
        TaskRun head = slane.peek();
        s.publishFlow(slane.ready(), slane.inFlight(), head == null ? Long.MIN_VALUE : head.since, slane.deficit());
        if (s.dedicatedPermits != slane.dedicated) {
            s.dedicatedPermits = slane.dedicated;
        }
        dirty = false;
    }

    /**
     * @param running every task holding a permit now
     * @return the guaranteed start bound of the lane's head task from now ({@link FairScheduler#startBound}), or
     *     {@link FairScheduler#UNBOUNDED}
     */
    long headBound(List<FairScheduler.Running<TaskRun>> running) {
        return state == LaneState.REMOVING ? FairScheduler.UNBOUNDED : scheduler.startBound(slane, running);
    }

    /**
     * @param running every task holding a permit now
     * @return the estimated start bound of the lane's head task from now ({@link FairScheduler#startEstimate})
     */
    long headEstimate(List<FairScheduler.Running<TaskRun>> running) {
        return state == LaneState.REMOVING ? FairScheduler.UNBOUNDED : scheduler.startEstimate(slane, running);
    }

    @Override
    public String toString() {
        return "LaneRun[" + name + " " + state + " buffered=" + slane.ready() + " inFlight=" + slane.inFlight() + "]";
    }
}
