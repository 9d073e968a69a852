package dev.relay.core.plan;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;

import dev.relay.api.PlanningLedger;
import dev.relay.api.Names;
import dev.relay.api.SeriesKey;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Plans daily {@link Snapshot} tasks (for example the six PeMS config tables) at a local time of day, at most
 * once per day.
 *
 * <p><b>When.</b> The snapshot of day {@code D} is due at {@code D} + time of day in the zone. A time of day
 * inside a spring-forward gap is due at the first valid instant after the gap (02:30 on the spring day is
 * due at 03:00); a time inside the repeated autumn hour is due at its first occurrence. Each
 * {@link #tick()} plans the snapshots of the latest due day only: a snapshot shows the table as it is when
 * pulled, so after downtime missed days are not planned (their data is gone), but the latest day is, at once.
 *
 * <p><b>At most once.</b> Before offering, the schedule asks the ledger whether the day's task is completed
 * or was {@linkplain PlanningLedger#recordPlanned marked planned}; after offering it marks it planned. A
 * restart (a new schedule over the same ledger) within the snapshot hour therefore plans nothing again.
 * Only a task marked planned longer than {@link Builder#replanAfter(Duration) replanAfter} ago and still
 * not completed is offered again (its queue may have lost it, e.g. an in-memory queue across a restart);
 * the task id is the same, so even that repeat is harmless. Two schedules over one shared ledger (two relay
 * instances) that tick at the same instant may both offer the day's snapshot before either marks it; again
 * the same id makes that harmless where the queue or the sink deduplicates.
 *
 * <p>The schedule starts no thread: call {@link #tick()} periodically (every minute is plenty), or schedule
 * the next call at {@link #nextDue()}. This class is threadsafe: methods are serialized by an internal lock.
 */
public final class SnapshotSchedule {

    /** The snapshot lane unless configured. */
    public static final String DEFAULT_LANE = "config";
    /** How long a planned, not completed snapshot waits before it is offered again, unless configured. */
    public static final Duration DEFAULT_REPLAN_AFTER = Duration.ofHours(6);

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotSchedule.class);

    private final List<SeriesKey> tables;
    private final LocalTime timeOfDay;
    private final ZoneId zone;
    private final String lane;
    private final Duration replanAfter;
    private final TaskQueue queue;
    private final PlanningLedger ledger;
    private final Clock clock;
    private final LocalDate firstDay;
    private final Object lock = new Object();

    private SnapshotSchedule(Builder b) {
        this.tables = List.copyOf(b.tables);
        this.timeOfDay = b.timeOfDay;
        this.zone = b.zone;
        this.lane = b.lane;
        this.replanAfter = b.replanAfter;
        this.queue = b.queue;
        this.ledger = b.ledger;
        this.clock = b.clock;
        this.firstDay = b.firstDay;
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Offers the snapshots of the latest due day that are neither completed nor recently planned.
     *
     * @return the tasks offered, possibly none
     */
    public List<Task> tick() {
        synchronized (lock) {
            Instant now = clock.instant();
            LocalDate day = latestDueDay(now);
            List<Task> offered = new ArrayList<>();
            if (firstDay != null && day.isBefore(firstDay)) {
                return List.of();
            }
            for (SeriesKey table : tables) {
                Task task = table.task(lane, Snapshot.of(day));
                if (ledger.isCompleted(task.id())) {
                    continue;
                }
                Optional<Instant> planned = ledger.plannedAt(task.id());
                if (planned.isPresent() && now.isBefore(planned.get().plus(replanAfter))) {
                    continue;
                }
                if (planned.isPresent()) {
                    LOG.warn("snapshot {} of {} was planned at {} and is not completed after {}; offering it again",
                            table, day, planned.get(), replanAfter);
                }
                offered.add(task);
            }
            // one batch; the ledger records as planned exactly what the queue accepted
            BatchOffer result = BatchOffer.offer(queue, offered);
            offered.removeAll(result.notAccepted());
            for (Task task : offered) {
                ledger.recordPlanned(task, now);
            }
            result.rethrow();
            if (!offered.isEmpty()) {
                LOG.info("planned {} snapshots of {} into lane '{}'", offered.size(), day, lane);
            }
            return List.copyOf(offered);
        }
    }

    /**
     * @param day a source-local day
     * @return when that day's snapshot is due
     */
    public Instant dueAt(LocalDate day) {
        return LocalGrid.firstOccurrence(zone, day.atTime(timeOfDay));
    }

    /** @return the first due instant after now, to schedule the next {@link #tick()} */
    public Instant nextDue() {
        Instant now = clock.instant();
        LocalDate day = latestDueDay(now).plusDays(1);
        Instant due = dueAt(day);
        while (!due.isAfter(now)) {
            day = day.plusDays(1);
            due = dueAt(day);
        }
        return due;
    }

    /**
     * @param now an instant
     * @return the latest day whose snapshot is due at or before {@code now}
     */
    LocalDate latestDueDay(Instant now) {
        LocalDate day = LocalDate.ofInstant(now, zone).plusDays(1);
        while (dueAt(day).isAfter(now)) {
            day = day.minusDays(1);
        }
        return day;
    }

    /** @return the snapshot tables, in configuration order */
    public List<SeriesKey> tables() {
        return tables;
    }

    @Override
    public String toString() {
        return "SnapshotSchedule[" + tables.size() + " tables at " + timeOfDay + " " + zone + " into lane '" + lane + "']";
    }

    /**
     * Builds a {@link SnapshotSchedule}. Not threadsafe; reusable after {@link #build()}. Required: tables,
     * time of day, zone, queue and ledger.
     */
    public static final class Builder {
        private final Set<SeriesKey> tables = new LinkedHashSet<>();
        private LocalTime timeOfDay;
        private ZoneId zone;
        private String lane = DEFAULT_LANE;
        private Duration replanAfter = DEFAULT_REPLAN_AFTER;
        private TaskQueue queue;
        private PlanningLedger ledger;
        private Clock clock = Clock.systemUTC();
        private LocalDate firstDay;

        private Builder() {
        }

        /**
         * @param firstDay the first day whose snapshot may be planned; unless set, a schedule started for the
         *     first time plans the latest due day's snapshot at once (yesterday's, if started before today's
         *     time of day)
         * @return this builder
         */
        public Builder firstDay(LocalDate firstDay) {
            this.firstDay = Objects.requireNonNull(firstDay, "firstDay");
            return this;
        }

        /**
         * @param tables the series to snapshot, e.g. one per config table (added to those already set)
         * @return this builder
         * @throws IllegalArgumentException if a table was already added
         */
        public Builder tables(Collection<SeriesKey> tables) {
            for (SeriesKey t : tables) {
                checkArgument(this.tables.add(Objects.requireNonNull(t, "table")), "table %s was already added", t);
            }
            return this;
        }

        /**
         * @param tables the series to snapshot
         * @return this builder
         */
        public Builder tables(SeriesKey... tables) {
            return tables(List.of(tables));
        }

        /**
         * @param timeOfDay the local time the snapshots are due, e.g. 19:00
         * @param zone the zone it is in, e.g. {@code America/Los_Angeles}
         * @return this builder
         */
        public Builder at(LocalTime timeOfDay, ZoneId zone) {
            this.timeOfDay = Objects.requireNonNull(timeOfDay, "timeOfDay");
            this.zone = Objects.requireNonNull(zone, "zone");
            return this;
        }

        /**
         * @param lane the lane of the snapshot tasks
         * @return this builder
         */
        public Builder lane(String lane) {
            this.lane = Names.requireLane(lane);
            return this;
        }

        /**
         * @param replanAfter how long a planned snapshot may stay incomplete before it is offered again; at
         *     least one minute
         * @return this builder
         */
        public Builder replanAfter(Duration replanAfter) {
            Objects.requireNonNull(replanAfter, "replanAfter");
            checkArgument(replanAfter.compareTo(Duration.ofMinutes(1)) >= 0, "replanAfter must be at least PT1M but was %s", replanAfter);
            this.replanAfter = replanAfter;
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
         * @param ledger the ledger holding completions and planned marks
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
         * @return the schedule
         * @throws IllegalStateException naming the missing setting
         */
        public SnapshotSchedule build() {
            checkState(!tables.isEmpty(), "no tables set: call tables(...) with at least one SeriesKey");
            checkState(timeOfDay != null, "time of day is required: call at(LocalTime, ZoneId)");
            checkState(queue != null, "queue is required but was not set");
            checkState(ledger != null, "ledger is required but was not set");
            return new SnapshotSchedule(this);
        }
    }
}
