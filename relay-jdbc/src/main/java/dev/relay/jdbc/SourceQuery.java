package dev.relay.jdbc;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.Names;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.jdbi.v3.core.statement.ColonPrefixSqlParser;

import java.math.BigDecimal;
import java.sql.JDBCType;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A source query registered in code under a name; tasks name it in {@link Task#source()} and never carry SQL.
 *
 * <p>The SQL template uses named binds ({@code :name}) for every value and identifier placeholders
 * ({@code ${name}}) for the few table or schema names a task may choose. For example, the PeMS raw data of one
 * district:
 *
 * <pre>{@code
 * SourceQuery vds = SourceQuery.window("vds30sec",
 *         "SELECT * FROM ${district}.VDS30SEC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end")
 *     .identifier("district", "D(3|4|5|6|7|8|10|11|12)")
 *     .build();
 * }</pre>
 *
 * <ul>
 *   <li>A {@linkplain #window window} query must bind {@code :start} and {@code :end}; they receive the task's
 *       window bounds as {@link LocalDateTime} in the source's wall-clock time. Write the condition half-open
 *       ({@code >= :start AND < :end}), never {@code BETWEEN}.</li>
 *   <li>A {@linkplain #snapshot snapshot} query pulls a whole table; it may bind {@code :asOf}
 *       ({@link LocalDate}, the snapshot day) and must not bind {@code :start} or {@code :end}.</li>
 *   <li>Every other bind names a task parameter declared with {@link Builder#parameter(String, JDBCType)}; its
 *       string value is converted to that type and bound, so a hostile value is data, never SQL.</li>
 *   <li>A placeholder {@code ${key}} is replaced by the task parameter {@code key} only if the value matches
 *       the pattern declared with {@link Builder#identifier(String, String)} and is a plain identifier
 *       ({@code [A-Za-z][A-Za-z0-9_]*}); otherwise the task is rejected as invalid.</li>
 * </ul>
 *
 * <p>Task parameters the query does not use are ignored here (a sink may use them). Immutable and threadsafe.
 */
public final class SourceQuery {

    /** The bind that receives the window start. */
    public static final String START = "start";
    /** The bind that receives the window end. */
    public static final String END = "end";
    /** The bind that receives the snapshot day. */
    public static final String AS_OF = "asOf";

    private static final Set<JDBCType> PARAMETER_TYPES = Set.of(JDBCType.VARCHAR, JDBCType.CHAR, JDBCType.BIGINT,
            JDBCType.INTEGER, JDBCType.NUMERIC, JDBCType.DECIMAL, JDBCType.DATE, JDBCType.TIMESTAMP, JDBCType.BOOLEAN);

    private final String name;
    private final String sql;
    private final boolean window;
    private final Map<String, Pattern> identifiers;
    private final Map<String, JDBCType> parameters;
    private final List<String> binds;

    private SourceQuery(Builder b, List<String> binds) {
        this.name = b.name;
        this.sql = b.sql;
        this.window = b.window;
        this.identifiers = Collections.unmodifiableMap(new LinkedHashMap<>(b.identifiers));
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(b.parameters));
        this.binds = List.copyOf(binds);
    }

    /**
     * Starts a window query.
     *
     * @param name the source name tasks use, matching {@link Names#SOURCE}
     * @param sql the template; binds {@code :start} and {@code :end}
     * @return a builder
     */
    public static Builder window(String name, String sql) {
        return new Builder(name, sql, true);
    }

    /**
     * Starts a snapshot (whole table) query.
     *
     * @param name the source name tasks use, matching {@link Names#SOURCE}
     * @param sql the template; may bind {@code :asOf}
     * @return a builder
     */
    public static Builder snapshot(String name, String sql) {
        return new Builder(name, sql, false);
    }

    /** @return the source name */
    public String name() {
        return name;
    }

    /** @return the SQL template as registered */
    public String sql() {
        return sql;
    }

    /** @return whether tasks of this source are windows (otherwise snapshots) */
    public boolean isWindow() {
        return window;
    }

    /**
     * Renders the query for one task.
     *
     * @param task a task naming this source
     * @return the SQL text (placeholders replaced) and the values of its binds
     * @throws InvalidTaskException if the task's scope, parameters or identifiers do not fit
     */
    Rendered render(Task task) {
        if (window && task.window().isEmpty()) {
            throw new InvalidTaskException("task " + task.id() + " of source '" + name + "' has scope "
                    + task.scope() + " but the source is a window query");
        }
        if (!window && task.snapshot().isEmpty()) {
            throw new InvalidTaskException("task " + task.id() + " of source '" + name + "' has scope "
                    + task.scope() + " but the source is a snapshot query");
        }
        String text;
        try {
            text = Identifiers.render(sql, identifiers, task.parameters());
        } catch (IllegalArgumentException e) {
            throw new InvalidTaskException("task " + task.id() + " of source '" + name + "': " + e.getMessage(), e);
        }
        Map<String, Object> values = new TreeMap<>();
        for (String bind : binds) {
            values.put(bind, value(task, bind));
        }
        return new Rendered(text, values);
    }

    private Object value(Task task, String bind) {
        if (window && START.equals(bind)) {
            return task.window().map(Window::start).orElseThrow();
        }
        if (window && END.equals(bind)) {
            return task.window().map(Window::end).orElseThrow();
        }
        if (!window && AS_OF.equals(bind)) {
            return task.snapshot().map(Snapshot::asOf).orElseThrow();
        }
        JDBCType type = parameters.get(bind);
        String raw = task.parameters().get(bind);
        if (raw == null) {
            throw new InvalidTaskException("task " + task.id() + " of source '" + name + "' lacks parameter '" + bind
                    + "' (" + type + ")");
        }
        try {
            return convert(raw, type);
        } catch (RuntimeException e) {
            throw new InvalidTaskException("task " + task.id() + " of source '" + name + "': parameter '" + bind
                    + "' = '" + Names.printable(raw) + "' is not a " + type + ": " + e.getMessage(), e);
        }
    }

    private static Object convert(String raw, JDBCType type) {
        switch (type) {
            case BIGINT:
                return Long.parseLong(raw);
            case INTEGER:
                return Integer.parseInt(raw);
            case NUMERIC:
            case DECIMAL:
                return new BigDecimal(raw);
            case DATE:
                return LocalDate.parse(raw);
            case TIMESTAMP:
                return LocalDateTime.parse(raw);
            case BOOLEAN:
                if (!raw.equals("true") && !raw.equals("false")) {
                    throw new IllegalArgumentException("expected true or false");
                }
                return Boolean.valueOf(raw);
            default:
                return raw;
        }
    }

    @Override
    public String toString() {
        return "SourceQuery[" + name + (window ? " window" : " snapshot") + "]";
    }

    /** A query rendered for one task: SQL text with named binds, and their values. */
    record Rendered(String sql, Map<String, Object> binds) {
    }

    /**
     * Builds a {@link SourceQuery}. Not threadsafe; {@link #build()} copies the settings, so a builder may be
     * reused.
     */
    public static final class Builder {
        private final String name;
        private final String sql;
        private final boolean window;
        private final Map<String, Pattern> identifiers = new LinkedHashMap<>();
        private final Map<String, JDBCType> parameters = new LinkedHashMap<>();

        private Builder(String name, String sql, boolean window) {
            this.name = Names.requireSource(name);
            this.sql = Objects.requireNonNull(sql, "sql of source '" + name + "'");
            if (sql.isBlank()) {
                throw new IllegalArgumentException("sql of source '" + name + "' is blank");
            }
            this.window = window;
        }

        /**
         * Declares an identifier placeholder {@code ${key}} filled from the task parameter {@code key}.
         *
         * @param key the placeholder and parameter key, matching {@link Names#PARAMETER}
         * @param regex the values allowed, matched whole (e.g. {@code D(3|4|7)}); values must also be plain
         *              identifiers whatever the pattern allows
         * @return this builder
         */
        public Builder identifier(String key, String regex) {
            Names.requireParameter(key);
            Objects.requireNonNull(regex, "pattern of identifier placeholder '" + key + "'");
            try {
                identifiers.put(key, Pattern.compile(regex));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("pattern '" + regex + "' of identifier placeholder '" + key
                        + "' is not a regular expression: " + e.getDescription(), e);
            }
            return this;
        }

        /**
         * Declares a bind {@code :key} filled from the task parameter {@code key}, converted to a type.
         *
         * @param key the bind and parameter key, matching {@link Names#PARAMETER}
         * @param type one of VARCHAR, CHAR, BIGINT, INTEGER, NUMERIC, DECIMAL, DATE (ISO day), TIMESTAMP (ISO
         *             local date-time), BOOLEAN ({@code true}/{@code false})
         * @return this builder
         */
        public Builder parameter(String key, JDBCType type) {
            Names.requireParameter(key);
            Objects.requireNonNull(type, "type of parameter '" + key + "'");
            if (!PARAMETER_TYPES.contains(type)) {
                throw new IllegalArgumentException("parameter '" + key + "' of source '" + name + "' has type " + type
                        + "; supported are " + PARAMETER_TYPES.stream().map(Enum::name).sorted().toList());
            }
            if (START.equals(key) || END.equals(key) || AS_OF.equals(key)) {
                throw new IllegalArgumentException("parameter '" + key + "' of source '" + name
                        + "' is reserved for the task's scope");
            }
            parameters.put(key, type);
            return this;
        }

        /**
         * @return the query
         * @throws IllegalArgumentException naming the problem if the template and the declarations disagree
         */
        public SourceQuery build() {
            String what = "sql of source '" + name + "'";
            Identifiers.checkPlaceholders(sql, identifiers, what);
            for (String key : identifiers.keySet()) {
                if (!sql.contains("${" + key + "}")) {
                    throw new IllegalArgumentException(what + " declares identifier placeholder '" + key
                            + "' but never uses ${" + key + "}");
                }
            }
            List<String> used = List.copyOf(new LinkedHashSet<>(
                    new ColonPrefixSqlParser().parse(sql, null).getParameters().getParameterNames()));
            if (window && (!used.contains(START) || !used.contains(END))) {
                throw new IllegalArgumentException(what + " is a window query and must bind :" + START + " and :"
                        + END + " (half-open: col >= :start AND col < :end); it binds " + used);
            }
            if (!window && (used.contains(START) || used.contains(END))) {
                throw new IllegalArgumentException(what + " is a snapshot query and must not bind :" + START
                        + " or :" + END);
            }
            for (String bind : used) {
                boolean scopeBind = window ? START.equals(bind) || END.equals(bind) : AS_OF.equals(bind);
                if (!scopeBind && !parameters.containsKey(bind)) {
                    throw new IllegalArgumentException(what + " binds :" + bind
                            + " but declares no parameter of that name (use parameter(\"" + bind + "\", type))");
                }
            }
            for (String key : parameters.keySet()) {
                if (!used.contains(key)) {
                    throw new IllegalArgumentException(what + " declares parameter '" + key + "' but never binds :"
                            + key);
                }
            }
            return new SourceQuery(this, used);
        }
    }
}
