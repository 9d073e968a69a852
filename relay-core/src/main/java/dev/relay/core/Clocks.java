package dev.relay.core;

import java.time.Instant;

/** Conversions between the engine's clock readings and epoch nanoseconds. Stateless. */
final class Clocks {

    private Clocks() {
    }

    /**
     * @param t an instant
     * @return nanoseconds since the epoch, saturated at {@link Long#MIN_VALUE} + 1 and {@link Long#MAX_VALUE}
     */
    static long epochNanos(Instant t) {
        long s = t.getEpochSecond();
        if (s > 9_223_372_035L) {
            return Long.MAX_VALUE;
        }
        if (s < -9_223_372_035L) {
            return Long.MIN_VALUE + 1;
        }
        return s * 1_000_000_000L + t.getNano();
    }

    /**
     * @param epochNanos nanoseconds since the epoch
     * @return the instant
     */
    static Instant instant(long epochNanos) {
        return Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
    }
}
