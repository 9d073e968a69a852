package dev.relay.s3;

import dev.relay.api.Names;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A parsed object-key template, such as
 * {@code tables/VDS30SEC/district={param:district}/year={year}/month={month}/day={day}/{id}.parquet}.
 *
 * <p>Invariants, checked when the template is parsed (so a wrong template fails at the sink's {@code build()}):
 * <ol>
 *   <li>the key is a function of the task id's inputs only (source, scope, parameters) and the file index: never of
 *       the lane, the attempt or the clock, so a retry or a crash-repeat writes the same keys;</li>
 *   <li>it contains {@code {id}}, so two different tasks never share a key;</li>
 *   <li>its literal text uses only S3's safe key characters ({@code A-Z a-z 0-9 / ! - _ . * ' ( ) =}), never starts
 *       with {@code /}, and has no empty, {@code .} or {@code ..} segment;</li>
 *   <li>every placeholder is known, and a snapshot layout uses none that a snapshot does not have.</li>
 * </ol>
 * Values substituted at {@link #render} are checked against the same safe characters (a task whose parameter would
 * add a {@code /} or a space fails with a message naming the value), and the key against S3's 1,024-byte limit.
 *
 * <p>Immutable and threadsafe.
 */
final class KeyLayout {

    /** S3's limit on the length of a key, in UTF-8 bytes. */
    static final int MAX_KEY_BYTES = 1024;
    /** Digits of the {@code {file}} index: files 00000 to 99999 of one task. */
    static final int FILE_DIGITS = 5;
    /** The largest number of files one task may write (the {@code {file}} index has {@value #FILE_DIGITS} digits). */
    static final int MAX_FILES = 100_000;

    private static final String SAFE = "!-_.*'()=";
    private static final String PARAM = "param:";

    /** Placeholders every task has. */
    private static final Set<String> COMMON = Set.of("id", "source", "SOURCE", "year", "month", "day", "date", "file");
    /** Placeholders only window tasks have. */
    private static final Set<String> WINDOW_ONLY = Set.of("hour", "minute", "start", "end");

    private final String template;
    private final boolean snapshot;
    private final List<Segment> segments;
    private final boolean hasFile;

    private KeyLayout(String template, boolean snapshot, List<Segment> segments) {
        this.template = template;
        this.snapshot = snapshot;
        this.segments = List.copyOf(segments);
        this.hasFile = segments.stream().anyMatch(s -> s instanceof Placeholder p && p.name.equals("file"));
    }

    /**
     * @param template the template
     * @param snapshot whether the layout is for snapshot tasks (no time-of-day placeholders)
     * @return the layout
     * @throws IllegalArgumentException naming the problem and the template
     */
    static KeyLayout parse(String template, boolean snapshot) {
        if (template == null || template.isBlank()) {
            throw new IllegalArgumentException("the object key layout must not be empty");
        }
        String what = (snapshot ? "snapshot layout '" : "layout '") + template + "'";
        if (template.startsWith("/")) {
            throw new IllegalArgumentException(what + " starts with '/': S3 keys are relative to the bucket");
        }
        List<Segment> segments = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        boolean hasId = false;
        int i = 0;
        while (i < template.length()) {
            char c = template.charAt(i);
            if (c == '{') {
                int close = template.indexOf('}', i);
                if (close < 0) {
                    throw new IllegalArgumentException(what + " has an unclosed '{' at index " + i);
                }
                String name = template.substring(i + 1, close);
                if (literal.length() > 0) {
                    segments.add(new Literal(literal.toString()));
                    literal.setLength(0);
                }
                segments.add(placeholder(name, snapshot, what));
                hasId |= name.equals("id");
                i = close + 1;
            } else if (c == '}') {
                throw new IllegalArgumentException(what + " has a '}' without '{' at index " + i);
            } else {
                if (!safe(c) && c != '/') {
                    throw new IllegalArgumentException(what + " holds '" + c + "' at index " + i
                            + "; keys may hold only letters, digits, '/' and " + SAFE);
                }
                literal.append(c);
                i++;
            }
        }
        if (literal.length() > 0) {
            segments.add(new Literal(literal.toString()));
        }
        if (!hasId) {
            throw new IllegalArgumentException(what + " has no {id}: the task id makes each task's keys its own, so a "
                    + "retry overwrites its own objects and never another task's");
        }
        checkSegments(template, what);
        return new KeyLayout(template, snapshot, segments);
    }

    private static Placeholder placeholder(String name, boolean snapshot, String what) {
        if (name.startsWith(PARAM)) {
            String parameter = name.substring(PARAM.length());
            if (!Names.PARAMETER.matcher(parameter).matches()) {
                throw new IllegalArgumentException(what + " names the task parameter '" + parameter
                        + "', which is not a parameter name (" + Names.PARAMETER.pattern() + ")");
            }
            return new Placeholder(name, parameter);
        }
        if (COMMON.contains(name)) {
            return new Placeholder(name, null);
        }
        if (WINDOW_ONLY.contains(name)) {
            if (snapshot) {
                throw new IllegalArgumentException(what + " uses {" + name + "}, which a snapshot task does not have "
                        + "(a snapshot has a day only); known: " + known(true));
            }
            return new Placeholder(name, null);
        }
        throw new IllegalArgumentException(what + " uses the unknown placeholder {" + name + "}; known: " + known(snapshot)
                + " and {param:NAME} for a task parameter");
    }

