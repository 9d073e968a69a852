package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.InvalidTaskException;
import dev.relay.api.Names;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkException;
import dev.relay.api.Task;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The target table of a sink: a table name template with validated identifier placeholders, and column renames
 * from the source's names to the target's. Immutable and threadsafe once built; the nested {@link Spec} is the
 * mutable half used by builders.
 */
final class TargetTable {

    private final String template;
    private final Map<String, Pattern> identifiers;
    private final Map<String, String> renames;

    private TargetTable(Spec spec) {
        this.template = spec.template;
        this.identifiers = Collections.unmodifiableMap(new LinkedHashMap<>(spec.identifiers));
        this.renames = Collections.unmodifiableMap(new LinkedHashMap<>(spec.renames));
    }

    /**
     * @param task a task
     * @return the table name for it
     * @throws InvalidTaskException if a placeholder's parameter is missing or not allowed
     */
    String render(Task task) {
        try {
            return Identifiers.render(template, identifiers, task.parameters());
        } catch (IllegalArgumentException e) {
            throw new InvalidTaskException("task " + task.id() + ": target table " + template + ": " + e.getMessage(), e);
        }
    }

    /** @return the template as configured */
    String template() {
        return template;
    }

    /**
     * @param schema the source's row schema
     * @param task the task, for messages
     * @param table the rendered table, for messages
     * @return the target column name of each source column, in order
     * @throws SinkException (not retryable) if a column name is not a plain identifier
     */
    List<Column> targetColumns(RowSchema schema, Task task, String table) {
        List<Column> out = new ArrayList<>(schema.size());
        for (Column c : schema.columns()) {
            String name = renames.getOrDefault(c.name().toUpperCase(Locale.ROOT), c.name());
            if (!Identifiers.SIMPLE.matcher(name).matches()) {
                throw new SinkException("task " + task.id() + ": column '" + Names.printable(name) + "' of the rows for "
                        + table + " is not a plain SQL identifier " + Identifiers.SIMPLE.pattern()
                        + "; rename it in the query or with rename(…)", null, false);
            }
            out.add(new Column(name, c.type()));
        }
        return out;
    }

    /** The settings of a target table, filled by a sink builder. Not threadsafe. */
    static final class Spec {
        private String template;
        private final Map<String, Pattern> identifiers = new LinkedHashMap<>();
        private final Map<String, String> renames = new LinkedHashMap<>();

        void table(String template) {
            Objects.requireNonNull(template, "table");
            String probe = Identifiers.PLACEHOLDER.matcher(template).replaceAll("X");
            Identifiers.requireQualified(probe, "table '" + template + "'");
            this.template = template;
        }

        void identifier(String key, String regex) {
            Names.requireParameter(key);
            Objects.requireNonNull(regex, "pattern of identifier placeholder '" + key + "'");
            try {
                identifiers.put(key, Pattern.compile(regex));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("pattern '" + regex + "' of identifier placeholder '" + key
                        + "' is not a regular expression: " + e.getDescription(), e);
            }
        }

        void rename(String source, String target) {
            Objects.requireNonNull(source, "source column");
            Identifiers.requireSimple(target, "target column for '" + source + "'");
            if (renames.putIfAbsent(source.toUpperCase(Locale.ROOT), target) != null) {
                throw new IllegalArgumentException("column '" + source + "' is renamed twice");
            }
        }

        TargetTable build(String sink) {
            if (template == null) {
                throw new IllegalStateException(sink + " needs a target table: call table(…)");
            }
            Identifiers.checkPlaceholders(template, identifiers, "table '" + template + "' of " + sink);
            for (String key : identifiers.keySet()) {
                if (!template.contains("${" + key + "}")) {
                    throw new IllegalArgumentException(sink + " declares identifier placeholder '" + key
                            + "' but its table '" + template + "' never uses ${" + key + "}");
                }
            }
            return new TargetTable(this);
        }
    }
}
