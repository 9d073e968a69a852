package dev.relay.api;

import java.time.Instant;
import java.util.Objects;

/**
 * A task that ended in its lane's dead letters: what it was, how often it ran, why it was given up, and when.
 *
 * <p>The {@link #id() id} names this entry among the lane's dead letters, so that it can be
 * {@linkplain DeadLetters#replay replayed} or {@linkplain DeadLetters#purge purged}; it is not the task's id (the
 * same task may be dead-lettered again after a replay, as a new entry). Its form is the backend's: a sequence number
 * in memory, {@code partition@offset} of the dead-letter topic on Kafka.
 *
 * <p>A backend that stores records it could not read as tasks (Kafka: malformed bytes, an unknown schema version)
 * lists them too, with no {@link #task() task} and 0 {@link #attempts() attempts}: they can be purged, not replayed.
 *
 * <p>Immutable and threadsafe.
 *
 * @param id the entry's id among the lane's dead letters
 * @param lane the lane whose dead letter it is
 * @param task the task as delivered last (its attempt is the last attempt), or null if the entry holds no task
 *        that could be read
 * @param attempts how many attempts the task had when it was dead-lettered (its last attempt), 0 without a task
 * @param reason why it was dead-lettered
 * @param at when it was dead-lettered
 */
public record DeadLetter(String id, String lane, Task task, int attempts, String reason, Instant at) {

    /**
     * Validates the fields.
     *
     * @param id the entry's id among the lane's dead letters
     * @param lane the lane whose dead letter it is
     * @param task the task as delivered last, or null if the entry holds no task that could be read
     * @param attempts how many attempts the task had, 0 without a task
     * @param reason why it was dead-lettered
     * @param at when it was dead-lettered
     * @throws IllegalArgumentException if attempts is negative, or not 0 without a task
     */
    public DeadLetter {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(lane, "lane");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(at, "at");
        if (attempts < 0 || (task == null && attempts != 0)) {
            throw new IllegalArgumentException("attempts of dead letter " + id + " must be "
                    + (task == null ? "0 without a task" : "at least 0") + " but was " + attempts);
        }
    }

    /**
     * A dead letter of a task, whose attempts are the task's last attempt.
     *
     * @param id the entry's id
     * @param task the task as delivered last
     * @param reason why
     * @param at when
     * @return the dead letter, in the task's lane
     */
    public static DeadLetter of(String id, Task task, String reason, Instant at) {
        Objects.requireNonNull(task, "task");
        return new DeadLetter(id, task.lane(), task, task.attempt(), reason, at);
    }

    /** @return whether the entry holds a task, so that it can be replayed */
    public boolean replayable() {
        return task != null;
    }

    /** @return the task's id, or {@code "-"} if the entry holds no task */
    public String taskId() {
        return task == null ? "-" : task.id();
    }
}
