package dev.relay.core.plan;

import dev.relay.api.Window;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.util.List;
import java.util.Objects;

/**
 * The grid of windows of one size aligned to local midnight, and the mapping of source-local times to
 * instants in the source's zone. See the package documentation for the DST rules. Immutable, threadsafe.
 */
final class LocalGrid {

    private static final long SECONDS_PER_DAY = 86_400;

    private final Duration size;
    private final long sizeSeconds;
    private final ZoneId zone;

    private LocalGrid(Duration size, ZoneId zone) {
        this.size = size;
        this.sizeSeconds = size.getSeconds();
        this.zone = zone;
    }

    /**
     * @param size the window size: whole seconds that divide a day
     * @param zone the source's zone
     * @return the grid
     * @throws IllegalArgumentException naming the size if it does not divide a day
     */
    static LocalGrid of(Duration size, ZoneId zone) {
        requireWindowSize(size);
        return new LocalGrid(size, Objects.requireNonNull(zone, "zone"));
    }

    static Duration requireWindowSize(Duration size) {
        Objects.requireNonNull(size, "window size");
        if (size.isNegative() || size.isZero() || size.getNano() != 0 || size.getSeconds() > SECONDS_PER_DAY
                || SECONDS_PER_DAY % size.getSeconds() != 0) {
            throw new IllegalArgumentException("window size " + size
                    + " must be a whole number of seconds that divides a day (e.g. PT30S, PT10M, PT1H, P1D)");
        }
        return size;
    }

    Duration size() {
        return size;
    }

    ZoneId zone() {
        return zone;
    }

    /** @return whether {@code t} is a window start of this grid */
    boolean isAligned(LocalDateTime t) {
        return t.getNano() == 0 && t.toLocalTime().toSecondOfDay() % sizeSeconds == 0;
    }

    /** @return the start of the window containing {@code t} */
    LocalDateTime alignDown(LocalDateTime t) {
        long sod = t.toLocalTime().toSecondOfDay();
        return t.toLocalDate().atStartOfDay().plusSeconds(sod - sod % sizeSeconds);
    }

    /** @return the first window start at or after {@code t} */
    LocalDateTime alignUp(LocalDateTime t) {
        LocalDateTime down = alignDown(t);
        return down.equals(t) ? t : down.plus(size);
    }

    /** @return the window starting at {@code start} (which must be aligned) */
    Window windowAt(LocalDateTime start) {
        return new Window(start, start.plus(size));
    }

    /** @return the number of grid windows starting in {@code [from, to)}, both aligned */
    long count(LocalDateTime from, LocalDateTime to) {
        if (!to.isAfter(from)) {
            return 0;
        }
        return Duration.between(from, to).getSeconds() / sizeSeconds;
    }

    /**
     * The last instant at which the local time {@code t} occurs in the zone: the later occurrence in an
     * autumn overlap; for a time skipped by a spring gap, the instant of the transition (when the clock
     * jumps past it). Monotone non-decreasing in {@code t}.
     */
    Instant lastOccurrence(LocalDateTime t) {
        return lastOccurrence(zone, t);
    }

    static Instant lastOccurrence(ZoneId zone, LocalDateTime t) {
        List<ZoneOffset> offsets = zone.getRules().getValidOffsets(t);
        if (offsets.isEmpty()) {
            ZoneOffsetTransition gap = zone.getRules().getTransition(t);
            return gap.getInstant();
        }
        return t.toInstant(offsets.get(offsets.size() - 1));
    }

    /**
     * The first instant at which the local time {@code t} occurs, or the transition instant for a skipped
     * time (so a time of day inside the spring gap moves to the first valid time after the gap).
     */
    static Instant firstOccurrence(ZoneId zone, LocalDateTime t) {
        List<ZoneOffset> offsets = zone.getRules().getValidOffsets(t);
        if (offsets.isEmpty()) {
            return zone.getRules().getTransition(t).getInstant();
        }
        return t.toInstant(offsets.get(0));
    }

    /**
     * When a window is closed in the source: once every local time in it has occurred for the last time,
     * i.e. the last occurrence of the last nanosecond before its end, plus one nanosecond.
     */
    Instant closeInstant(Window w) {
        return lastOccurrence(w.end().minusNanos(1)).plusNanos(1);
    }

    /** @return the close instant of the grid window starting at {@code start} */
    Instant closeInstant(LocalDateTime start) {
        return lastOccurrence(start.plus(size).minusNanos(1)).plusNanos(1);
    }

    /**
     * The first window start whose window closes strictly after {@code x}: every window starting before it
     * has closed by {@code x}. Close instants are monotone in the start, so this is a boundary.
     */
    LocalDateTime firstStartClosingAfter(Instant x) {
        LocalDateTime s = alignDown(LocalDateTime.ofInstant(x, zone));
        while (closeInstant(s.minus(size)).isAfter(x)) {
            s = s.minus(size);
        }
        while (!closeInstant(s).isAfter(x)) {
            s = s.plus(size);
        }
        return s;
    }
}
