package dev.relay.api;

/**
 * Thrown when a task can never succeed as it is: an unknown source, a missing or malformed parameter, a
 * record that does not decode. Never retryable: the engine dead-letters such a task at once with this message.
 */
public class InvalidTaskException extends RelayException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what is wrong, naming the bad value
     */
    public InvalidTaskException(String message) {
        super(message, null, false);
    }

    /**
     * @param message what is wrong, naming the bad value
     * @param cause the cause
     */
    public InvalidTaskException(String message, Throwable cause) {
        super(message, cause, false);
    }
}
