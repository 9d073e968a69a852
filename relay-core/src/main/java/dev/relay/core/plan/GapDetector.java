package dev.relay.core.plan;

import dev.relay.api.PlanningLedger;
import dev.relay.api.Names;
import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.api.Window;

import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Finds the grid windows of a range that the ledger does not hold as completed — what a skipped tick, a
 * lost task or a dead-lettered window leaves behind — and re-plans them with one call.
 *
 * <p>Ranges are source-local and half-open; a range that is not aligned to the window size is widened to the
 * grid windows it overlaps. For a large range prefer a {@link BackfillPlanner} over it: it plans exactly the
 * same gaps (it skips completed windows) but lazily, keeping the queue within a chunk, whereas
 * {@link #replan} offers every gap at once.
 *
 * <p>This class is threadsafe (it keeps no state between calls).
 */
public final class GapDetector {

    private final PlanningLedger ledger;
    private final LocalGrid grid;

    private GapDetector(PlanningLedger ledger, LocalGrid grid) {
        this.ledger = ledger;
        this.grid = grid;
    }

    /**
     * @param ledger the ledger to compare with the grid
     * @param windowSize the grid's window size: whole seconds dividing a day
     * @return a detector
     */
    public static GapDetector of(PlanningLedger ledger, Duration windowSize) {
        // the grid's zone plays no part in gap detection: gaps are a matter of local window starts
        return new GapDetector(Objects.requireNonNull(ledger, "ledger"), LocalGrid.of(windowSize, ZoneOffset.UTC));
    }

    /**
     * @param series a series
     * @param range a source-local range
     * @return the grid windows overlapping the range that are not completed, in order
     */
    public List<Window> gaps(SeriesKey series, Window range) {
        Objects.requireNonNull(series, "series");
        CompletionPage page = new CompletionPage(ledger, series, grid);
        List<Window> gaps = new ArrayList<>();
        LocalDateTime end = grid.alignUp(range.end());
        for (LocalDateTime s = grid.alignDown(range.start()); s.isBefore(end); s = s.plus(grid.size())) {
            if (!page.isCompleted(s)) {
                gaps.add(grid.windowAt(s));
            }
        }
        return Collections.unmodifiableList(gaps);
    }

    /**
     * @param series some series
     * @param range a source-local range
     * @return the gaps of each series that has any, in series order
     */
    public SortedMap<SeriesKey, List<Window>> gaps(Collection<SeriesKey> series, Window range) {
        TreeMap<SeriesKey, List<Window>> out = new TreeMap<>();
        for (SeriesKey k : series) {
            List<Window> g = gaps(k, range);
            if (!g.isEmpty()) {
                out.put(k, g);
            }
        }
        return Collections.unmodifiableSortedMap(out);
    }

    /**
     * What {@link #replan} offered. Immutable.
     *
     * @param tasks the number of tasks offered
     * @param manifest the dates they touch, for downstream reprocessing
     */
    public record Replanned(long tasks, BackfillManifest manifest) {
    }

    /**
     * Offers a task for every gap of the series in the range, in one {@link TaskQueue#offerAll batch}. If the
     * queue does not accept all of them, its {@link dev.relay.api.TasksNotAcceptedException} (naming the tasks
     * not accepted) propagates; calling {@code replan} again offers the gaps again, which is harmless.
     *
     * @param series some series
     * @param range a source-local range
     * @param queue where to offer the tasks
     * @param lane the lane to plan them into, typically the backfill lane
     * @return how many tasks were offered and the dates they touch
     */
    public Replanned replan(Collection<SeriesKey> series, Window range, TaskQueue queue, String lane) {
        Names.requireLane(lane);
        Objects.requireNonNull(queue, "queue");
        BackfillManifest.Builder manifest = BackfillManifest.builder();
        List<Task> batch = new ArrayList<>();
        for (Map.Entry<SeriesKey, List<Window>> e : gaps(series, range).entrySet()) {
            for (Window w : e.getValue()) {
                batch.add(e.getKey().task(lane, w));
                manifest.add(e.getKey(), w);
            }
        }
        queue.offerAll(batch);
        return new Replanned(batch.size(), manifest.build());
    }

    @Override
    public String toString() {
        return "GapDetector[windows " + grid.size() + "]";
    }
}
