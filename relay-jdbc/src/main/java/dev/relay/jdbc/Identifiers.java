package dev.relay.jdbc;

import dev.relay.api.Names;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Validation of SQL identifiers and rendering of identifier placeholders ({@code ${name}}) in SQL templates.
 * Identifiers are never quoted and never taken from data: a table, schema or column name reaches SQL text only
 * after matching {@link #SIMPLE} (and, for a placeholder, the pattern declared for it).
 *
 * <p>Stateless and threadsafe.
 */
final class Identifiers {

    /** One unquoted identifier: a letter, then letters, digits and '_', at most 63 characters (PostgreSQL's limit). */
    static final Pattern SIMPLE = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,62}");

    /** A possibly qualified name: one to three simple identifiers joined by '.'. */
    static final Pattern QUALIFIED = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,62}(\\.[A-Za-z][A-Za-z0-9_]{0,62}){0,2}");

    /** An identifier placeholder in a template: {@code ${name}}. */
    static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z][A-Za-z0-9_]{0,63})}");

    private Identifiers() {
    }

    /**
     * @param name a column or table name
     * @param what what the name is, for the message
     * @return the name
     * @throws IllegalArgumentException naming the value unless it matches {@link #SIMPLE}
     */
    static String requireSimple(String name, String what) {
        Objects.requireNonNull(name, what);
        if (!SIMPLE.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + Names.printable(name) + "' is not a plain SQL identifier "
                    + SIMPLE.pattern());
        }
        return name;
    }

    /**
     * @param name a possibly qualified table name
     * @param what what the name is, for the message
     * @return the name
     * @throws IllegalArgumentException naming the value unless it matches {@link #QUALIFIED}
     */
    static String requireQualified(String name, String what) {
        Objects.requireNonNull(name, what);
        if (!QUALIFIED.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + Names.printable(name) + "' is not a plain, optionally "
                    + "qualified SQL identifier " + QUALIFIED.pattern());
        }
        return name;
    }

    /**
     * Checks that every placeholder of a template is declared.
     *
     * @param template the template
     * @param declared the declared placeholders and their patterns
     * @param what what the template is, for the message
     */
    static void checkPlaceholders(String template, Map<String, Pattern> declared, String what) {
        Matcher m = PLACEHOLDER.matcher(template);
        while (m.find()) {
            if (!declared.containsKey(m.group(1))) {
                throw new IllegalArgumentException(what + " uses the identifier placeholder ${" + m.group(1)
                        + "} but declares no pattern for it (declared: " + declared.keySet() + ")");
            }
        }
        String stripped = PLACEHOLDER.matcher(template).replaceAll("");
        if (stripped.contains("${")) {
            throw new IllegalArgumentException(what + " has a malformed placeholder near '"
                    + Names.printable(stripped.substring(stripped.indexOf("${"))) + "'; write ${name}");
        }
    }

    /**
     * Replaces every {@code ${name}} with the value of the task parameter {@code name}, after checking it
     * against {@link #SIMPLE} and the declared pattern.
     *
     * @param template the template
     * @param declared declared placeholders and their patterns
     * @param parameters the task's parameters
     * @return the rendered text
     * @throws IllegalArgumentException naming the parameter and value if one is missing or does not match
     */
    static String render(String template, Map<String, Pattern> declared, Map<String, String> parameters) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder(template.length() + 16);
        while (m.find()) {
            String key = m.group(1);
            String value = parameters.get(key);
            if (value == null) {
                throw new IllegalArgumentException("missing parameter '" + key + "' for identifier placeholder ${"
                        + key + "}");
            }
            Pattern pattern = declared.get(key);
            if (!SIMPLE.matcher(value).matches() || !pattern.matcher(value).matches()) {
                throw new IllegalArgumentException("parameter '" + key + "' = '" + Names.printable(value)
                        + "' is not an allowed identifier: it must match " + pattern.pattern() + " and "
                        + SIMPLE.pattern());
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
