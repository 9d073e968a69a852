package dev.relay.core.plan;

import dev.relay.api.PlanningLedger;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * How many more tasks a lazy planner may offer to a lane: {@code chunk} minus the lane's backlog. When the
 * backend cannot count its backlog ({@code -1}), the planner's own offered-but-not-completed tasks stand in
 * for it (pruned through the ledger). Not threadsafe; owned by one planner.
 */
final class LaneBudget {

    private final TaskQueue queue;
    private final String lane;
    private final int chunk;
    private final PlanningLedger ledger;
    private final Set<String> outstanding = new LinkedHashSet<>();
    private boolean counting;

    LaneBudget(TaskQueue queue, String lane, int chunk, PlanningLedger ledger) {
        this.queue = queue;
        this.lane = lane;
        this.chunk = chunk;
        this.ledger = ledger;
    }

    /** @return how many tasks may be offered now, at least 0 */
    int capacity() {
        long backlog = queue.backlog(lane);
        if (backlog >= 0) {
            counting = false;
            outstanding.clear();
            return (int) Math.max(0, chunk - backlog);
        }
        counting = true;
        outstanding.removeIf(ledger::isCompleted);
        return Math.max(0, chunk - outstanding.size());
    }

    void offered(Task task) {
        if (counting) {
            outstanding.add(task.id());
        }
    }

    int chunk() {
        return chunk;
    }

    String lane() {
        return lane;
    }
}
