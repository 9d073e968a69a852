package dev.relay.api;

import java.util.List;

/**
 * Thrown by {@link TaskQueue#offerAll} when some tasks of the batch were not accepted. It names exactly
 * those tasks: every task of the batch not in {@link #notAccepted()} was accepted (durable as far as the
 * backend promises), so offering the not-accepted ones again — or the whole batch, which is harmless since
 * task ids are idempotency keys — completes the batch.
 *
 * <p>The {@linkplain #getCause() cause} is the first failure; further distinct failures are
 * {@linkplain #getSuppressed() suppressed} exceptions. Retryable if every failure was. Immutable.
 */
public class TasksNotAcceptedException extends QueueException {

    private static final long serialVersionUID = 1L;

    /** The tasks not accepted, in the order of the batch. */
    private final transient List<Task> notAccepted;
    /** How many tasks the batch held. */
    private final int batchSize;

    /**
     * @param notAccepted the tasks not accepted, in the order of the batch; at least one
     * @param batchSize how many tasks the batch held
     * @param cause the first failure
     * @param retryable whether offering the tasks again may succeed
     */
    public TasksNotAcceptedException(List<Task> notAccepted, int batchSize, Throwable cause, boolean retryable) {
        super(message(notAccepted, batchSize, cause), cause, retryable);
        if (notAccepted.isEmpty()) {
            throw new IllegalArgumentException("a TasksNotAcceptedException needs at least one task not accepted");
        }
        this.notAccepted = List.copyOf(notAccepted);
        this.batchSize = batchSize;
    }

    private static String message(List<Task> notAccepted, int batchSize, Throwable cause) {
        StringBuilder sb = new StringBuilder().append(notAccepted.size()).append(" of ").append(batchSize)
                .append(" tasks were not accepted (the other ").append(batchSize - notAccepted.size())
                .append(" were): ");
        int shown = Math.min(5, notAccepted.size());
        for (int i = 0; i < shown; i++) {
            Task t = notAccepted.get(i);
            sb.append(i == 0 ? "" : ", ").append(t.id()).append(" (lane ").append(t.lane()).append(')');
        }
        if (shown < notAccepted.size()) {
            sb.append(", … ").append(notAccepted.size() - shown).append(" more");
        }
        if (cause != null) {
            sb.append("; first failure: ").append(cause.getMessage());
        }
        return sb.toString();
    }

    /** @return the tasks not accepted, in the order of the batch; never empty */
    public List<Task> notAccepted() {
        return notAccepted == null ? List.of() : notAccepted;
    }

    /** @return how many tasks of the batch were accepted */
    public int accepted() {
        return batchSize - notAccepted().size();
    }

    /** @return how many tasks the batch held */
    public int batchSize() {
        return batchSize;
    }
}
