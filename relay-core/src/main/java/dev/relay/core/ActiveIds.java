package dev.relay.core;

import dev.relay.api.Sink;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The same-task rule: at most one delivery of a task id per sink is buffered or running in the engine at a time.
 * A task id identifies what is pulled; a sink's idempotence covers one task id written to <em>that</em> sink. So
 * two deliveries of one id bound for the same sink (the same window planned twice, a redelivery while the first
 * still runs) would only race in the sink: the second is <em>parked</em> behind the first and ends with it —
 * completed without running if the first completed (same data, same sink, committed), given back to its queue
 * otherwise. Deliveries of one id bound for different sinks (two lanes with their own sinks) are different work
 * and run independently.
 *
 * <p>The active run of each (sink, id) is kept in one {@link IdTable} per sink, which each {@link LaneRun} holds
 * directly, so the rule costs one hash lookup per delivery and no allocation; parked runs chain behind the active
 * one.
 *
 * <p>Not threadsafe: owned by the control turn.
 */
final class ActiveIds {

    private final Map<Sink, IdTable> bySink = new IdentityHashMap<>();

    /** @return the table of active runs of a sink, shared by every lane writing to it */
    IdTable forSink(Sink sink) {
        return bySink.computeIfAbsent(sink, s -> new IdTable());
    }

    /**
     * Makes a new delivery the active run of its id and sink, or parks it behind the active one.
     *
     * @param run the delivery
     * @return true if it is active (to be buffered); false if it was parked
     */
    boolean claim(TaskRun run) {
        TaskRun first = run.lane.active.putIfAbsent(run);
        if (first == null) {
            return true;
        }
        run.stage(TaskRun.Stage.PARKED);
        TaskRun tail = first;
        while (tail.parked != null) {
            tail = tail.parked;
        }
        tail.parked = run;
        return false;
    }

    /**
     * The active run's lease ended: its id and sink are free again.
     *
     * @param run the run that was active
     * @return the runs that were parked behind it, chained through {@link TaskRun#parked}, or null
     */
    TaskRun end(TaskRun run) {
        run.lane.active.remove(run);
        TaskRun p = run.parked;
        run.parked = null;
        return p;
    }

    /**
     * Takes out the runs of one lane that are parked behind other runs (to give them back when the lane stops).
     *
     * @param lane the lane
     * @return its parked runs
     */
    List<TaskRun> unparkLane(LaneRun lane) {
        List<TaskRun> out = new ArrayList<>();
        for (TaskRun first : lane.active.values()) {
            TaskRun prev = first;
            for (TaskRun p = first.parked; p != null; p = p.parked) {
                if (p.lane == lane) {
                    prev.parked = p.parked;
                    p.parked = null;
                    out.add(p);
                    p = prev;
                } else {
                    prev = p;
                }
            }
        }
        return out;
    }

    /** @return every parked run, unchained (for a relay that stops) */
    List<TaskRun> unparkAll() {
        List<TaskRun> out = new ArrayList<>();
        for (IdTable m : bySink.values()) {
            for (TaskRun first : m.values()) {
                TaskRun p = first.parked;
                first.parked = null;
                while (p != null) {
                    TaskRun next = p.parked;
                    p.parked = null;
                    out.add(p);
                    p = next;
                }
            }
        }
        return out;
    }

    /** @return how many ids are active over all sinks */
    int size() {
        int n = 0;
        for (IdTable t : bySink.values()) {
            n += t.size();
        }
        return n;
    }
}
