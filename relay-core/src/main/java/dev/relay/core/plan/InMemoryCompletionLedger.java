package dev.relay.core.plan;

import dev.relay.api.PlanningLedger;
import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.Window;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * A {@link PlanningLedger} in memory: for tests, simulations and embeddings whose queue is in memory too
 * (a ledger that outlives the process needs a durable implementation such as {@code JdbcCompletionLedger}).
 *
 * <p>This class is threadsafe: any thread may record and query concurrently; a query sees each record
 * either wholly or not at all.
 */
public final class InMemoryCompletionLedger implements PlanningLedger {

    /** Completions by task id: the rows written. */
    private final Map<String, Long> completed = new ConcurrentHashMap<>();
    /** Completed windows by series. */
    private final Map<SeriesKey, NavigableSet<Window>> windows = new ConcurrentHashMap<>();
    /** Planned marks by task id. */
    private final Map<String, Instant> planned = new ConcurrentHashMap<>();

    /** Creates an empty ledger. */
    public InMemoryCompletionLedger() {
    }

    @Override
    public void recordCompleted(Task task, long rows) {
        Objects.requireNonNull(task, "task");
        // the window goes in first, so that whoever sees the id completed also finds its window
        task.window().ifPresent(w -> windows.computeIfAbsent(SeriesKey.of(task), k -> new ConcurrentSkipListSet<>()).add(w));
        completed.putIfAbsent(task.id(), rows);
    }

    @Override
    public boolean isCompleted(String taskId) {
        return completed.containsKey(Objects.requireNonNull(taskId, "taskId"));
    }

    @Override
    public NavigableSet<Window> completedWindows(SeriesKey series, Window range) {
        NavigableSet<Window> all = windows.get(Objects.requireNonNull(series, "series"));
        if (all == null) {
            return Collections.emptyNavigableSet();
        }
        // windows sort by start, then end; the smallest window starting at t is [t, t + 1ns), so these two
        // bounds select exactly the windows whose start lies in [range.start, range.end)
        NavigableSet<Window> copy = new TreeSet<>(all.subSet(new Window(range.start(), range.start().plusNanos(1)), true,
                new Window(range.end(), range.end().plusNanos(1)), false));
        return Collections.unmodifiableNavigableSet(copy);
    }

    @Override
    public void recordPlanned(Task task, Instant at) {
        planned.put(Objects.requireNonNull(task, "task").id(), Objects.requireNonNull(at, "at"));
    }

    @Override
    public Optional<Instant> plannedAt(String taskId) {
        return Optional.ofNullable(planned.get(Objects.requireNonNull(taskId, "taskId")));
    }

    /**
     * Removes a task's completion (tests use it to simulate lost work).
     *
     * @param task the task
     * @return whether it was recorded
     */
    public boolean forget(Task task) {
        task.window().ifPresent(w -> {
            NavigableSet<Window> set = windows.get(SeriesKey.of(task));
            if (set != null) {
                set.remove(w);
            }
        });
        return completed.remove(task.id()) != null;
    }

    /** @return how many tasks are recorded completed */
    public int size() {
        return completed.size();
    }

    @Override
    public String toString() {
        return "InMemoryCompletionLedger[" + completed.size() + " completed, " + planned.size() + " planned]";
    }
}
