package dev.relay.api;

import java.time.Instant;
import java.util.Objects;

/**
 * One thing that keeps a relay from working fully: which part ({@code component}), what kind of problem, how bad,
 * a message for a person, and since when it holds. A relay's {@link Health} is the list of its issues; a
 * {@link TaskQueue} reports its own through {@link TaskQueue#health()}.
 *
 * <p>Components name what an operator looks at: a lane's name for the lane's own issues, {@value #QUEUE} for the
 * task queue as a whole, {@value #PERMITS} for the source permits, {@value #RELAY} for the relay's lifecycle, and
 * for a backend's clients a name of the backend's choosing that says which client (for instance
 * {@code "kafka-consumer"}, {@code "kafka-admin"}).
 *
 * <p>Immutable and threadsafe.
 *
 * @param component the part with the problem: a lane name, {@value #QUEUE}, {@value #PERMITS}, {@value #RELAY} or a
 *     backend's client name; not blank
 * @param kind what kind of problem it is
 * @param severity {@link HealthStatus#DEGRADED} or {@link HealthStatus#DOWN} (an issue is never {@code UP})
 * @param message what happened, for a person: what fails and, where known, the cause and what to do; not blank
 * @param since when the problem began (as far as the reporter knows: the first failure it saw)
 */
public record HealthIssue(String component, Kind kind, HealthStatus severity, String message, Instant since) {

    /** The component of issues of the task queue as a whole. */
    public static final String QUEUE = "queue";
    /** The component of issues of the source permits. */
    public static final String PERMITS = "permits";
    /** The component of issues of the relay's lifecycle (not started, stopped). */
    public static final String RELAY = "relay";

    /** What kind of problem an issue is. */
    public enum Kind {
        /** The relay is not started, or stopped: nothing is relayed. */
        STOPPED,
        /** A lane cools down after failing repeatedly in a row (its sink or source is down); it starts nothing meanwhile. */
        LANE_SUSPENDED,
        /** The oldest task a lane holds has waited for a permit longer than the relay's configured maximum. */
        TASK_WAITING_TOO_LONG,
        /**
         * A task has held its source permit longer than its lane allows (its declared maximum task time, or the
         * relay's maximum wait): its query or sink may hang, and the permit does not come back.
         */
        TASK_RUNNING_TOO_LONG,
        /** The queue cannot be reached or fails (polls fail, the broker or database does not answer). */
        QUEUE_UNREACHABLE,
        /** A client of the backend cannot authenticate (bad credentials, SASL or TLS handshake failures). */
        AUTHENTICATION_FAILED,
        /** A client of the backend is authenticated but not allowed an operation (missing ACLs on a topic or group). */
        AUTHORIZATION_FAILED,
        /** The backend's configuration does not match what it finds (a topic missing or laid out differently). */
        MISCONFIGURED,
        /** Source permits this process was asked to give back are still held after their grace: queries do not end. */
        PERMITS_NOT_RETURNING,
        /** This process fenced itself from permits whose lease it could not renew: it runs fewer queries than it may. */
        PERMITS_FENCED,
        /** Anything else a backend reports; the message says what. */
        OTHER
    }

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException if the component or message is blank or the severity is {@code UP}
     * @throws NullPointerException if a field is null
     */
    public HealthIssue {
        Objects.requireNonNull(component, "component");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(since, "since");
        if (component.isBlank()) {
            throw new IllegalArgumentException("a health issue needs a component but it was blank (" + kind + ": " + message + ")");
        }
        if (message.isBlank()) {
            throw new IllegalArgumentException("a health issue needs a message but it was blank (" + component + ", " + kind + ")");
        }
        if (severity == HealthStatus.UP) {
            throw new IllegalArgumentException("a health issue is DEGRADED or DOWN, never UP (" + component + ", " + kind + ")");
        }
    }

    /**
     * @param component the part with the problem
     * @param kind the kind of problem
     * @param message what happened
     * @param since when it began
     * @return a {@link HealthStatus#DEGRADED} issue
     */
    public static HealthIssue degraded(String component, Kind kind, String message, Instant since) {
        return new HealthIssue(component, kind, HealthStatus.DEGRADED, message, since);
    }

    /**
     * @param component the part with the problem
     * @param kind the kind of problem
     * @param message what happened
     * @param since when it began
     * @return a {@link HealthStatus#DOWN} issue
     */
    public static HealthIssue down(String component, Kind kind, String message, Instant since) {
        return new HealthIssue(component, kind, HealthStatus.DOWN, message, since);
    }

    /** @return one line: {@code SEVERITY component kind since: message} */
    @Override
    public String toString() {
        return severity + " " + component + " " + kind + " since " + since + ": " + message;
    }
}
