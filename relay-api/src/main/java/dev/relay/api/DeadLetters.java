package dev.relay.api;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * The dead letters of a queue's lanes: list them, replay chosen ones into a lane, purge them. Obtained from a
 * backend through {@link TaskQueue#deadLetters()} (the Kafka backend also builds one without a running queue, for
 * operators' tools).
 *
 * <h2>Semantics, the same for every backend</h2>
 * <ul>
 *   <li>{@link #list} shows a lane's dead letters, oldest first as far as the backend orders (Kafka: per partition),
 *       each with its {@linkplain DeadLetter#id() entry id}, task, attempts, reason and time. An entry that was
 *       replayed or purged is no longer listed.
 *   <li>{@link #replay} offers each chosen entry's task again — into its own lane or another — as a fresh task:
 *       attempt 1, the same task id (which the sinks are idempotent on). Only when the offer was accepted is the entry
 *       taken off the dead letters, so a replay that fails half way loses nothing: what was not yet replayed is still
 *       listed, and replaying a task twice costs a second delivery, never data. If the task fails again it becomes a
 *       new dead letter with a new entry id.
 *   <li>{@link #purge} removes chosen entries for good; {@link #purgeAll} every entry the lane holds now (entries
 *       dead-lettered meanwhile are kept). What removal means physically is the backend's (Kafka: see
 *       {@code KafkaDeadLetters}); an entry purged is never listed or replayed again.
 *   <li>Ids are checked before anything is done: if one of them is not a dead letter of the lane now (never was,
 *       already replayed or purged), the call fails with an {@link IllegalArgumentException} naming every such id,
 *       and nothing was replayed or purged. Dead letters of other lanes are never touched.
 * </ul>
 *
 * <p>Implementations are threadsafe. Concurrent replays of the same entry may both offer its task (a repeated
 * delivery, harmless to idempotent sinks); everything else is as if the calls ran one after the other.
 */
public interface DeadLetters {

    /**
     * Lists a lane's dead letters.
     *
     * @param lane the lane
     * @return its dead letters, oldest first as far as the backend orders; empty for a lane with none or unknown
     * @throws QueueException if the backend could not be read
     */
    List<DeadLetter> list(String lane);

    /**
     * Replays chosen dead letters of a lane into a lane: each entry's task is offered to {@code intoLane} with
     * attempt 1 and the same id, then the entry is taken off the dead letters.
     *
     * @param lane the lane whose dead letters to replay
     * @param ids the entry ids ({@link DeadLetter#id()}), at least one
     * @param intoLane the lane to offer the tasks to: {@code lane} itself, or another
     * @return the entries replayed, in the order of {@code ids} (duplicates once)
     * @throws IllegalArgumentException naming the ids that are not dead letters of the lane, or the entries that hold
     *         no task; then nothing was replayed. Also if {@code intoLane} is not accepted by the backend
     * @throws QueueException if a task was not accepted: the message names the entries that are still dead letters;
     *         the others were replayed
     */
    List<DeadLetter> replay(String lane, Collection<String> ids, String intoLane);

    /**
     * Replays chosen dead letters into their own lane: {@link #replay(String, Collection, String) replay(lane, ids,
     * lane)}.
     *
     * @param lane the lane
     * @param ids the entry ids, at least one
     * @return the entries replayed
     * @throws IllegalArgumentException naming the ids that are not dead letters of the lane; nothing was replayed
     * @throws QueueException if a task was not accepted (see the other overload)
     */
    default List<DeadLetter> replay(String lane, Collection<String> ids) {
        return replay(lane, ids, lane);
    }

    /**
     * Removes chosen dead letters of a lane for good.
     *
     * @param lane the lane
     * @param ids the entry ids ({@link DeadLetter#id()}), at least one
     * @return the entries purged, in the order of {@code ids} (duplicates once)
     * @throws IllegalArgumentException naming the ids that are not dead letters of the lane; nothing was purged
     * @throws QueueException if the backend could not be written
     */
    List<DeadLetter> purge(String lane, Collection<String> ids);

    /**
     * Removes every dead letter the lane holds now; entries dead-lettered while this runs may be kept.
     *
     * @param lane the lane
     * @return how many entries were purged
     * @throws QueueException if the backend could not be written
     */
    long purgeAll(String lane);

    /**
     * Checks the ids argument of {@link #replay} and {@link #purge}: not null, not empty, no null element.
     *
     * @param ids the ids
     * @return them, without duplicates, in their order
     * @throws IllegalArgumentException if there is none
     */
    static List<String> requireIds(Collection<String> ids) {
        Objects.requireNonNull(ids, "ids");
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("name at least one dead letter id");
        }
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (String id : ids) {
            out.add(Objects.requireNonNull(id, "dead letter id"));
        }
        return List.copyOf(out);
    }
}
