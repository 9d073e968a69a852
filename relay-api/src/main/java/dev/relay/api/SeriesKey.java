package dev.relay.api;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A series: one registered source plus the partition parameters that select one stream of windows or
 * snapshots from it, for example source {@code vds30sec} with {@code district=7}. Every task of a series
 * differs from the others only in its {@link Scope}, so the ledger keeps watermarks and gaps per series.
 *
 * <p>The {@link #canonical() canonical form} is {@code source} followed by {@code ;key=value} for each
 * parameter in key order, values URL-encoded (UTF-8), for example {@code vds30sec;district=7}. It is stable
 * across releases (ledgers persist it) and {@link #parse(String)} reads it back.
 *
 * <p>Parameter values must be well-formed UTF-16 (no unpaired surrogates): task ids and canonical forms are
 * computed over their UTF-8 encoding, which would map different malformed values to the same bytes.
 *
 * <p>Instances are immutable and threadsafe.
 *
 * @param source the registered source name, matching {@link Names#SOURCE}
 * @param parameters the partition parameters, sorted by key, unmodifiable
 */
public record SeriesKey(String source, SortedMap<String, String> parameters) implements Comparable<SeriesKey> {

    /**
     * Validates the source and parameters and copies the parameters.
     *
     * @param source the registered source name
     * @param parameters the partition parameters
     */
    public SeriesKey {
        Names.requireSource(source);
        Objects.requireNonNull(parameters, "series parameters");
        TreeMap<String, String> copy = new TreeMap<>();
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            Names.requireParameter(e.getKey());
            Objects.requireNonNull(e.getValue(), () -> "value of series parameter '" + e.getKey() + "'");
            if (e.getValue().length() > Names.MAX_PARAMETER_VALUE) {
                throw new IllegalArgumentException("value of series parameter '" + e.getKey() + "' is "
                        + e.getValue().length() + " chars long; at most " + Names.MAX_PARAMETER_VALUE + " are allowed");
            }
            if (!wellFormed(e.getValue())) {
                throw new IllegalArgumentException("value of series parameter '" + e.getKey() + "' contains an unpaired "
                        + "surrogate: '" + Names.printable(e.getValue()) + "' (it would not survive UTF-8 encoding)");
            }
            copy.put(e.getKey(), e.getValue());
        }
        parameters = Collections.unmodifiableSortedMap(copy);
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /**
     * @param source the source name
     * @return the series of a source without parameters
     */
    public static SeriesKey of(String source) {
        return new SeriesKey(source, new TreeMap<>());
    }

    /**
     * @param source the source name
     * @param parameters the partition parameters (any order)
     * @return the series
     */
    public static SeriesKey of(String source, Map<String, String> parameters) {
        return new SeriesKey(source, new TreeMap<>(parameters));
    }

    /**
     * @param source the source name
     * @param key a parameter key
     * @param value its value
     * @return the series of a source with one parameter, e.g. {@code of("vds30sec", "district", "7")}
     */
    public static SeriesKey of(String source, String key, String value) {
        return new SeriesKey(source, new TreeMap<>(Map.of(key, value)));
    }

    /**
     * @param task a task
     * @return the series the task belongs to: its source and all its parameters
     */
    public static SeriesKey of(Task task) {
        return new SeriesKey(task.source(), task.parameters());
    }

    /**
     * Parses the {@linkplain #canonical() canonical form}.
     *
     * @param canonical for example {@code vds30sec;district=7}
     * @return the series
     * @throws IllegalArgumentException if the text is not a canonical series key
     */
    public static SeriesKey parse(String canonical) {
        Objects.requireNonNull(canonical, "series key text");
        String[] parts = canonical.split(";", -1);
        TreeMap<String, String> params = new TreeMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("not a series key 'source;key=value…': '" + Names.printable(canonical) + "'");
            }
            params.put(parts[i].substring(0, eq), URLDecoder.decode(parts[i].substring(eq + 1), StandardCharsets.UTF_8));
        }
        return new SeriesKey(parts[0], params);
    }

    /**
     * Builds a task of this series.
     *
     * @param lane the lane to run it in
     * @param scope the window or snapshot
     * @return the task, attempt 1; its id depends on the series and scope only
     */
    public Task task(String lane, Scope scope) {
        return Task.builder(lane, source).parameters(parameters).scope(scope).build();
    }

    /**
     * @param scope a window or snapshot
     * @return the id of this series' task for that scope, as {@link Task#deriveId} computes it
     */
    public String taskId(Scope scope) {
        return Task.deriveId(source, scope, parameters);
    }

    /** @return the stable text form, e.g. {@code vds30sec;district=7} */
    public String canonical() {
        StringBuilder sb = new StringBuilder(source);
        parameters.forEach((k, v) -> sb.append(';').append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return sb.toString();
    }

    @Override
    public int compareTo(SeriesKey o) {
        return canonical().compareTo(o.canonical());
    }

    @Override
    public String toString() {
        return canonical();
    }
}
