package dev.relay.core;

/** The run state of a lane in a {@link Relay}. */
public enum LaneState {
    /** Takes tasks from its queue and starts them as its share allows. */
    RUNNING,
    /** Starts nothing and holds no permit; buffered tasks wait, tasks in flight finish. */
    PAUSED,
    /** Takes no new tasks from its queue; finishes what it holds, then becomes {@link #DRAINED}. */
    DRAINING,
    /** Drained: holds nothing and takes nothing until resumed. */
    DRAINED,
    /** Cooling down after repeated failures (its sink or source is down): starts nothing for a while. */
    SUSPENDED,
    /** Being removed: gave its buffered tasks back, waits for its tasks in flight. */
    REMOVING
}
