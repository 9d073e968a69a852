package dev.relay.core;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a control turn reads once and publishes once: the time (the clock is read at most once per turn, on first
 * use) and the lanes the turn changed, whose figures it copies to their {@link LaneStats} at its end together with
 * the engine's permit figures. Publishing only the lanes a turn touched keeps a completion O(1) in lanes.
 *
 * <p>Not threadsafe: owned by the control turn.
 */
final class Turn {

    private static final long UNSET = Long.MIN_VALUE;

    private final Clock clock;
    private long nanos = UNSET;
    private Instant instant;
    private final List<LaneRun> touched = new ArrayList<>();
    /** Futures to complete once the turn's changes are published, so that their callers see them. */
    private final List<CompletableFuture<Void>> done = new ArrayList<>();

    Turn(Clock clock) {
        this.clock = clock;
    }

    /** @return the turn's time in epoch nanoseconds */
    long now() {
        long t = nanos;
        if (t == UNSET) {
            Instant i = clock.instant();
            instant = i;
            t = Clocks.epochNanos(i);
            nanos = t;
        }
        return t;
    }

    /** @return the turn's time, the same instant for every use in the turn */
    Instant at() {
        now();
        return instant;
    }

    /** Marks a lane's figures for publishing at the end of the turn. */
    void touch(LaneRun lane) {
        if (!lane.dirty) {
            lane.dirty = true;
            touched.add(lane);
        }
    }

    /** Completes a future at the end of the turn, after its changes are published. */
    void completeAfterPublishing(CompletableFuture<Void> f) {
        done.add(f);
    }

    /**
     * Publishes the touched lanes and the permit figures, forgets the time, then completes the futures waiting for
     * the turn.
     *
     * @param stats the engine's published figures
     * @param permitsInUse permits in use now
     * @param maxPermitsInUse the most ever in use
     */
    void end(EngineStats stats, int permitsInUse, int maxPermitsInUse) {
        for (int i = 0, n = touched.size(); i < n; i++) {
            touched.get(i).publish(this);
        }
        touched.clear();
        if (stats.permitsInUse != permitsInUse) {
            stats.permitsInUse = permitsInUse;
        }
        if (stats.maxPermitsInUse != maxPermitsInUse) {
            stats.maxPermitsInUse = maxPermitsInUse;
        }
        nanos = UNSET;
        instant = null;
        if (!done.isEmpty()) {
            List<CompletableFuture<Void>> fs = new ArrayList<>(done);
            done.clear();
            for (CompletableFuture<Void> f : fs) {
                f.complete(null);
            }
        }
    }
}
