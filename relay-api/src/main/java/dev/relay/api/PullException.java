package dev.relay.api;

/**
 * Thrown when the source failed while pulling a task (query error, timeout, dropped connection, cancellation). Retryable unless constructed otherwise.
 */
public class PullException extends RelayException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong, naming the task or value
     * @param cause the cause, or null
     */
    public PullException(String message, Throwable cause) {
        super(message, cause, true);
    }

    /**
     * @param message what went wrong
     * @param cause the cause, or null
     * @param retryable whether retrying may succeed
     */
    public PullException(String message, Throwable cause, boolean retryable) {
        super(message, cause, retryable);
    }
}
