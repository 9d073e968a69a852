package dev.relay.api;

/**
 * How well a relay, or a part of it, works: ordered from best to worst, so that the status of a whole is the worst
 * of its parts ({@link Health#status()}). Immutable and threadsafe.
 */
public enum HealthStatus {
    /** Works as configured. */
    UP,
    /** Works, but some part does not: a lane is suspended or falls behind, a permit does not come back, a client fails. */
    DEGRADED,
    /** Does not relay at all: stopped, or the queue cannot be reached. */
    DOWN;

    /**
     * @param other another status
     * @return the worse of the two
     */
    public HealthStatus worse(HealthStatus other) {
        return other.ordinal() > ordinal() ? other : this;
    }
}
