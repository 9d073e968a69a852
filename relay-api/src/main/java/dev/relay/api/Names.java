package dev.relay.api;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The rules for the names relay accepts. Names end up in Kafka topic names, metric tags and SQL
 * identifiers, so they are restricted to a safe alphabet and checked where they enter.
 *
 * <p>This class is threadsafe (stateless).
 */
public final class Names {

    /** Lane names: lower-case letters, digits, '_' and '-', starting with a letter or digit, at most 64. */
    public static final Pattern LANE = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    /** Source (registered query) names: letters, digits, '_', '.', ':' and '-', starting with a letter, at most 128. */
    public static final Pattern SOURCE = Pattern.compile("[A-Za-z][A-Za-z0-9_.:-]{0,127}");

    /** Parameter keys: a letter then letters, digits and '_', at most 64. */
    public static final Pattern PARAMETER = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");

    /** The longest parameter value accepted, in characters. */
    public static final int MAX_PARAMETER_VALUE = 1024;

    private Names() {
    }

    /**
     * @param lane a lane name
     * @return the name
     * @throws IllegalArgumentException naming the value if it does not match {@link #LANE}
     */
    public static String requireLane(String lane) {
        return require(LANE, lane, "lane name");
    }

    /**
     * @param source a source name
     * @return the name
     * @throws IllegalArgumentException naming the value if it does not match {@link #SOURCE}
     */
    public static String requireSource(String source) {
        return require(SOURCE, source, "source name");
    }

    /**
     * @param key a parameter key
     * @return the key
     * @throws IllegalArgumentException naming the value if it does not match {@link #PARAMETER}
     */
    public static String requireParameter(String key) {
        return require(PARAMETER, key, "parameter key");
    }

    private static String require(Pattern pattern, String value, String what) {
        Objects.requireNonNull(value, what);
        if (!pattern.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " '" + printable(value) + "' does not match " + pattern.pattern());
        }
        return value;
    }

    /**
     * Renders a value for an error message: control characters escaped, long values cut.
     *
     * @param value any text
     * @return a printable, bounded rendering
     */
    public static String printable(String value) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < value.length() && sb.length() < 200; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (sb.length() >= 200) {
            sb.append("…(").append(value.length()).append(" chars)");
        }
        return sb.toString();
    }
}
