package dev.relay.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A typed unit of work: pull one {@link Scope} of one registered source and write it to the sink.
 *
 * <p>A task never carries SQL. It names a source query registered in code ({@link #source()}) and the
 * parameters to bind to it. Its {@link #id()} is derived deterministically from what it pulls — source,
 * scope and parameters — and not from the lane or the attempt, so the same window planned twice, retried or
 * moved to another lane has the same id. The id is the idempotency key all the way to the sink.
 *
 * <p>Instances are immutable and threadsafe.
 */
public final class Task {

    private static final String ID_VERSION = "relay-task-v1";
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final String id;
    private final String lane;
    private final String source;
    private final Scope scope;
    private final SortedMap<String, String> parameters;
    private final int attempt;

    private Task(String id, String lane, String source, Scope scope, SortedMap<String, String> parameters, int attempt) {
        this.id = id;
        this.lane = lane;
        this.source = source;
        this.scope = scope;
        this.parameters = parameters;
        this.attempt = attempt;
    }

    /**
     * @param lane the lane the task runs in
     * @param source the registered source (query) name
     * @return a builder of a task
     */
    public static Builder builder(String lane, String source) {
        return new Builder(lane, source);
    }

    /**
     * A window task without parameters.
     *
     * @param lane the lane
     * @param source the registered source name
     * @param window the window to pull
     * @return the task, attempt 1
     */
    public static Task window(String lane, String source, Window window) {
        return builder(lane, source).scope(window).build();
    }

    /**
     * A snapshot task without parameters.
     *
     * @param lane the lane
     * @param source the registered source name
     * @param snapshot the snapshot day
     * @return the task, attempt 1
     */
    public static Task snapshot(String lane, String source, Snapshot snapshot) {
        return builder(lane, source).scope(snapshot).build();
    }

    /**
     * Derives the id of a task from what it pulls. Exposed so that ledgers and sinks can compute an id
     * without building a task.
     *
     * @param source the source name
     * @param scope the scope
     * @param parameters the parameters (any order)
     * @return 32 lower-case hex characters (the first 128 bits of a SHA-256)
     */
    public static String deriveId(String source, Scope scope, Map<String, String> parameters) {
        StringBuilder canonical = new StringBuilder(96).append(ID_VERSION).append('\n');
        appendField(canonical, source);
        appendField(canonical, scope.canonical());
        for (Map.Entry<String, String> e : new TreeMap<>(parameters).entrySet()) {
            appendField(canonical, e.getKey());
            appendField(canonical, e.getValue());
        }
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
        char[] hex = new char[32];
        for (int i = 0; i < 16; i++) {
            hex[2 * i] = HEX[(digest[i] >> 4) & 0xf];
            hex[2 * i + 1] = HEX[digest[i] & 0xf];
        }
        return new String(hex);
    }

    // length-prefixed, so that no two different field lists share a canonical form
    private static void appendField(StringBuilder sb, String field) {
        sb.append(field.length()).append(':').append(field).append('\n');
    }

    /** @return the idempotency key: 32 hex characters derived from source, scope and parameters */
    public String id() {
        return id;
    }

    /** @return the lane the task runs in */
    public String lane() {
        return lane;
    }

    /** @return the registered source (query) name */
    public String source() {
        return source;
    }

    /** @return what the task pulls */
    public Scope scope() {
        return scope;
    }

    /** @return the window, if this is a window task */
    public Optional<Window> window() {
        return scope instanceof Window w ? Optional.of(w) : Optional.empty();
    }

    /** @return the snapshot, if this is a snapshot task */
    public Optional<Snapshot> snapshot() {
        return scope instanceof Snapshot s ? Optional.of(s) : Optional.empty();
    }

    /** @return the parameters bound to the source query, sorted by key, unmodifiable */
    public SortedMap<String, String> parameters() {
        return parameters;
    }

    /**
     * @param key a parameter key
     * @return its value, if set
     */
    public Optional<String> parameter(String key) {
        return Optional.ofNullable(parameters.get(key));
    }

    /**
     * @return the delivery attempt, starting at 1. Every retry adds one; a lease lost while its holder lives
     *     (timed out) adds one where the backend can tell — the in-memory queue does, while a Kafka record
     *     redelivered after a crash carries the attempt it was written with
     */
    public int attempt() {
        return attempt;
    }

    /**
     * @param attempt the attempt number, at least 1
     * @return this task with another attempt number (same id)
     */
    public Task withAttempt(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be at least 1 but was " + attempt);
        }
        return attempt == this.attempt ? this : new Task(id, lane, source, scope, parameters, attempt);
    }

    /**
     * @param lane another lane
     * @return this task routed to another lane (same id)
     */
    public Task withLane(String lane) {
        Names.requireLane(lane);
        return lane.equals(this.lane) ? this : new Task(id, lane, source, scope, parameters, attempt);
    }

    /** Equal when id, lane and attempt are equal (the id covers source, scope and parameters). */
    @Override
    public boolean equals(Object o) {
        return o instanceof Task t && t.id.equals(id) && t.lane.equals(lane) && t.attempt == attempt;
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, lane, attempt);
    }

    @Override
    public String toString() {
        return "Task[" + lane + " " + source + " " + scope + (parameters.isEmpty() ? "" : " " + parameters)
                + " #" + attempt + " id=" + id + "]";
    }

    /**
     * Builds a {@link Task}. Not threadsafe; {@link #build()} copies the settings, so a builder may be reused.
     */
    public static final class Builder {
        private final String lane;
        private final String source;
        private Scope scope;
        private final TreeMap<String, String> parameters = new TreeMap<>();
        private int attempt = 1;

        private Builder(String lane, String source) {
            this.lane = Names.requireLane(lane);
            this.source = Names.requireSource(source);
        }

        /**
         * @param scope the window or snapshot to pull
         * @return this builder
         */
        public Builder scope(Scope scope) {
            this.scope = Objects.requireNonNull(scope, "scope");
            return this;
        }

        /**
         * @param key a parameter key matching {@link Names#PARAMETER}
         * @param value its value (bound, never concatenated into SQL), at most {@value Names#MAX_PARAMETER_VALUE} chars
         * @return this builder
         */
        public Builder parameter(String key, String value) {
            Names.requireParameter(key);
            Objects.requireNonNull(value, () -> "value of parameter '" + key + "'");
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                boolean paired = Character.isHighSurrogate(c) ? i + 1 < value.length() && Character.isLowSurrogate(value.charAt(++i))
                        : !Character.isLowSurrogate(c);
                if (!paired) {
                    // UTF-8 cannot encode it, so two different values could derive the same task id
                    throw new IllegalArgumentException("value of parameter '" + key + "' holds an unpaired surrogate at index "
                            + i + ": '" + Names.printable(value) + "'");
                }
            }
            if (value.length() > Names.MAX_PARAMETER_VALUE) {
                throw new IllegalArgumentException("value of parameter '" + key + "' is " + value.length()
                        + " chars long; at most " + Names.MAX_PARAMETER_VALUE + " are allowed");
            }
            parameters.put(key, value);
            return this;
        }

        /**
         * @param parameters parameters to add
         * @return this builder
         */
        public Builder parameters(Map<String, String> parameters) {
            parameters.forEach(this::parameter);
            return this;
        }

        /**
         * @param attempt the attempt number, at least 1
         * @return this builder
         */
        public Builder attempt(int attempt) {
            if (attempt < 1) {
                throw new IllegalArgumentException("attempt must be at least 1 but was " + attempt);
            }
            this.attempt = attempt;
            return this;
        }

        /**
         * @return the task
         * @throws IllegalStateException if no scope was set
         */
        public Task build() {
            if (scope == null) {
                throw new IllegalStateException("task of source '" + source + "' in lane '" + lane
                        + "' needs a scope: a Window or a Snapshot");
            }
            SortedMap<String, String> params = Collections.unmodifiableSortedMap(new TreeMap<>(parameters));
            return new Task(deriveId(source, scope, params), lane, source, scope, params, attempt);
        }
    }
}
