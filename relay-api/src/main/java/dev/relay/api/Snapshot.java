package dev.relay.api;

import java.time.LocalDate;
import java.util.Objects;

/**
 * A full snapshot of a table (for example a PeMS config table) as of a day. The day is part of the task
 * id, so each day's snapshot is its own task and a repeated one is recognised.
 *
 * <p>Instances are immutable and threadsafe.
 *
 * @param asOf the day the snapshot stands for, in the source's local calendar
 */
public record Snapshot(LocalDate asOf) implements Scope {

    /**
     * Validates the day.
     *
     * @param asOf the day the snapshot stands for, in the source's local calendar
     */
    public Snapshot {
        Objects.requireNonNull(asOf, "snapshot day");
    }

    /**
     * @param asOf the day
     * @return the snapshot scope of that day
     */
    public static Snapshot of(LocalDate asOf) {
        return new Snapshot(asOf);
    }

    @Override
    public String canonical() {
        return "snapshot:" + asOf;
    }

    @Override
    public String toString() {
        return "snapshot@" + asOf;
    }
}
