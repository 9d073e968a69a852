package dev.relay.core.plan;

import static com.google.common.base.Preconditions.checkArgument;

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
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Plans a backfill of a range of windows over a set of series — say two weeks of 10-minute windows in nine
 * districts, about 18,000 tasks — lazily: each {@link #planMore()} offers only as many tasks as keep the
 * lane's {@linkplain TaskQueue#backlog backlog} within {@code chunk}, oldest window first across all series,
 * skipping windows the ledger already holds as completed. A backfill of any size thus takes bounded room
 * in the queue, and it can be {@linkplain #cancel() cancelled} at any point. The chunk bounds the lane's whole
 * backlog, so tasks others put in the same lane (the ticker's old windows) count against it too. Keep the
 * chunk within the queue's capacity per lane, if it has one.
 *
 * <p>Its {@link #progress()} reports what was planned, skipped and completed, and estimates the finish from
 * the completion rate observed since the planner was built. Its {@link #manifest()} lists the dates of the
 * windows it offered, for downstream reprocessing.
 *
 * <p>The planner starts no thread: call {@link #planMore()} periodically (e.g. every few seconds, or when
 * the lane's backlog drops). It keeps its position in memory; a restarted planner over the same range skips
 * what the ledger holds as completed and re-offers what was queued but not completed (same task ids).
 *
 * <p>This class is threadsafe: its methods are serialized by an internal lock.
 */
public final class BackfillPlanner {

    /** The backfill lane unless configured. */
    public static final String DEFAULT_LANE = "backfill";
    /** The backlog up to which the planner fills its lane, unless configured. */
    public static final int DEFAULT_CHUNK = 500;

    private static final Logger LOG = LoggerFactory.getLogger(BackfillPlanner.class);

    /** Where a backfill stands. */
    public enum State {
        /** Windows remain to be offered. */
        PLANNING,
        /** Every window was offered or skipped; some are not completed yet. */
        PLANNED,
        /** Every window of the range is completed. */
        DONE,
        /** Cancelled: nothing more is offered (tasks already queued stay queued). */
        CANCELLED
    }

    /**
     * A progress report. Immutable.
     *
     * @param total windows in the range, over all series
     * @param planned windows offered by this planner
     * @param skipped windows not offered because the ledger already held them when the planner reached them
     * @param done windows of the range completed now (whoever planned them)
     * @param remaining windows of the range not completed now
     * @param estimatedFinish when the remaining windows should be completed at the rate observed since the
     *     planner was built; empty until some completion has been observed, or when done or cancelled
     * @param state the state
     */
    public record Progress(long total, long planned, long skipped, long done, long remaining,
                           Optional<Instant> estimatedFinish, State state) {
    }

    private final List<SeriesKey> series;
    private final LocalGrid grid;
    private final LocalDateTime from;
    private final LocalDateTime to;
    private final String lane;
    private final TaskQueue queue;
    private final PlanningLedger ledger;
    private final Clock clock;

    private final Object lock = new Object();
    /** Guarded by {@link #lock}. */
    private final List<CompletionPage> pages = new ArrayList<>();
    /** Guarded by {@link #lock}. */
    private final LaneBudget budget;
    /** Guarded by {@link #lock}. */
    private final BackfillManifest.Builder manifest = BackfillManifest.builder();
    /** Guarded by {@link #lock}: the next window start and series index to consider. */
    private LocalDateTime cursor;
    /** Guarded by {@link #lock}. */
    private int cursorSeries;
    /** Guarded by {@link #lock}. */
    private long planned;
    /** Guarded by {@link #lock}. */
    private long skipped;
    /** Guarded by {@link #lock}. */
    private boolean cancelled;
    /** Guarded by {@link #lock}: the first observation of completed windows, for the rate. */
    private Instant firstSeenAt;
    /** Guarded by {@link #lock}. */
    private long firstSeenDone = -1;

    private BackfillPlanner(Builder b, LocalGrid grid, LocalDateTime from, LocalDateTime to) {
        this.series = List.copyOf(b.series);
        this.grid = grid;
        this.from = from;
        this.to = to;
        this.lane = b.lane;
        this.queue = b.queue;
        this.ledger = b.ledger;
        this.clock = b.clock;
        this.budget = new LaneBudget(queue, lane, b.chunk, ledger);
        this.cursor = from;
        for (SeriesKey k : series) {
            pages.add(new CompletionPage(ledger, k, grid));
        }
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Offers the next windows, up to the lane's chunk budget. Does nothing once cancelled or fully planned.
     * If the queue or ledger fails, the exception propagates and the planner resumes at the failed window.
     *
     * @return the number of tasks offered by this call
     */
    public long planMore() {
        synchronized (lock) {
            if (cancelled || !cursor.isBefore(to)) {
                return 0;
            }
            if (firstSeenAt == null) {
                observe(clock.instant()); // the baseline of the completion rate
            }
            int capacity = budget.capacity();
            List<Task> batch = new ArrayList<>();
            List<LocalDateTime> starts = new ArrayList<>();
            List<Integer> seriesAt = new ArrayList<>();
            List<Window> windows = new ArrayList<>();
            List<Integer> skipsAt = new ArrayList<>(); // for each completed window passed: tasks batched before it
            while (batch.size() < capacity && cursor.isBefore(to)) {
                SeriesKey s = series.get(cursorSeries);
                if (pages.get(cursorSeries).isCompleted(cursor)) {
                    skipsAt.add(batch.size());
                } else {
                    Window w = grid.windowAt(cursor);
                    batch.add(s.task(lane, w));
                    starts.add(cursor);
                    seriesAt.add(cursorSeries);
                    windows.add(w);
                }
                if (++cursorSeries == series.size()) {
                    cursorSeries = 0;
                    cursor = cursor.plus(grid.size());
                }
            }
            BatchOffer result = BatchOffer.offer(queue, batch);
            // resume at the first window not accepted (windows accepted after it are offered again: harmless)
            int accepted = batch.size();
            for (int i = 0; i < batch.size(); i++) {
                if (result.notAccepted().contains(batch.get(i))) {
                    accepted = i;
                    cursor = starts.get(i);
                    cursorSeries = seriesAt.get(i);
                    break;
                }
            }
            for (int i = 0; i < accepted; i++) {
                budget.offered(batch.get(i));
                manifest.add(series.get(seriesAt.get(i)), windows.get(i));
            }
            planned += accepted;
            for (int before : skipsAt) { // completed windows passed before the resume point stay skipped
                if (before <= accepted) {
                    skipped++;
                }
            }
            result.rethrow();
            if (!cursor.isBefore(to)) {
                LOG.info("backfill [{}, {}) of {} series fully planned: {} offered, {} already completed", from, to,
                        series.size(), planned, skipped);
            }
            return accepted;
        }
    }

    /** Stops planning; tasks already offered stay in the queue. Idempotent. */
    public void cancel() {
        synchronized (lock) {
            if (!cancelled) {
                cancelled = true;
                LOG.info("backfill [{}, {}) cancelled at {} after {} offered", from, to, cursor, planned);
            }
        }
    }

    /** @return whether {@link #cancel()} was called */
    public boolean isCancelled() {
        synchronized (lock) {
            return cancelled;
        }
    }

    /**
     * Reads the ledger and reports progress.
     *
     * @return the progress now
     */
    public Progress progress() {
        synchronized (lock) {
            Instant now = clock.instant();
            long done = observe(now);
            long total = total();
            long remaining = total - done;
            State state = cancelled ? State.CANCELLED
                    : remaining == 0 ? State.DONE
                    : cursor.isBefore(to) ? State.PLANNING : State.PLANNED;
            Optional<Instant> eta = Optional.empty();
            long progressed = done - firstSeenDone;
            long elapsedMillis = Duration.between(firstSeenAt, now).toMillis();
            if ((state == State.PLANNING || state == State.PLANNED) && progressed > 0 && elapsedMillis > 0) {
                double millisPerWindow = (double) elapsedMillis / progressed;
                eta = Optional.of(now.plusMillis((long) Math.ceil(millisPerWindow * remaining)));
            }
            return new Progress(total, planned, skipped, done, remaining, eta, state);
        }
    }

    // Guarded by lock. Counts completed windows of the range and remembers the first observation.
    private long observe(Instant now) {
        long done = 0;
        Window range = new Window(from, to);
        for (SeriesKey k : series) {
            done += ledger.countCompleted(k, range);
        }
        if (firstSeenAt == null) {
            firstSeenAt = now;
            firstSeenDone = done;
        }
        return done;
    }

    /** @return the number of windows in the range over all series */
    public long total() {
        return grid.count(from, to) * series.size();
    }

    /** @return the (aligned) range this planner backfills */
    public Window range() {
        return new Window(from, to);
    }

    /** @return the dates of the windows offered so far */
    public BackfillManifest manifest() {
        synchronized (lock) {
            return manifest.build();
        }
    }

    @Override
    public String toString() {
        return "BackfillPlanner[" + series.size() + " series, " + from + "/" + to + " in windows of " + grid.size()
                + " into lane '" + lane + "']";
    }

    /**
     * Builds a {@link BackfillPlanner}. Not threadsafe; reusable after {@link #build()}. Required: series,
     * range, window size, queue and ledger.
     */
    public static final class Builder {
        private final Set<SeriesKey> series = new LinkedHashSet<>();
        private LocalDateTime from;
        private LocalDateTime to;
        private Duration windowSize;
        private String lane = DEFAULT_LANE;
        private int chunk = DEFAULT_CHUNK;
        private TaskQueue queue;
        private PlanningLedger ledger;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /**
         * @param series series to backfill (added to those already set)
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
         * @param series series to backfill
         * @return this builder
         */
        public Builder series(SeriesKey... series) {
            return series(List.of(series));
        }

        /**
         * @param from the first source-local time to backfill (widened down to a window start)
         * @param to the end, excluded (widened up to a window end)
         * @return this builder
         */
        public Builder range(LocalDateTime from, LocalDateTime to) {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            checkArgument(to.isAfter(from), "backfill range end %s must be after its start %s", to, from);
            this.from = from;
            this.to = to;
            return this;
        }

        /**
         * @param windowSize the window length: whole seconds dividing a day
         * @return this builder
         */
        public Builder windowSize(Duration windowSize) {
            this.windowSize = LocalGrid.requireWindowSize(windowSize);
            return this;
        }

        /**
         * @param lane the lane to plan into
         * @return this builder
         */
        public Builder lane(String lane) {
            this.lane = Names.requireLane(lane);
            return this;
        }

        /**
         * @param chunk the lane backlog up to which the planner offers tasks, 1 to 1,000,000
         * @return this builder
         */
        public Builder chunk(int chunk) {
            checkArgument(chunk >= 1 && chunk <= 1_000_000, "chunk must be within [1, 1000000] but was %s", chunk);
            this.chunk = chunk;
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
         * @param ledger the ledger of completed windows
         * @return this builder
         */
        public Builder ledger(PlanningLedger ledger) {
            this.ledger = Objects.requireNonNull(ledger, "ledger");
            return this;
        }

        /**
         * @param clock the clock for progress estimates; {@link Clock#systemUTC()} unless set
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @return the planner
         * @throws IllegalStateException naming the missing setting
         */
        public BackfillPlanner build() {
            if (series.isEmpty()) {
                throw new IllegalStateException("no series set: call series(...) with at least one SeriesKey");
            }
            if (from == null) {
                throw new IllegalStateException("range is required: call range(from, to)");
            }
            if (windowSize == null) {
                throw new IllegalStateException("windowSize is required but was not set");
            }
            if (queue == null) {
                throw new IllegalStateException("queue is required but was not set");
            }
            if (ledger == null) {
                throw new IllegalStateException("ledger is required but was not set");
            }
            // the zone plays no part: a backfill plans every grid window of the range, gap hours included
            LocalGrid grid = LocalGrid.of(windowSize, ZoneOffset.UTC);
            return new BackfillPlanner(this, grid, grid.alignDown(from), grid.alignUp(to));
        }
    }
}
