package dev.relay.core.plan;

import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.api.TasksNotAcceptedException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a planner's {@link TaskQueue#offerAll batch offer} accepted: the planners wind their state back to the
 * first task the queue did not accept, then rethrow the failure. Immutable.
 *
 * @param notAccepted the tasks not accepted: empty on success, those the queue named in a
 *        {@link TasksNotAcceptedException}, or the whole batch if the queue failed otherwise
 * @param failure the queue's exception, or null on success
 */
record BatchOffer(Set<Task> notAccepted, RuntimeException failure) {

    private static final BatchOffer ACCEPTED = new BatchOffer(Set.of(), null);

    /**
     * Offers the tasks in one batch; never throws what the queue throws, but returns it.
     *
     * @param queue the queue
     * @param tasks the batch, possibly empty
     * @return what was not accepted
     */
    static BatchOffer offer(TaskQueue queue, List<Task> tasks) {
        if (tasks.isEmpty()) {
            return ACCEPTED;
        }
        try {
            queue.offerAll(tasks);
            return ACCEPTED;
        } catch (TasksNotAcceptedException e) {
            return new BatchOffer(new HashSet<>(e.notAccepted()), e);
        } catch (RuntimeException e) {
            return new BatchOffer(new HashSet<>(tasks), e);
        }
    }

    /** @return whether every task was accepted */
    boolean accepted() {
        return failure == null;
    }

    /** Throws the queue's failure, if any. */
    void rethrow() {
        if (failure != null) {
            throw failure;
        }
    }
}
