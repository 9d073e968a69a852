package dev.relay.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The runs holding a permit, as an intrusive doubly linked list through {@link TaskRun} (no allocation per run).
 * Its size equals the scheduler's permits in use ({@link Relay}'s invariant 2). Not threadsafe: owned by the
 * control turn.
 */
final class InFlight {

    private TaskRun head;
    private int size;

    void add(TaskRun r) {
        r.prevInFlight = null;
        r.nextInFlight = head;
        if (head != null) {
            head.prevInFlight = r;
        }
        head = r;
        size++;
    }

    void remove(TaskRun r) {
        if (r.prevInFlight == null) {
            head = r.nextInFlight;
        } else {
            r.prevInFlight.nextInFlight = r.nextInFlight;
        }
        if (r.nextInFlight != null) {
            r.nextInFlight.prevInFlight = r.prevInFlight;
        }
        r.prevInFlight = null;
        r.nextInFlight = null;
        size--;
    }

    int size() {
        return size;
    }

    /**
     * @param nowNanos the time now, in epoch nanoseconds
     * @param sourceTime whether cost is source time (then a run has accrued its time so far; else 0)
     * @return the runs as the scheduler's start bound takes them
     */
    List<FairScheduler.Running<TaskRun>> running(long nowNanos, boolean sourceTime) {
        List<FairScheduler.Running<TaskRun>> out = new ArrayList<>(size);
        for (TaskRun r = head; r != null; r = r.nextInFlight) {
            out.add(FairScheduler.Running.of(r.lane.slane, r.ticket, sourceTime ? Math.max(0, nowNanos - r.since) : 0));
        }
        return out;
    }

    /** @return per lane with runs in flight, since when its longest-running one runs (epoch nanos) */
    Map<LaneRun, Long> oldestPerLane() {
        Map<LaneRun, Long> out = new HashMap<>();
        for (TaskRun r = head; r != null; r = r.nextInFlight) {
            out.merge(r.lane, r.since, Math::min);
        }
        return out;
    }

    /** @return the runs, most recently dispatched first */
    List<TaskRun> list() {
        List<TaskRun> out = new ArrayList<>(size);
        for (TaskRun r = head; r != null; r = r.nextInFlight) {
            out.add(r);
        }
        return out;
    }
}
