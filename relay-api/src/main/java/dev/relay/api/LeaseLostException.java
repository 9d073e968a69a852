package dev.relay.api;

/**
 * Thrown when ending a lease the backend has already taken back (it timed out, its partition was revoked or
 * the queue closed). The task will be handed out again; the idempotent sink makes the repeat harmless.
 */
public class LeaseLostException extends RelayException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message which lease and why it was lost
     */
    public LeaseLostException(String message) {
        super(message, null, true);
    }
}
