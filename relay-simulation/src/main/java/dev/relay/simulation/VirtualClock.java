package dev.relay.simulation;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * A {@link Clock} that moves only when told to. Time never goes backwards.
 *
 * <p>This class is threadsafe: the instant is a volatile field changed under the object's monitor.
 */
public final class VirtualClock extends Clock {

    private final ZoneId zone;
    private volatile Instant now;

    /**
     * @param start the initial instant
     */
    public VirtualClock(Instant start) {
        this(start, ZoneOffset.UTC);
    }

    /**
     * @param start the initial instant
     * @param zone the zone reported by {@link #getZone()}
     */
    public VirtualClock(Instant start, ZoneId zone) {
        this.now = Objects.requireNonNull(start, "start");
        this.zone = Objects.requireNonNull(zone, "zone");
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("a VirtualClock has one zone; create another VirtualClock");
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public long millis() {
        return now.toEpochMilli();
    }

    /**
     * @param by a non-negative duration
     * @return the new instant
     */
    public synchronized Instant advance(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("a virtual clock cannot go back, by " + by);
        }
        now = now.plus(by);
        return now;
    }

    /**
     * Moves to {@code to} if it is later than now; otherwise stays.
     *
     * @param to the target instant
     * @return the new instant
     */
    public synchronized Instant advanceTo(Instant to) {
        if (to.isAfter(now)) {
            now = to;
        }
        return now;
    }

    @Override
    public String toString() {
        return "VirtualClock[" + now + "]";
    }
}
