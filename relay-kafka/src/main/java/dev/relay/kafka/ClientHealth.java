package dev.relay.kafka;

import dev.relay.api.Health;
import dev.relay.api.HealthIssue;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The condition of a queue's Kafka clients, as their own threads last saw it: per client, the failure it is in (if
 * any), since when, and when it may try again. The one place that decides how a failing client backs off and how
 * often its failure is logged.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li><b>Capped backoff.</b> After the n-th failure in a row of a client, it waits {@code min(max, base·2^(n-1))}
 *       before its next attempt ({@code base} is {@value #TRANSIENT_BASE_MILLIS} ms for failures that may pass by
 *       themselves, the configured {@code failureBackoff} for the others). A success resets it.
 *   <li><b>Bounded logging.</b> Per client and {@linkplain ClientFailures.Kind kind} of failure, a failure is logged at
 *       once when it begins, then at most once per log interval, saying how often it recurred meanwhile: a failure that
 *       lasts costs at most {@code 60 s / interval} relay lines a minute, however often the client fails. The end of a
 *       failure is logged once. Messages hold the cause and the likely fix, never the client properties' values.
 *   <li><b>Since holds.</b> A problem's {@code since} is its first failure; it changes only when the problem ends or
 *       its kind changes.
 * </ol>
 *
 * <p>Threadsafe: the clients' threads report, any thread reads; one lock guards the per-client state.
 */
final class ClientHealth {

    private static final Logger LOG = LoggerFactory.getLogger(ClientHealth.class);

    /** First wait after a failure that may pass by itself (a transient error), doubled up to {@link #TRANSIENT_CAP_MILLIS}. */
    static final long TRANSIENT_BASE_MILLIS = 500;
    /** The longest wait after transient failures. */
    static final long TRANSIENT_CAP_MILLIS = 5_000;

    /** A queue's Kafka clients. */
    enum Client {
        CONSUMER("kafka-consumer"), PRODUCER("kafka-producer"), ADMIN("kafka-admin");

        final String component;

        Client(String component) {
            this.component = component;
        }
    }

    /**
     * A client's current failure.
     *
     * @param client the client
     * @param kind what kind of failure
     * @param message the cause, the likely fix and the next attempt, for a person
     * @param since the first failure of this kind in a row
     * @param failures how many failures in a row
     * @param retryAt when the client tries again (epoch millis)
     */
    record Problem(Client client, ClientFailures.Kind kind, String message, Instant since, int failures, long retryAt) {
    }

    private static final class State {
        ClientFailures.Kind kind;
        String cause;
        Instant since;
        int failures;
        long retryAt;
        long lastLogged = Long.MIN_VALUE;
        int unlogged;
    }

    private final String name;
    private final String bootstrapServers;
    private final Map<String, Object> clientProperties;
    private final Clock clock;
    private final long baseMillis;
    private final long capMillis;
    private final long logIntervalMillis;
    private final Map<Client, State> states = new EnumMap<>(Client.class); // guarded by this
    /** Whether any client is failing: lets {@link #succeeded} return without the lock on the hot path. */
    private volatile boolean anyFailing;

    /**
     * @param name what the clients belong to, for messages (e.g. {@code group g})
     * @param config the queue's settings: bootstrap, client properties, failure backoff and log interval
     */
    ClientHealth(String name, QueueConfig config) {
        this(name, config.bootstrapServers(), config.clientProperties(), config.clock(), config.failureBackoff(),
                config.failureBackoffMax(), config.failureLogInterval());
    }

    ClientHealth(String name, String bootstrapServers, Map<String, Object> clientProperties, Clock clock, Duration base,
            Duration cap, Duration logInterval) {
        this.name = name;
        this.bootstrapServers = bootstrapServers;
        this.clientProperties = clientProperties;
        this.clock = clock;
        this.baseMillis = base.toMillis();
        this.capMillis = Math.max(base.toMillis(), cap.toMillis());
        this.logIntervalMillis = logInterval.toMillis();
    }

    /**
     * Records a failure of a client, logs it if due (invariant 2) and sets its next attempt (invariant 1).
     *
     * @param client the client
     * @param failure what it threw
     * @return the kind of failure
     */
    synchronized ClientFailures.Kind failed(Client client, Throwable failure) {
        ClientFailures.Kind kind = ClientFailures.classify(failure);
        long now = clock.millis();
        State s = states.computeIfAbsent(client, c -> new State());
        anyFailing = true;
        if (s.kind != kind) {
            s.kind = kind;
            s.since = Instant.ofEpochMilli(now);
            s.lastLogged = Long.MIN_VALUE;
            s.unlogged = 0;
        }
        s.failures++;
        s.cause = ClientFailures.cause(failure);
        boolean transientKind = kind == ClientFailures.Kind.OTHER;
        long base = transientKind ? TRANSIENT_BASE_MILLIS : baseMillis;
        long cap = transientKind ? TRANSIENT_CAP_MILLIS : capMillis;
        long delay = cap;
        if (s.failures - 1 < 40) {
            delay = Math.min(cap, base << (s.failures - 1));
        }
        s.retryAt = now + delay;
        if (s.lastLogged == Long.MIN_VALUE || now - s.lastLogged >= logIntervalMillis) {
            String repeats = s.unlogged == 0 ? "" : " (failed " + s.unlogged + " more time(s) since the last report)";
            String text = "{}: the {} {}{}; next attempt in {} ms";
            Object[] args = {name, client.component, describe(kind, s.cause), repeats, delay};
            if (kind.fatal()) {
                LOG.error(text, args);
            } else if (transientKind && s.lastLogged == Long.MIN_VALUE) {
                LOG.warn(text, name, client.component, describe(kind, s.cause), repeats, delay, failure);
            } else {
                LOG.warn(text, args);
            }
            s.lastLogged = now;
            s.unlogged = 0;
        } else {
            s.unlogged++;
        }
        return kind;
    }

    /** Records that a client works (again); logs the end of a failure once. Cheap when nothing fails. */
    void succeeded(Client client) {
        if (anyFailing) {
            clear(client);
        }
    }

    private synchronized void clear(Client client) {
        State s = states.remove(client);
        anyFailing = !states.isEmpty();
        if (s != null && s.kind != ClientFailures.Kind.OTHER) {
            LOG.info("{}: the {} works again after {} failure(s) since {} ({})", name, client.component, s.failures, s.since,
                    s.kind);
        }
    }

    /** @return when the client may try again (epoch millis); 0 if it is not failing */
    synchronized long retryAt(Client client) {
        State s = states.get(client);
        return s == null ? 0 : s.retryAt;
    }

    /** @return whether the client is in a failure of a {@linkplain ClientFailures.Kind#fatal() fatal} kind */
    synchronized boolean fatal(Client client) {
        State s = states.get(client);
        return s != null && s.kind.fatal();
    }

    /** @return the client's current failure, or null */
    synchronized Problem problem(Client client) {
        State s = states.get(client);
        return s == null ? null : problem(client, s);
    }

    /** @return the current failures, by client */
    synchronized List<Problem> problems() {
        List<Problem> out = new ArrayList<>();
        states.forEach((c, s) -> out.add(problem(c, s)));
        return out;
    }

    /**
     * @return the failures as health issues: a failing consumer or admin client is {@code DOWN} (nothing is consumed,
     *         or lanes cannot be subscribed), a failing producer {@code DEGRADED} (offers, retries and dead letters
     *         fail; completions go on)
     */
    synchronized Health health() {
        if (states.isEmpty()) {
            return Health.up();
        }
        List<HealthIssue> issues = new ArrayList<>();
        states.forEach((c, s) -> {
            HealthIssue.Kind kind = switch (s.kind) {
                case AUTHENTICATION -> HealthIssue.Kind.AUTHENTICATION_FAILED;
                case AUTHORIZATION -> HealthIssue.Kind.AUTHORIZATION_FAILED;
                case MISCONFIGURED -> HealthIssue.Kind.MISCONFIGURED;
                case UNREACHABLE -> HealthIssue.Kind.QUEUE_UNREACHABLE;
                case OTHER -> HealthIssue.Kind.OTHER;
            };
            String message = name + ": the " + c.component + " " + problem(c, s).message();
            issues.add(c == Client.PRODUCER ? HealthIssue.degraded(c.component, kind, message, s.since)
                    : HealthIssue.down(c.component, kind, message, s.since));
        });
        return Health.of(issues);
    }

    private Problem problem(Client c, State s) {
        return new Problem(c, s.kind, describe(s.kind, s.cause) + "; " + s.failures + " failure(s) in a row, next attempt at "
                + Instant.ofEpochMilli(s.retryAt), s.since, s.failures, s.retryAt);
    }

    private String describe(ClientFailures.Kind kind, String cause) {
        String what = switch (kind) {
            case AUTHENTICATION -> "cannot authenticate";
            case AUTHORIZATION -> "is not authorized";
            case MISCONFIGURED -> "is misconfigured";
            case UNREACHABLE -> "gets no answer";
            case OTHER -> "fails";
        };
        String hint = ClientFailures.hint(kind, bootstrapServers, clientProperties);
        return what + ": " + cause + (hint.isEmpty() ? "" : " — " + hint);
    }

    @Override
    public synchronized String toString() {
        return "ClientHealth[" + name + ", " + states.keySet() + " failing]";
    }
}
