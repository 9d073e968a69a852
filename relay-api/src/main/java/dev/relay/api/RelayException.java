package dev.relay.api;

/**
 * The root of relay's exceptions. Says whether retrying the same task may succeed: the engine retries a
 * {@linkplain #retryable() retryable} failure after a backoff and dead-letters the others at once.
 *
 * <p>Instances are immutable after construction.
 */
public class RelayException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Whether retrying the same task may succeed. */
    private final boolean retryable;

    /**
     * @param message what went wrong, naming the value or the task
     * @param cause the cause, or null
     * @param retryable whether retrying may succeed
     */
    public RelayException(String message, Throwable cause, boolean retryable) {
        super(message, cause);
        this.retryable = retryable;
    }

    /**
     * @param message what went wrong
     * @param retryable whether retrying may succeed
     */
    public RelayException(String message, boolean retryable) {
        this(message, null, retryable);
    }

    /** @return whether retrying the task may succeed */
    public boolean retryable() {
        return retryable;
    }
}
