package dev.relay.api;

import java.time.Duration;
import java.time.LocalDateTime;
import java.util.Objects;

/**
 * A half-open interval {@code [start, end)} of source time.
 *
 * <p>Times are the source's own wall-clock times ({@link LocalDateTime}), because sources such as PeMS store
 * {@code SAMPLE_TIME} as a naive local time: planning in the source's local time pulls the repeated autumn
 * hour once (with both hours' rows) and makes the skipped spring hour an empty window, never an error. A
 * source that stores UTC simply uses UTC wall-clock times.
 *
 * <p>Half-open means a row exactly on a boundary belongs to the later window only; adjacent windows never
 * share a row (SQL {@code BETWEEN} would pull it twice). Instances are immutable and threadsafe.
 *
 * @param start the first instant included
 * @param end the first instant excluded; strictly after {@code start}
 */
public record Window(LocalDateTime start, LocalDateTime end) implements Scope, Comparable<Window> {

    /**
     * Validates the bounds.
     *
     * @param start the first instant included
     * @param end the first instant excluded; strictly after {@code start}
     */
    public Window {
        Objects.requireNonNull(start, "window start");
        Objects.requireNonNull(end, "window end");
        if (!end.isAfter(start)) {
            throw new IllegalArgumentException(
                    "window end " + end + " must be after its start " + start + " (windows are half-open [start, end))");
        }
    }

    /**
     * Returns the window {@code [start, end)}.
     *
     * @param start the first instant included
     * @param end the first instant excluded
     * @return the window
     * @throws IllegalArgumentException if {@code end} is not after {@code start}
     */
    public static Window of(LocalDateTime start, LocalDateTime end) {
        return new Window(start, end);
    }

    /**
     * Returns the window {@code [start, start + length)}.
     *
     * @param start the first instant included
     * @param length a positive length
     * @return the window
     */
    public static Window starting(LocalDateTime start, Duration length) {
        Objects.requireNonNull(length, "window length");
        if (length.isNegative() || length.isZero()) {
            throw new IllegalArgumentException("window length must be positive but was " + length);
        }
        return new Window(start, start.plus(length));
    }

    /**
     * Parses the form produced by {@link #toString()}, {@code start/end} in ISO-8601.
     *
     * @param text for example {@code 2024-03-14T10:00/2024-03-14T10:10}
     * @return the window
     * @throws IllegalArgumentException if the text is not a window
     */
    public static Window parse(String text) {
        Objects.requireNonNull(text, "window text");
        int slash = text.indexOf('/');
        if (slash <= 0 || slash != text.lastIndexOf('/')) {
            throw new IllegalArgumentException("not a window 'start/end': '" + text + "'");
        }
        try {
            return new Window(LocalDateTime.parse(text.substring(0, slash)), LocalDateTime.parse(text.substring(slash + 1)));
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("not a window 'start/end': '" + text + "': " + e.getMessage(), e);
        }
    }

    /** @return the length of the window in source wall-clock time */
    public Duration length() {
        return Duration.between(start, end);
    }

    /**
     * @param time a source time
     * @return whether {@code start <= time < end}
     */
    public boolean contains(LocalDateTime time) {
        return !time.isBefore(start) && time.isBefore(end);
    }

    /**
     * @param other another window
     * @return whether the two windows share at least one instant
     */
    public boolean overlaps(Window other) {
        return start.isBefore(other.end) && other.start.isBefore(end);
    }

    @Override
    public String canonical() {
        return "window:" + this;
    }

    @Override
    public int compareTo(Window o) {
        int c = start.compareTo(o.start);
        return c != 0 ? c : end.compareTo(o.end);
    }

    @Override
    public String toString() {
        return start + "/" + end;
    }
}
