package dev.relay.core;

import dev.relay.api.LaneSpec;
import dev.relay.api.Sink;
import dev.relay.api.TaskQueue;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control loop's lanes and what they hold: the {@link LaneRun}s by name, the {@link ActiveIds} of the runs they
 * buffer or run, and the lane transitions that give leases back. Stopping a lane from starting work — pause,
 * suspension, removal, a stopping relay — releases its buffered runs and the runs parked behind others in the same
 * step ({@link Relay}'s invariant 5), and ending an active run frees its id and ends the runs parked behind it
 * (invariants 1 and 4). Registers and unregisters the lanes' meters and publishes the list of lanes.
 *
 * <p>Not threadsafe: owned by the control turn.
 */
final class Lanes {

    private static final Logger LOG = LoggerFactory.getLogger(Lanes.class);

    private final FairScheduler<TaskRun> scheduler;
    private final TaskQueue queue;
    private final RelayMetrics metrics;
    private final EngineStats stats;
    private final Turn turn;
    private final TaskRun.Context context;
    private final Notifier notify;
    private final Map<String, LaneRun> byName = new LinkedHashMap<>();
    private final ActiveIds ids = new ActiveIds();
    /** Whether the last subscription failed and is to be tried again. */
    private boolean subscriptionPending;

    Lanes(FairScheduler<TaskRun> scheduler, TaskQueue queue, RelayMetrics metrics, EngineStats stats, Turn turn,
            TaskRun.Context context, Notifier notify) {
        this.context = context;
        this.notify = notify;
        this.scheduler = scheduler;
        this.queue = queue;
        this.metrics = metrics;
        this.stats = stats;
        this.turn = turn;
    }

    /** @return the lanes, in the order they were added */
    Collection<LaneRun> all() {
        return Collections.unmodifiableCollection(byName.values());
    }

    /** @return the names of the lanes this relay serves (all but those being removed) */
    Set<String> served() {
        Set<String> names = new HashSet<>();
        for (LaneRun l : byName.values()) {
            if (l.state() != LaneState.REMOVING) {
                names.add(l.name);
            }
        }
        return names;
    }

    /** @return whether a lane of this name exists (being removed or not) */
    boolean contains(String name) {
        return byName.containsKey(name);
    }

    /**
     * @param name a lane name
     * @return the lane
     * @throws IllegalArgumentException naming the lanes if there is none of that name
     */
    LaneRun get(String name) {
        LaneRun lane = byName.get(name);
        if (lane == null) {
            throw new IllegalArgumentException("no lane '" + name + "'; lanes are " + byName.keySet());
        }
        return lane;
    }

    /**
     * Adds a lane; {@link #subscribe()} tells the queue.
     *
     * @throws IllegalArgumentException if it exists or its dedicated permits do not fit
     */
    void add(LaneSpec spec, Sink sink) {
        if (byName.containsKey(spec.name())) {
            throw new IllegalArgumentException("lane '" + spec.name() + "' exists already");
        }
        LaneRun lane = new LaneRun(spec, sink, context, scheduler, ids.forSink(sink));
        byName.put(spec.name(), lane);
        metrics.register(lane.stats);
        publishList();
    }

    /** Adds a lane at run time and tells the queue. */
    void addNow(LaneSpec spec, Sink sink) {
        add(spec, sink);
        subscribe();
    }

    /**
     * Declares the served lanes to the queue. A refusal (a broker that does not answer, a topic the backend may not
     * create) is not thrown: it is published for {@link Relay#health()} and logged once, the subscription stays
     * pending, and {@link #retrySubscription()} tries again at every housekeeping turn until it succeeds.
     */
    void subscribe() {
        Set<String> served = served();
        try {
            queue.subscribe(served);
        } catch (RuntimeException e) {
            subscriptionPending = true;
            stats.subscribeFailure = "subscribing to lanes " + new java.util.TreeSet<>(served) + " failed: " + e;
            if (stats.subscribeFailingSince == Long.MIN_VALUE) {
                LOG.error("subscribing to the lanes {} failed; the relay tries again every idle poll interval and reports "
                        + "it in health()", served, e);
                stats.subscribeFailingSince = turn.now();
                notify.subscriptionFailed(served, e); // once per stretch of refusals, as the log
            } else {
                LOG.debug("subscribing to the lanes {} failed again", served, e);
            }
            return;
        }
        subscriptionPending = false;
        stats.subscribedOnce = true;
        if (stats.subscribeFailingSince != Long.MIN_VALUE) {
            LOG.info("subscribing to the lanes {} worked", served);
            stats.subscribeFailingSince = Long.MIN_VALUE;
            notify.subscribed(served);
        }
    }

    /** Subscribes again if the last subscription failed (housekeeping). */
    void retrySubscription() {
        if (subscriptionPending) {
            subscribe();
        }
    }

    /**
     * Makes a new delivery its id's active run, or parks it.
     *
     * @return true if it is active (to be buffered)
     */
    boolean claim(TaskRun run) {
        return ids.claim(run);
    }

    /** An active run completed (sink committed, ledger recorded): its parked deliveries complete with it. */
    void completed(TaskRun run) {
        Leases.completeChain(ids.end(run));
    }

    /** An active run's lease ended otherwise: its parked deliveries go back to their queues. */
    void ended(TaskRun run) {
        Leases.releaseChain(ids.end(run));
    }

    /** Gives a buffered, refused or abandoned run back: lease released, id freed, parked ones released. */
    void giveBack(TaskRun run) {
        Leases.release(run);
        ended(run);
    }

    private void giveBack(List<TaskRun> buffered, LaneRun lane) {
        for (TaskRun r : buffered) {
            giveBack(r);
        }
        for (TaskRun p : ids.unparkLane(lane)) {
            Leases.release(p);
        }
        turn.touch(lane);
    }

    void pause(String name) {
        LaneRun lane = get(name);
        giveBack(lane.pause(), lane);
    }

    void resume(String name) {
        LaneRun lane = get(name);
        lane.resume();
        turn.touch(lane);
    }

    /** Suspends a failing lane and gives back what it holds. */
    void suspend(LaneRun lane) {
        giveBack(lane.suspend(), lane);
    }

    void update(LaneSpec spec) {
        LaneRun lane = get(spec.name());
        lane.update(spec);
        turn.touch(lane);
    }

    /** Changes a lane's weight, keeping the rest of its specification. */
    void reweight(String name, int weight) {
        LaneRun lane = get(name);
        lane.update(lane.spec.toBuilder().weight(weight).build());
        turn.touch(lane);
    }

    void drain(String name, CompletableFuture<Void> drained) {
        LaneRun lane = get(name);
        lane.drain(drained);
        settle(lane);
    }

    void remove(String name, CompletableFuture<Void> gone) {
        LaneRun lane = get(name);
        giveBack(lane.remove(gone), lane);
        settle(lane);
    }

    /** Every buffered and parked run goes back (the relay stops, or may use no permit at all). */
    void giveBackAll() {
        for (LaneRun lane : byName.values()) {
            for (TaskRun r : lane.takeBuffered()) {
                giveBack(r);
            }
            turn.touch(lane);
        }
        for (TaskRun p : ids.unparkAll()) {
            Leases.release(p);
        }
    }

    /** Completes the drain or removal of a lane that holds nothing any more. */
    void settle(LaneRun lane) {
        List<CompletableFuture<Void>> done = lane.settle();
        if (done == null) {
            return;
        }
        turn.touch(lane);
        if (lane.state() == LaneState.REMOVING && byName.remove(lane.name, lane)) {
            metrics.unregister(lane.stats);
            publishList();
            subscribe();
        }
        for (CompletableFuture<Void> f : done) {
            turn.completeAfterPublishing(f);
        }
    }

    /** Marks every lane for publishing at the end of the turn. */
    void touchAll() {
        for (LaneRun lane : byName.values()) {
            turn.touch(lane);
        }
    }

    private void publishList() {
        List<LaneStats> list = new ArrayList<>(byName.size());
        for (LaneRun l : byName.values()) {
            list.add(l.stats);
        }
        stats.lanes = List.copyOf(list);
    }

    /** @return active ids over all sinks (for tests of invariant 4) */
    int activeIds() {
        return ids.size();
    }
}
