package dev.relay.api;

/**
 * What a task pulls: either a half-open {@link Window} of source time or a {@link Snapshot} of a whole
 * table as of a day.
 *
 * <p>Implementations are immutable and threadsafe.
 */
public sealed interface Scope permits Window, Snapshot {

    /**
     * A stable, unambiguous text form used to derive task ids. It never changes between releases for the
     * same value, since ids persist in queues and ledgers.
     *
     * @return the canonical form, e.g. {@code window:2024-03-14T10:00/2024-03-14T10:10}
     */
    String canonical();
}
