package dev.relay.handoff;

/**
 * A data-topic or tasks-topic record that does not decode, carries an unknown format version, or disagrees with
 * its manifest. Never retryable: the same bytes fail the same way; the record is dead-lettered with this message.
 */
final class MalformedRecordException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    MalformedRecordException(String message) {
        super(message);
    }

    MalformedRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
