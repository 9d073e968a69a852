package dev.relay.core;

import io.micrometer.core.instrument.Timer;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A lane's figures as other threads see them: counters, the wait histogram, and copies of the lane's run state
 * that the control turn publishes. {@link #snapshot} and {@link RelayMetrics} read only this, never the engine.
 *
 * <p>Threadsafe with one writer: only the control turn writes (counters by {@code lazySet}, published fields as
 * volatiles), any thread reads. A reader may see the figures of one lane a turn apart from each other.
 */
final class LaneStats {

    final String name;

    final AtomicLong started = new AtomicLong();
    final AtomicLong completed = new AtomicLong();
    final AtomicLong retried = new AtomicLong();
    final AtomicLong deadLettered = new AtomicLong();
    final AtomicLong leasesLost = new AtomicLong();
    final AtomicLong duplicates = new AtomicLong();
    final AtomicLong rows = new AtomicLong();
    final AtomicLong sourceNanos = new AtomicLong();
    final AtomicLong cost = new AtomicLong();
    final WaitHistogram waits = new WaitHistogram();

    /** Micrometer timers, when a registry is configured; set once by {@link RelayMetrics} before the first turn. */
    volatile Timer waitTimer;
    volatile Timer serviceTimer;

    // published copies of the control turn's lane state
    volatile LaneState state = LaneState.RUNNING;
    /** Epoch nanos of the turn that published the current {@link #state}; {@link Long#MIN_VALUE} before any change. */
    volatile long stateSinceNanos = Long.MIN_VALUE;
    /**
     * Epoch nanos of the first poll of the lane's queue that failed since the last one that succeeded;
     * {@link Long#MIN_VALUE} while polls succeed. Written by the control turn only when it changes.
     */
    volatile long pollFailingSince = Long.MIN_VALUE;
    /** The last failed poll's exception, as text; meaningful while {@link #pollFailingSince} is set. */
    volatile String pollFailure;
    volatile int weight;
    /** The lane's declared largest task cost ({@link dev.relay.api.LaneSpec#maxTaskCost()}), 0 if not declared. */
    volatile long maxTaskCost;
    /**
     * Epoch nanos since which the longest-running task of the lane holds its permit, as of the last housekeeping
     * turn; {@link Long#MIN_VALUE} when none runs.
     */
    volatile long oldestRunSince = Long.MIN_VALUE;
    volatile int buffered;
    volatile int inFlight;
    /** Epoch nanos since which the head of the buffer is ready; {@link Long#MIN_VALUE} when the buffer is empty. */
    volatile long oldestReadyNanos = Long.MIN_VALUE;
    volatile long deficit;
    volatile long headBound = FairScheduler.UNBOUNDED;
    volatile long headEstimate = FairScheduler.UNBOUNDED;
    /** The lane's dedicated permits in force under the permit limit. */
    volatile int dedicatedPermits;

    private static final VarHandle BUFFERED;
    private static final VarHandle IN_FLIGHT;
    private static final VarHandle OLDEST;
    private static final VarHandle DEFICIT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            BUFFERED = l.findVarHandle(LaneStats.class, "buffered", int.class);
            IN_FLIGHT = l.findVarHandle(LaneStats.class, "inFlight", int.class);
            OLDEST = l.findVarHandle(LaneStats.class, "oldestReadyNanos", long.class);
            DEFICIT = l.findVarHandle(LaneStats.class, "deficit", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    LaneStats(String name, int weight) {
        this.name = name;
        this.weight = weight;
    }

    /**
     * Publishes the figures that change with every start and completion, by release stores: a reader sees them
     * with the ordinary volatile reads, without the writer paying a full fence per field in every turn.
     */
    void publishFlow(int buffered, int inFlight, long oldestReadyNanos, long deficit) {
        BUFFERED.setRelease(this, buffered);
        IN_FLIGHT.setRelease(this, inFlight);
        OLDEST.setRelease(this, oldestReadyNanos);
        DEFICIT.setRelease(this, deficit);
    }

    /**
     * Records a failed poll of the lane's queue. Control turn.
     *
     * @param why the failure
     * @param turn the turn (its time is read only when this failure begins a stretch)
     * @return whether it begins a stretch of failures
     */
    boolean pollFailed(String why, Turn turn) {
        pollFailure = why;
        if (pollFailingSince != Long.MIN_VALUE) {
            return false;
        }
        pollFailingSince = turn.now();
        return true;
    }

    /**
     * Records a poll that worked. Control turn.
     *
     * @return whether it ends a stretch of failures
     */
    boolean pollWorked() {
        if (pollFailingSince == Long.MIN_VALUE) {
            return false;
        }
        pollFailingSince = Long.MIN_VALUE;
        return true;
    }

    /** Adds to a counter that only the control turn writes. */
    static void add(AtomicLong counter, long delta) {
        counter.lazySet(counter.get() + delta);
    }

    void recordStart(long waitedNanos) {
        add(started, 1);
        waits.record(waitedNanos);
        Timer t = waitTimer;
        if (t != null) {
            t.record(waitedNanos, TimeUnit.NANOSECONDS);
        }
    }

    void recordService(long serviceNanos, long charged) {
        add(sourceNanos, serviceNanos);
        add(cost, charged);
        Timer t = serviceTimer;
        if (t != null) {
            t.record(serviceNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** @return seconds the head of the buffer has waited at {@code nowNanos}, 0 if the buffer is empty */
    double oldestWaitingSeconds(long nowNanos) {
        long since = oldestReadyNanos;
        return since == Long.MIN_VALUE ? 0 : Math.max(0, nowNanos - since) / 1e9;
    }

    /**
     * @param now the time of the snapshot
     * @param queueBacklog what the queue says waits in the lane, -1 if unknown
     * @return the lane's figures
     */
    LaneSnapshot snapshot(Instant now, long queueBacklog) {
        int buf = buffered;
        long since = oldestReadyNanos;
        long nowNanos = Clocks.epochNanos(now);
        Duration age = since == Long.MIN_VALUE || since > nowNanos ? Duration.ZERO : Duration.ofNanos(nowNanos - since);
        return new LaneSnapshot(name, state, weight, queueBacklog < 0 ? -1 : queueBacklog + buf, buf, inFlight, age,
                started.get(), completed.get(), retried.get(), deadLettered.get(), leasesLost.get(), rows.get(),
                waits.percentile(0.5), waits.percentile(0.99), waits.max(), Duration.ofNanos(sourceNanos.get()),
                cost.get(), duplicates.get(), deficit, headBound, headEstimate, dedicatedPermits);
    }

    @Override
    public String toString() {
        return "LaneStats[" + name + " " + state + " started=" + started.get() + " completed=" + completed.get() + "]";
    }
}
