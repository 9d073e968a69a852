package dev.relay.core.plan;

import dev.relay.api.PlanningLedger;
import dev.relay.api.SeriesKey;
import dev.relay.api.Window;

import java.time.LocalDateTime;
import java.util.HashSet;
import java.util.Set;

/**
 * A cached page of one series' completed grid windows, so that a planner walking forward asks the ledger
 * once per page instead of once per window. A window completed after its page was read is not seen: the
 * planner then offers it again, which is harmless (same task id). Not threadsafe; owned by one planner.
 */
final class CompletionPage {

    /** Windows per ledger read: a week of 10-minute windows. */
    static final int PAGE_WINDOWS = 1008;

    private final PlanningLedger ledger;
    private final SeriesKey series;
    private final LocalGrid grid;
    private LocalDateTime from;
    private LocalDateTime to;
    private Set<LocalDateTime> starts;

    CompletionPage(PlanningLedger ledger, SeriesKey series, LocalGrid grid) {
        this.ledger = ledger;
        this.series = series;
        this.grid = grid;
    }

    /** @return whether the grid window starting at {@code start} was completed when its page was read */
    boolean isCompleted(LocalDateTime start) {
        if (starts == null || start.isBefore(from) || !start.isBefore(to)) {
            load(start);
        }
        return starts.contains(start);
    }

    private void load(LocalDateTime start) {
        from = start;
        to = start.plus(grid.size().multipliedBy(PAGE_WINDOWS));
        starts = new HashSet<>();
        for (Window w : ledger.completedWindows(series, new Window(from, to))) {
            // a window of another size (the grid was reconfigured) does not count as this grid's window
            if (w.length().equals(grid.size()) && grid.isAligned(w.start())) {
                starts.add(w.start());
            }
        }
    }

    /**
     * Walks forward from {@code start} over completed windows.
     *
     * @return the start of the first window at or after {@code start} that is not completed
     */
    LocalDateTime firstMissingFrom(LocalDateTime start) {
        LocalDateTime s = start;
        while (isCompleted(s)) {
            s = s.plus(grid.size());
        }
        return s;
    }

    void invalidate() {
        starts = null;
    }
}
