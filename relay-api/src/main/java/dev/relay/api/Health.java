package dev.relay.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The health of a relay or of a part of it (a {@link TaskQueue}): the {@link HealthIssue}s that keep it from working
 * fully, and the status they add up to — {@link HealthStatus#UP} without issues, else the worst issue's severity.
 *
 * <h2>Who computes it</h2>
 * A relay's health ({@code Relay.health()} in {@code relay-core}) is computed when asked, from the figures the
 * engine already publishes (the lanes' states and waits, the failures of its polls, its permits) and from what the
 * queue reports through {@link TaskQueue#health()}: nothing is spent per task to keep it. A backend reports the
 * condition of its own clients there (unreachable, authentication or authorization failures, a configuration that
 * does not match), keeping the state its own threads already record, so that asking stays cheap.
 *
 * <p>Immutable and threadsafe.
 *
 * @param issues the issues, in the order they were found; empty when all is well
 */
public record Health(List<HealthIssue> issues) {

    private static final Health UP = new Health(List.of());

    /**
     * Copies the issues.
     *
     * @throws NullPointerException if the list or an issue is null
     */
    public Health {
        issues = List.copyOf(issues);
    }

    /** @return the health without issues */
    public static Health up() {
        return UP;
    }

    /**
     * @param issues the issues
     * @return the health with these issues ({@link #up()} if none)
     */
    public static Health of(List<HealthIssue> issues) {
        return issues.isEmpty() ? UP : new Health(issues);
    }

    /** @return {@link HealthStatus#UP} without issues, else the worst issue's severity */
    public HealthStatus status() {
        HealthStatus s = HealthStatus.UP;
        for (HealthIssue i : issues) {
            s = s.worse(i.severity());
        }
        return s;
    }

    /**
     * @param more issues to add after these
     * @return the health with both lists of issues
     */
    public Health plus(Health more) {
        Objects.requireNonNull(more, "more");
        if (more.issues.isEmpty()) {
            return this;
        }
        if (issues.isEmpty()) {
            return more;
        }
        List<HealthIssue> all = new ArrayList<>(issues);
        all.addAll(more.issues);
        return new Health(all);
    }

    /**
     * @param component a component
     * @return the issues of that component
     */
    public List<HealthIssue> issuesOf(String component) {
        return issues.stream().filter(i -> i.component().equals(component)).toList();
    }

    /** @return the status, then one line per issue */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(status().name());
        for (HealthIssue i : issues) {
            b.append(System.lineSeparator()).append("  ").append(i);
        }
        return b.toString();
    }
}
