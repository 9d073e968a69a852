package dev.relay.core;

/**
 * The run state of a lane in a {@link Relay}. Each state has a fixed numeric {@link #code()}, the value of the
 * {@code relay.lane.state} gauge.
 */
public enum LaneState {
    /** Takes tasks from its queue and starts them as its share allows (code 0). */
    RUNNING(0),
    /** Starts nothing and holds no permit; buffered tasks wait, tasks in flight finish (code 1). */
    PAUSED(1),
    /** Takes no new tasks from its queue; finishes what it holds, then becomes {@link #DRAINED} (code 2). */
    DRAINING(2),
    /** Drained: holds nothing and takes nothing until resumed (code 3). */
    DRAINED(3),
    /** Cooling down after repeated failures (its sink or source is down): starts nothing for a while (code 4). */
    SUSPENDED(4),
    /** Being removed: gave its buffered tasks back, waits for its tasks in flight (code 5). */
    REMOVING(5);

    private final int code;

    LaneState(int code) {
        this.code = code;
    }

    /** @return the state's number in the {@code relay.lane.state} gauge; never changes between releases */
    public int code() {
        return code;
    }
}
