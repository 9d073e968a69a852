package dev.relay.core.plan;

import dev.relay.api.Lease;
import dev.relay.api.QueueException;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A task queue fake that records every offer (with the clock's time) and keeps a FIFO per lane that a
 * simulated consumer drains with {@link #take}. Not threadsafe.
 */
final class RecordingQueue implements TaskQueue {

    /** One offer. */
    record Offer(Task task, Instant at) {
    }

    private final Clock clock;
    final List<Offer> offers = new ArrayList<>();
    private final Map<String, ArrayDeque<Task>> lanes = new HashMap<>();
    private final Map<String, Integer> maxBacklog = new HashMap<>();
    boolean backlogUnknown;
    int failAfter = Integer.MAX_VALUE;

    RecordingQueue(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void offer(Task task) {
        if (failAfter-- <= 0) {
            throw new QueueException("queue down (test)", null);
        }
        offers.add(new Offer(task, clock.instant()));
        ArrayDeque<Task> q = lanes.computeIfAbsent(task.lane(), k -> new ArrayDeque<>());
        q.add(task);
        maxBacklog.merge(task.lane(), q.size(), Math::max);
    }

    /** Removes up to {@code n} tasks of a lane, oldest first. */
    List<Task> take(String lane, int n) {
        ArrayDeque<Task> q = lanes.getOrDefault(lane, new ArrayDeque<>());
        List<Task> out = new ArrayList<>();
        while (out.size() < n && !q.isEmpty()) {
            out.add(q.poll());
        }
        return out;
    }

    List<Task> offered(String lane) {
        return offers.stream().map(Offer::task).filter(t -> t.lane().equals(lane)).toList();
    }

    int maxBacklog(String lane) {
        return maxBacklog.getOrDefault(lane, 0);
    }

    int depth(String lane) {
        return lanes.getOrDefault(lane, new ArrayDeque<>()).size();
    }

    @Override
    public long backlog(String lane) {
        return backlogUnknown ? -1 : depth(lane);
    }

    @Override
    public void subscribe(Set<String> lanes) {
    }

    @Override
    public List<Lease> poll(String lane, int max) {
        throw new UnsupportedOperationException("the recording queue is drained with take()");
    }

    @Override
    public void setAvailabilityListener(Runnable listener) {
    }

    @Override
    public void close() {
    }
}
