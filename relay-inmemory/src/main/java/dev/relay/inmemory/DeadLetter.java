package dev.relay.inmemory;

import dev.relay.api.Task;
import java.time.Instant;
import java.util.Objects;

/**
 * A task that ended in its lane's dead letters, with the reason and the time.
 *
 * <p>Immutable and threadsafe.
 *
 * @param task the task as delivered last (its attempt is the last attempt)
 * @param reason why it was dead-lettered
 * @param at when
 */
public record DeadLetter(Task task, String reason, Instant at) {

    /**
     * Validates the fields.
     *
     * @param task the task as delivered last (its attempt is the last attempt)
     * @param reason why it was dead-lettered
     * @param at when
     */
    public DeadLetter {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(at, "at");
    }
}
