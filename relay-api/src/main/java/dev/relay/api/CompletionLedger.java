package dev.relay.api;

/**
 * A durable record of completed tasks, from which planners derive watermarks and find gaps.
 *
 * <p>The engine calls {@link #recordCompleted(Task, long)} after a task's sink committed and before its lease
 * is completed, so a task acknowledged in the queue is always in the ledger. Recording the same task twice is
 * harmless. Implementations are threadsafe.
 */
public interface CompletionLedger {

    /**
     * Records that a task's rows are committed in the sink.
     *
     * @param task the task
     * @param rows the rows written
     * @throws RelayException if the record could not be stored (the engine then retries the task)
     */
    void recordCompleted(Task task, long rows);
}
