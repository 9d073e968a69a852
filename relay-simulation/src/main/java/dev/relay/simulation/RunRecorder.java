package dev.relay.simulation;

import dev.relay.api.Task;
import dev.relay.core.RelayListener;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link RelayListener} that keeps every start and completion, for exact whole-run figures per lane: waits
 * and their percentiles, service time, source-time shares, the most permits ever held.
 *
 * <p>Threadsafe: the relay calls it on its control thread; readers synchronize on it.
 */
public final class RunRecorder implements RelayListener {

    /** One start. */
    public record Start(Task task, Instant at, Duration waited, int permitsInUse) {
    }

    /** One completion. */
    public record Completion(Task task, Instant at, Duration service, long rows) {
    }

    private final List<Start> starts = new ArrayList<>();
    private final List<Completion> completions = new ArrayList<>();
    private final List<Task> deadLettered = new ArrayList<>();
    private long retries;
    private int maxPermits;

    @Override
    public synchronized void started(Task task, Instant at, Duration waited, int permitsInUse) {
        starts.add(new Start(task, at, waited, permitsInUse));
        maxPermits = Math.max(maxPermits, permitsInUse);
    }

    @Override
    public synchronized void completed(Task task, Instant at, Duration service, long rows) {
        completions.add(new Completion(task, at, service, rows));
    }

    @Override
    public synchronized void retried(Task task, Instant at, Duration delay, Throwable error) {
        retries++;
    }

    @Override
    public synchronized void deadLettered(Task task, Instant at, String reason) {
        deadLettered.add(task);
    }

    /** @return all starts so far */
    public synchronized List<Start> starts() {
        return List.copyOf(starts);
    }

    /** @return all completions so far */
    public synchronized List<Completion> completions() {
        return List.copyOf(completions);
    }

    /** @return the tasks dead-lettered */
    public synchronized List<Task> deadLettered() {
        return List.copyOf(deadLettered);
    }

    /** @return failed attempts sent to retry */
    public synchronized long retries() {
        return retries;
    }

    /** @return the most permits held at any start */
    public synchronized int maxPermitsInUse() {
        return maxPermits;
    }

    /**
     * @param lane a lane
     * @return the waits of the lane's starts, sorted
     */
    public synchronized List<Duration> waits(String lane) {
        List<Duration> w = new ArrayList<>();
        for (Start s : starts) {
            if (s.task().lane().equals(lane)) {
                w.add(s.waited());
            }
        }
        Collections.sort(w);
        return w;
    }

    /**
     * @param sorted sorted durations
     * @param p a quantile in [0, 1]
     * @return the nearest-rank quantile, or zero if empty
     */
    public static Duration quantile(List<Duration> sorted, double p) {
        if (sorted.isEmpty()) {
            return Duration.ZERO;
        }
        int rank = (int) Math.ceil(p * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    /** @return per lane: tasks completed, p50/p99/max wait, share of source time; as a printable table */
    public synchronized String table() {
        Map<String, long[]> service = new LinkedHashMap<>();
        long total = 0;
        for (Completion c : completions) {
            long[] s = service.computeIfAbsent(c.task().lane(), k -> new long[2]);
            s[0]++;
            s[1] += c.service().toMillis();
            total += c.service().toMillis();
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-10s %8s %10s %10s %10s %8s%n", "lane", "tasks", "p50 wait", "p99 wait", "max wait", "source%"));
        for (Map.Entry<String, long[]> e : service.entrySet()) {
            List<Duration> w = waits(e.getKey());
            sb.append(String.format("%-10s %8d %10s %10s %10s %7.2f%%%n", e.getKey(), e.getValue()[0], fmt(quantile(w, 0.5)),
                    fmt(quantile(w, 0.99)), fmt(w.isEmpty() ? Duration.ZERO : w.get(w.size() - 1)),
                    total == 0 ? 0.0 : 100.0 * e.getValue()[1] / total));
        }
        return sb.toString();
    }

    /**
     * @param d a duration
     * @return it as {@code 1h02m03s}, {@code 4m05s} or {@code 6.7s}
     */
    public static String fmt(Duration d) {
        long s = d.getSeconds();
        if (s >= 3600) {
            return String.format("%dh%02dm%02ds", s / 3600, (s % 3600) / 60, s % 60);
        }
        if (s >= 60) {
            return String.format("%dm%02ds", s / 60, s % 60);
        }
        return String.format("%.1fs", d.toMillis() / 1000.0);
    }
}
