package dev.relay.core;

/**
 * What the fair scheduler charges a lane for a task. One measure holds for the whole relay, so that lanes
 * are compared in one unit.
 */
public enum CostMeasure {
    /**
     * Nanoseconds for which the task held its source permit (from dispatch to completion, on the engine's
     * clock): the load the task put on the source. The default.
     */
    SOURCE_TIME,
    /** Rows pulled, at least 1 per task (an empty window still cost a query). */
    ROWS
}
