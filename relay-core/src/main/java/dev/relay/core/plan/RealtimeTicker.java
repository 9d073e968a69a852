package dev.relay.core.plan;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import dev.relay.api.PlanningLedger;
import dev.relay.api.Names;
import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.api.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Plans the windows of a set of series as they close: on every {@link #tick()}, the grid windows that have
 * closed (plus a lateness allowance) since the last tick go to the realtime lane; windows that closed longer
 * ago than the horizon — after downtime, a skipped tick or a clock jump — go to the backfill lane instead,
 * planned lazily so that the backfill lane's backlog stays within a chunk. After a three-day outage the
 * realtime lane therefore gets the last two hours only, and the realtime lane is never flooded (the
 * incident this library exists for).
 *
 * <p><b>State and restarts.</b> The ticker remembers, per series, the start of the next window it has not
 * planned yet. On its first tick it derives that from the ledger: the {@linkplain #watermark(SeriesKey)
 * watermark} (end of the contiguous completed prefix from the series start). Windows after the watermark
 * that the ledger holds as completed are skipped; windows that were planned before a restart but are not
 * completed yet are planned again, which is harmless: the task id is the same, and queues and sinks
 * deduplicate on it. Windows are never dropped: a window is either completed, or offered, or waiting in
 * the ticker's backfill ranges.
 *
 * <p><b>Time.</b> The ticker starts no thread. The embedding service calls {@link #tick()} periodically
 * (for example from a {@code ScheduledExecutorService} every minute); time comes from the injected
 * {@link Clock}. See the package documentation for when a window is closed across DST changes.
 *
 * <p>This class is threadsafe: its methods are serialized by an internal lock, so {@code tick()} may run on
 * a scheduler thread while another thread reads {@link #watermark(SeriesKey)} or {@link #manifest()}.
 *
 * <p>Size: just above the package's ~500 lines, a fifth of them documentation; the rest is one state (each series'
 * next unplanned window and backfill ranges) with its builder, kept in one class behind one lock.
 */
public final class RealtimeTicker {

    /** The realtime lane unless configured. */
    public static final String DEFAULT_REALTIME_LANE = "realtime";
    /** The backfill lane unless configured. */
    public static final String DEFAULT_BACKFILL_LANE = "backfill";
    /** How long after closing a window still goes to the realtime lane, unless configured. */
    public static final Duration DEFAULT_HORIZON = Duration.ofHours(2);
    /** The backfill lane backlog the ticker fills up to, unless configured. */
    public static final int DEFAULT_BACKFILL_CHUNK = 500;

    private static final Logger LOG = LoggerFactory.getLogger(RealtimeTicker.class);

    private final LocalGrid grid;
    private final LocalDateTime seriesStart;
    private final Duration lateness;
    private final Duration horizon;
    private final String realtimeLane;
    private final String backfillLane;
    private final TaskQueue queue;
    private final PlanningLedger ledger;
    private final Clock clock;

    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private final Map<SeriesKey, SeriesState> states = new LinkedHashMap<>();
    /** Guarded by {@link #lock}. */
    private final LaneBudget backfillBudget;
    /** Guarded by {@link #lock}. */
    private final BackfillManifest.Builder manifest = BackfillManifest.builder();
    /** Guarded by {@link #lock}. */
    private long realtimeTotal;
    /** Guarded by {@link #lock}. */
    private long backfillTotal;

    private RealtimeTicker(Builder b, List<SeriesKey> series) {
        this.grid = LocalGrid.of(b.windowSize, b.zone);
        this.seriesStart = b.seriesStart;
        this.lateness = b.lateness;
        this.horizon = b.horizon;
        this.realtimeLane = b.realtimeLane;
        this.backfillLane = b.backfillLane;
        this.queue = b.queue;
        this.ledger = b.ledger;
        this.clock = b.clock;
        this.backfillBudget = new LaneBudget(queue, backfillLane, b.backfillChunk, ledger);
        for (SeriesKey k : series) {
            states.put(k, new SeriesState(k));
        }
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * What one tick (or all ticks) offered. Immutable.
     *
     * @param realtime windows offered to the realtime lane
     * @param backfill windows offered to the backfill lane
     */
    public record Planned(long realtime, long backfill) {
        /** @return all windows offered */
        public long total() {
            return realtime + backfill;
        }
    }

    /**
     * Plans what has closed since the last tick. Call it periodically; calling it more often than windows
     * close is cheap and plans nothing twice. The tick's tasks, realtime and backfill, go to the queue in one
     * {@link TaskQueue#offerAll batch}.
     *
     * <p>If the queue or the ledger fails, the exception propagates and each series' state goes back to its
     * first window that was not accepted, so the next tick continues from there (a window accepted after it is
     * offered again, which is harmless: same task id).
     *
     * @return what this tick offered
     */
    public Planned tick() {
        synchronized (lock) {
            Instant now = clock.instant();
            // windows starting before closedEnd have closed (with lateness); those starting at or after
            // recentFrom closed within the horizon and still count as realtime
            LocalDateTime closedEnd = grid.firstStartClosingAfter(now.minus(lateness));
            LocalDateTime recentFrom = grid.firstStartClosingAfter(now.minus(horizon));
            long routed = 0;
            List<Planning> batch = new ArrayList<>();
            for (SeriesState s : states.values()) {
                if (s.next == null) {
                    s.watermark = s.watermarkPage.firstMissingFrom(seriesStart);
                    s.next = s.watermark;
                    LOG.debug("series {}: watermark {} (series start {}), planning from there", s.key, s.watermark, seriesStart);
                }
                if (s.next.isBefore(recentFrom)) {
                    LOG.debug("series {}: {} windows [{}, {}) closed more than {} ago; they go to lane '{}'",
                            s.key, grid.count(s.next, recentFrom), s.next, recentFrom, horizon, backfillLane);
                    routed += grid.count(s.next, recentFrom);
                    s.pending.add(new LocalDateTime[] {s.next, recentFrom});
                    s.next = recentFrom;
                }
                while (s.next.isBefore(closedEnd)) {
                    if (!s.realtimePage.isCompleted(s.next)) {
                        batch.add(new Planning(task(realtimeLane, s.key, s.next), s, s.next, false));
                    }
                    s.next = s.next.plus(grid.size());
                }
            }
            if (routed > 0) {
                LOG.info("{} windows of {} series closed more than {} ago (downtime?); they go to lane '{}', at most {} queued at a time",
                        routed, states.size(), horizon, backfillLane, backfillBudget.chunk());
            }
            Map<SeriesState, ArrayDeque<LocalDateTime[]>> pendingBefore = new IdentityHashMap<>();
            planBackfill(batch, pendingBefore);
            List<Task> tasks = new ArrayList<>(batch.size());
            batch.forEach(p -> tasks.add(p.task));
            BatchOffer offered = BatchOffer.offer(queue, tasks);
            Set<Task> notAccepted = offered.notAccepted();
            // a series goes back to its first window not accepted; what it offered before that counts
            Map<SeriesState, LocalDateTime> realtimeBack = new IdentityHashMap<>();
            Map<SeriesState, LocalDateTime> backfillBack = new IdentityHashMap<>();
            for (Planning p : batch) {
                if (notAccepted.contains(p.task)) {
                    (p.backfill ? backfillBack : realtimeBack).putIfAbsent(p.series, p.start);
                }
            }
            long realtime = 0;
            long backfill = 0;
            for (Planning p : batch) {
                LocalDateTime back = (p.backfill ? backfillBack : realtimeBack).get(p.series);
                if (back != null && !p.start.isBefore(back)) {
                    continue;
                }
                if (p.backfill) {
                    backfillBudget.offered(p.task);
                    manifest.add(p.series.key, p.task.window().orElseThrow());
                    backfill++;
                } else {
                    realtime++;
                }
            }
            realtimeTotal += realtime;
            backfillTotal += backfill;
            realtimeBack.forEach((s, start) -> s.next = start);
            backfillBack.forEach((s, start) -> {
                s.pending.clear();
                for (LocalDateTime[] r : pendingBefore.get(s)) {
                    if (r[1].isAfter(start)) {
                        s.pending.add(new LocalDateTime[] {r[0].isBefore(start) ? start : r[0], r[1]});
                    }
                }
            });
            offered.rethrow();
            return new Planned(realtime, backfill);
        }
    }

    /** One task of a tick's batch, and where it came from. */
    private record Planning(Task task, SeriesState series, LocalDateTime start, boolean backfill) {
    }

    // Guarded by lock. Oldest window first across all series, up to the backfill lane's budget. Remembers
    // each series' pending ranges as they were before, to wind back what the queue does not accept.
    private void planBackfill(List<Planning> batch, Map<SeriesState, ArrayDeque<LocalDateTime[]>> pendingBefore) {
        int capacity = backfillBudget.capacity();
        long offered = 0;
        while (offered < capacity) {
            SeriesState pick = null;
            for (SeriesState s : states.values()) {
                if (!s.pending.isEmpty() && (pick == null || s.pending.peek()[0].isBefore(pick.pending.peek()[0]))) {
                    pick = s;
                }
            }
            if (pick == null) {
                break;
            }
            pendingBefore.computeIfAbsent(pick, RealtimeTicker::copyOf);
            LocalDateTime[] range = pick.pending.peek();
            LocalDateTime start = range[0];
            if (!pick.backfillPage.isCompleted(start)) {
                batch.add(new Planning(task(backfillLane, pick.key, start), pick, start, true));
                offered++;
            }
            range[0] = start.plus(grid.size());
            if (!range[0].isBefore(range[1])) {
                pick.pending.poll();
            }
        }
    }

    private static ArrayDeque<LocalDateTime[]> copyOf(SeriesState s) {
        ArrayDeque<LocalDateTime[]> copy = new ArrayDeque<>();
        for (LocalDateTime[] r : s.pending) {
            copy.add(r.clone());
        }
        return copy;
    }

    private Task task(String lane, SeriesKey series, LocalDateTime start) {
        return series.task(lane, grid.windowAt(start));
    }

    /**
     * The end of the contiguous completed prefix of a series from the series start, read from the ledger
     * (advanced from the last known value, so repeated calls are cheap).
     *
     * @param series one of the ticker's series
     * @return the watermark: every grid window of the series ending at or before it is completed
     * @throws IllegalArgumentException if the series is not one of this ticker's
     */
    public LocalDateTime watermark(SeriesKey series) {
        synchronized (lock) {
            SeriesState s = state(series);
            s.watermarkPage.invalidate();
            s.watermark = s.watermarkPage.firstMissingFrom(s.watermark == null ? seriesStart : s.watermark);
            return s.watermark;
        }
    }

    /** @return the watermark of every series, in configuration order */
    public Map<SeriesKey, LocalDateTime> watermarks() {
        synchronized (lock) {
            Map<SeriesKey, LocalDateTime> out = new LinkedHashMap<>();
            for (SeriesKey k : states.keySet()) {
                out.put(k, watermark(k));
            }
            return Collections.unmodifiableMap(out);
        }
    }

    /** @return how many windows wait in the ticker's backfill ranges, not yet offered (some may be completed) */
    public long backfillPending() {
        synchronized (lock) {
            long n = 0;
            for (SeriesState s : states.values()) {
                for (LocalDateTime[] r : s.pending) {
                    n += grid.count(r[0], r[1]);
                }
            }
            return n;
        }
    }

    /** @return the windows offered since this ticker was built, per lane */
    public Planned totals() {
        synchronized (lock) {
            return new Planned(realtimeTotal, backfillTotal);
        }
    }

    /**
     * The dates of the windows this ticker sent to the backfill lane (since it was built), for downstream
     * reprocessing. Realtime windows are not in it.
     *
     * @return the manifest
     */
    public BackfillManifest manifest() {
        synchronized (lock) {
            return manifest.build();
        }
    }

    /** @return the series, in configuration order */
    public List<SeriesKey> series() {
        return List.copyOf(states.keySet());
    }

    private SeriesState state(SeriesKey series) {
        SeriesState s = states.get(Objects.requireNonNull(series, "series"));
        if (s == null) {
            throw new IllegalArgumentException("series " + series + " is not planned by this ticker; its series are " + states.keySet());
        }
        return s;
    }

    @Override
    public String toString() {
        return "RealtimeTicker[" + states.size() + " series, windows " + grid.size() + " in " + grid.zone()
                + ", lateness " + lateness + ", horizon " + horizon + ", lanes " + realtimeLane + "/" + backfillLane + "]";
    }

    /** Per-series state; guarded by the ticker's lock. */
    private final class SeriesState {
        final SeriesKey key;
        final CompletionPage realtimePage;
        final CompletionPage backfillPage;
        final CompletionPage watermarkPage;
        /** Ranges {@code [from, to)} of window starts to plan into the backfill lane, oldest first. */
        final ArrayDeque<LocalDateTime[]> pending = new ArrayDeque<>();
        /** Start of the next window not yet routed; null until the first tick derives it from the ledger. */
        LocalDateTime next;
        LocalDateTime watermark;

        SeriesState(SeriesKey key) {
            this.key = key;
            this.realtimePage = new CompletionPage(ledger, key, grid);
            this.backfillPage = new CompletionPage(ledger, key, grid);
            this.watermarkPage = new CompletionPage(ledger, key, grid);
        }
    }

    /**
     * Builds a {@link RealtimeTicker}. Not threadsafe; {@link #build()} copies the settings, so a builder may
     * be reused. Required: series, window size, zone, series start, queue and ledger.
     */
    public static final class Builder {
        private final Set<SeriesKey> series = new LinkedHashSet<>();
        private Duration windowSize;
        private ZoneId zone;
        private LocalDateTime seriesStart;
        private Duration lateness = Duration.ZERO;
        private Duration horizon = DEFAULT_HORIZON;
        private String realtimeLane = DEFAULT_REALTIME_LANE;
        private String backfillLane = DEFAULT_BACKFILL_LANE;
        private int backfillChunk = DEFAULT_BACKFILL_CHUNK;
        private TaskQueue queue;
        private PlanningLedger ledger;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /**
         * @param series series to plan (added to those already set)
         * @return this builder
         * @throws IllegalArgumentException if a series was already added
         */
        public Builder series(Collection<SeriesKey> series) {
            for (SeriesKey k : series) {
                checkArgument(this.series.add(Objects.requireNonNull(k, "series")), "series %s was already added", k);
            }
            return this;
        }

        /**
         * @param series series to plan (added to those already set)
         * @return this builder
         */
        public Builder series(SeriesKey... series) {
            return series(List.of(series));
        }

        /**
         * @param windowSize the window length: whole seconds dividing a day, e.g. {@code PT10M}
         * @return this builder
         */
        public Builder windowSize(Duration windowSize) {
            this.windowSize = LocalGrid.requireWindowSize(windowSize);
            return this;
        }

        /**
         * @param zone the zone of the source's wall-clock times, e.g. {@code America/Los_Angeles} for PeMS
         * @return this builder
         */
        public Builder zone(ZoneId zone) {
            this.zone = Objects.requireNonNull(zone, "zone");
            return this;
        }

        /**
         * @param seriesStart the first window start of every series (source-local, aligned to the window
         *     size); the watermark counts from here, so nothing before it is ever planned. The first tick after
         *     a start reads the ledger from here in pages of a week of windows, so a start years back costs a
         *     few hundred reads once; use a {@link BackfillPlanner} for history before the relay went live
         *     rather than an early series start
         * @return this builder
         */
        public Builder seriesStart(LocalDateTime seriesStart) {
            this.seriesStart = Objects.requireNonNull(seriesStart, "seriesStart");
            return this;
        }

        /**
         * @param lateness how long after a window closes it is planned, for late-arriving rows; not negative
         * @return this builder
         */
        public Builder lateness(Duration lateness) {
            Objects.requireNonNull(lateness, "lateness");
            checkArgument(!lateness.isNegative(), "lateness must not be negative but was %s", lateness);
            this.lateness = lateness;
            return this;
        }

        /**
         * @param horizon windows that closed longer ago than this go to the backfill lane; longer than the lateness
         * @return this builder
         */
        public Builder horizon(Duration horizon) {
            Objects.requireNonNull(horizon, "horizon");
            checkArgument(!horizon.isNegative() && !horizon.isZero(), "horizon must be positive but was %s", horizon);
            this.horizon = horizon;
            return this;
        }

        /**
         * @param lane the lane of freshly closed windows
         * @return this builder
         */
        public Builder realtimeLane(String lane) {
            this.realtimeLane = Names.requireLane(lane);
            return this;
        }

        /**
         * @param lane the lane of windows older than the horizon
         * @return this builder
         */
        public Builder backfillLane(String lane) {
            this.backfillLane = Names.requireLane(lane);
            return this;
        }

        /**
         * @param chunk the backfill lane backlog up to which the ticker offers old windows, at least 1
         * @return this builder
         */
        public Builder backfillChunk(int chunk) {
            checkArgument(chunk >= 1, "backfillChunk must be at least 1 but was %s", chunk);
            this.backfillChunk = chunk;
            return this;
        }

        /**
         * @param queue where tasks are offered
         * @return this builder
         */
        public Builder queue(TaskQueue queue) {
            this.queue = Objects.requireNonNull(queue, "queue");
            return this;
        }

        /**
         * @param ledger the completion ledger the watermark is derived from
         * @return this builder
         */
        public Builder ledger(PlanningLedger ledger) {
            this.ledger = Objects.requireNonNull(ledger, "ledger");
            return this;
        }

        /**
         * @param clock the clock; {@link Clock#systemUTC()} unless set
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @return the ticker
         * @throws IllegalStateException naming the setting that is missing or inconsistent
         */
        public RealtimeTicker build() {
            checkState(!series.isEmpty(), "no series set: call series(...) with at least one SeriesKey");
            require(windowSize, "windowSize");
            require(zone, "zone");
            require(seriesStart, "seriesStart");
            require(queue, "queue");
            require(ledger, "ledger");
            LocalGrid grid = LocalGrid.of(windowSize, zone);
            if (!grid.isAligned(seriesStart)) {
                throw new IllegalStateException("seriesStart " + seriesStart + " is not aligned to the window size "
                        + windowSize + " (nearest earlier start: " + grid.alignDown(seriesStart) + ")");
            }
            checkState(horizon.compareTo(lateness) > 0,
                    "horizon %s must be longer than the lateness %s, or no window would ever reach the realtime lane", horizon, lateness);
            checkState(!realtimeLane.equals(backfillLane), "realtime and backfill lanes must differ but both are '%s'", realtimeLane);
            return new RealtimeTicker(this, new ArrayList<>(series));
        }

        private static void require(Object value, String name) {
            checkState(value != null, "%s is required but was not set", name);
        }
    }
}
