package dev.relay.api;

/**
 * Thrown when the task queue failed to store or hand out a task. Retryable unless constructed otherwise.
 */
public class QueueException extends RelayException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong, naming the task or value
     * @param cause the cause, or null
     */
    public QueueException(String message, Throwable cause) {
        super(message, cause, true);
    }

    /**
     * @param message what went wrong
     * @param cause the cause, or null
     * @param retryable whether retrying may succeed
     */
    public QueueException(String message, Throwable cause, boolean retryable) {
        super(message, cause, retryable);
    }
}