    private static String known(boolean snapshot) {
        Set<String> names = new TreeSet<>(COMMON);
        if (!snapshot) {
            names.addAll(WINDOW_ONLY);
        }
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            sb.append(sb.length() == 0 ? "" : ", ").append('{').append(n).append('}');
        }
        return sb.toString();
    }

    /** Segments between slashes must not be empty, "." or ".." once rendered; checked on the template's literals. */
    private static void checkSegments(String template, String what) {
        String[] parts = template.split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.isEmpty() && i < parts.length - 1) {
                throw new IllegalArgumentException(what + " has an empty path segment ('//')");
            }
            if (part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException(what + " has a '" + part + "' path segment");
            }
        }
        if (template.endsWith("/")) {
            throw new IllegalArgumentException(what + " ends with '/': that names a folder, not an object");
        }
    }

    private static boolean safe(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SAFE.indexOf(c) >= 0;
    }

    /** @return the template text */
    String template() {
        return template;
    }

    /** @return whether the template holds {@code {file}} */
    boolean hasFile() {
        return hasFile;
    }

    /** @return whether this is a snapshot layout */
    boolean snapshot() {
        return snapshot;
    }

    /**
     * @param task a task of this layout's kind (window or snapshot)
     * @param file the file index from 0
     * @return the object key
     * @throws IllegalArgumentException naming the task and value when a parameter is missing or unsafe, or the key
     *     too long
     */
    String render(Task task, int file) {
        return render(task, file, segments.size());
    }

    /**
     * @param task a task
     * @return the key up to the {@code {file}} placeholder (the whole key if there is none)
     */
    String prefixBeforeFile(Task task) {
        for (int i = 0; i < segments.size(); i++) {
            if (segments.get(i) instanceof Placeholder p && p.name.equals("file")) {
                return render(task, 0, i);
            }
        }
        return render(task, 0);
    }

    private String render(Task task, int file, int upTo) {
        if (file < 0 || file >= MAX_FILES) {
            throw new IllegalArgumentException("file index " + file + " is outside 0.." + (MAX_FILES - 1));
        }
        Optional<Window> window = task.window();
        if (snapshot != window.isEmpty()) {
            throw new IllegalArgumentException("the " + (snapshot ? "snapshot " : "") + "layout '" + template
                    + "' cannot name the objects of " + (window.isPresent() ? "window" : "snapshot") + " task " + task.id());
        }
        LocalDate date = window.map(w -> w.start().toLocalDate()).orElseGet(() -> task.snapshot().map(Snapshot::asOf).orElseThrow());
        StringBuilder key = new StringBuilder(128);
        for (int i = 0; i < upTo; i++) {
            Segment s = segments.get(i);
            if (s instanceof Literal l) {
                key.append(l.text);
            } else {
                Placeholder p = (Placeholder) s;
                String value = value(p, task, window, date, file);
                if (value.isEmpty()) {
                    throw new IllegalArgumentException("{" + p.name + "} of task " + task.id() + " is empty; layout '"
                            + template + "' needs a non-empty value");
                }
                for (int k = 0; k < value.length(); k++) {
                    if (!safe(value.charAt(k))) {
                        throw new IllegalArgumentException("{" + p.name + "} of task " + task.id() + " is '"
                                + Names.printable(value) + "', which holds '" + value.charAt(k) + "'; a key segment may "
                                + "hold only letters, digits and " + SAFE);
                    }
                }
                key.append(value);
            }
        }
        String k = key.toString();
        if (upTo == segments.size()) {
            for (String part : k.split("/", -1)) {
                if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                    throw new IllegalArgumentException("the key of task " + task.id() + " by layout '" + template
                            + "' would be '" + k + "', which has an empty, '.' or '..' path segment");
                }
            }
        }
        int bytes = k.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_KEY_BYTES) {
            throw new IllegalArgumentException("the key of task " + task.id() + " is " + bytes + " bytes long; S3 allows "
                    + MAX_KEY_BYTES + ": " + k.substring(0, 64) + "…");
        }
        return k;
    }

    private String value(Placeholder p, Task task, Optional<Window> window, LocalDate date, int file) {
        if (p.parameter != null) {
            return task.parameter(p.parameter).orElseThrow(() -> new IllegalArgumentException("task " + task.id()
                    + " has no parameter '" + p.parameter + "', which layout '" + template + "' needs; it has "
                    + task.parameters().keySet()));
        }
        switch (p.name) {
            case "id":
                return task.id();
            case "source":
                return task.source();
            case "SOURCE":
                return task.source().toUpperCase(Locale.ROOT);
            case "year":
                return String.format(Locale.ROOT, "%04d", date.getYear());
            case "month":
                return Integer.toString(date.getMonthValue());
            case "day":
                return Integer.toString(date.getDayOfMonth());
            case "date":
                return date.toString();
            case "file":
                return String.format(Locale.ROOT, "%0" + FILE_DIGITS + "d", file);
            case "hour":
                return Integer.toString(window.orElseThrow().start().getHour());
            case "minute":
                return Integer.toString(window.orElseThrow().start().getMinute());
            case "start":
                return compact(window.orElseThrow().start());
            case "end":
                return compact(window.orElseThrow().end());
            default:
                throw new IllegalStateException("placeholder {" + p.name + "} passed parsing but has no value");
        }
    }

    /** yyyyMMdd'T'HHmmss, with the fraction of a second when there is one (a key must not merge two windows). */
    private static String compact(LocalDateTime t) {
        String s = String.format(Locale.ROOT, "%04d%02d%02dT%02d%02d%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth(),
                t.getHour(), t.getMinute(), t.getSecond());
        return t.getNano() == 0 ? s : s + String.format(Locale.ROOT, ".%09d", t.getNano());
    }

    @Override
    public String toString() {
        return template;
    }

    private interface Segment {
    }

    private record Literal(String text) implements Segment {
    }

    private record Placeholder(String name, String parameter) implements Segment {
    }
}
