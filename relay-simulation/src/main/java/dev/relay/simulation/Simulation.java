package dev.relay.simulation;

import dev.relay.api.Column;
import dev.relay.api.Puller;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.core.ControlExecutor;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

/**
 * A deterministic discrete-event simulation that drives the real {@link dev.relay.core.Relay} engine and its
 * {@link dev.relay.core.FairScheduler} on a {@link VirtualClock}.
 *
 * <p>The simulation is the engine's {@link #control() control executor} and {@link #workers() worker
 * executor} at once, and runs every event on the calling thread in (time, sequence) order, so a run with the
 * same seed is the same run. A worker's pull → sink runs at the instant it was dispatched, in zero virtual time;
 * the {@link #puller simulated puller} names how long the task <em>would</em> have held the source, and every
 * control turn the work submits (its completion) is delivered that much later. The engine therefore sees the
 * permit held for exactly the simulated duration. Weeks of virtual time replay in seconds.
 *
 * <pre>{@code
 * Simulation sim = new Simulation(Instant.parse("2024-06-01T00:00:00Z"), 42);
 * InMemoryTaskQueue queue = sim.queue();
 * Relay relay = Relay.builder().queue(queue).puller(sim.puller(durations, rows)).sink(sim.sink())
 *         .lane(LaneSpec.of("realtime")).clock(sim.clock()).control(sim.control()).workers(sim.workers())
 *         .random(sim.random()).build().start();
 * sim.at(sim.now().plusSeconds(60), () -> queue.offer(task));
 * sim.runUntil(sim.now().plus(Duration.ofDays(14)));
 * }</pre>
 *
 * <p><b>Not threadsafe.</b> One thread builds and runs a simulation; the engine's turns run on it.
 */
public final class Simulation {

    private final VirtualClock clock;
    private final SplittableRandom random;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private long seq;
    private boolean inWork;
    private Duration workDuration = Duration.ZERO;
    private long eventsRun;

    /**
     * @param start the virtual start time
     * @param seed the seed of every random choice the simulation makes
     */
    public Simulation(Instant start, long seed) {
        this.clock = new VirtualClock(start);
        this.random = new SplittableRandom(seed);
    }

    /** @return the virtual clock */
    public VirtualClock clock() {
        return clock;
    }

    /** @return the virtual time now */
    public Instant now() {
        return clock.instant();
    }

    /** @return seeded uniform values in [0, 1), for the engine's retry jitter */
    public DoubleSupplier random() {
        SplittableRandom r = random.split();
        return r::nextDouble;
    }

    /** @return a new independent seeded random for the scenario's own choices */
    public SplittableRandom split() {
        return random.split();
    }

    /** @return an in-memory queue on the virtual clock with a one-day lease timeout */
    public InMemoryTaskQueue queue() {
        return InMemoryTaskQueue.builder().clock(clock).leaseTimeout(Duration.ofDays(1)).build();
    }

    /** @return the engine's control executor, running turns as simulation events */
    public ControlExecutor control() {
        return new ControlExecutor() {
            @Override
            public void execute(Runnable turn) {
                post(inWork ? workDuration : Duration.ZERO, turn);
            }

            @Override
            public void schedule(Duration delay, Runnable turn) {
                post((inWork ? workDuration : Duration.ZERO).plus(delay.isNegative() ? Duration.ZERO : delay), turn);
            }
        };
    }

    /** @return the engine's worker executor: work runs as an event at the current virtual time */
    public Executor workers() {
        return work -> post(Duration.ZERO, () -> {
            inWork = true;
            workDuration = Duration.ZERO;
            try {
                work.run();
            } finally {
                inWork = false;
                workDuration = Duration.ZERO;
            }
        });
    }

    /**
     * Schedules an external event (an offer, a fault) at a virtual time.
     *
     * @param at when; not before now
     * @param action what happens
     */
    public void at(Instant at, Runnable action) {
        Objects.requireNonNull(action, "action");
        Duration d = Duration.between(now(), at);
        post(d.isNegative() ? Duration.ZERO : d, action);
    }

    /**
     * Schedules an action every period from {@code first} until {@code until} (exclusive).
     *
     * @param first the first time
     * @param period the period, positive
     * @param until the end
     * @param action the action, given the time it runs at
     */
    public void every(Instant first, Duration period, Instant until, java.util.function.Consumer<Instant> action) {
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("period must be positive but was " + period);
        }
        if (!first.isBefore(until)) {
            return;
        }
        at(first, () -> {
            action.accept(first);
            every(first.plus(period), period, until, action);
        });
    }

    private void post(Duration delay, Runnable r) {
        events.add(new Event(now().plus(delay), seq++, r));
    }

    /**
     * Runs events in time order up to and including {@code until}, then sets the clock to {@code until}.
     *
     * @param until the end time
     * @return the number of events run
     */
    public long runUntil(Instant until) {
        long n = 0;
        while (!events.isEmpty() && !events.peek().at.isAfter(until)) {
            Event e = events.poll();
            clock.advanceTo(e.at);
            e.action.run();
            n++;
        }
        clock.advanceTo(until);
        eventsRun += n;
        return n;
    }

    /**
     * Runs until a condition holds (checked after each event) or the time limit passes.
     *
     * @param condition the condition
     * @param limit the latest virtual time
     * @return whether the condition holds
     */
    public boolean runUntil(java.util.function.BooleanSupplier condition, Instant limit) {
        while (!condition.getAsBoolean()) {
            if (events.isEmpty() || events.peek().at.isAfter(limit)) {
                clock.advanceTo(limit);
                return condition.getAsBoolean();
            }
            Event e = events.poll();
            clock.advanceTo(e.at);
            e.action.run();
            eventsRun++;
        }
        return true;
    }

    /** @return events run so far */
    public long eventsRun() {
        return eventsRun;
    }

    /**
     * A puller whose tasks take a simulated time on the source and yield a simulated number of rows.
     *
     * @param duration how long each task holds the source
     * @param rows how many rows each task yields
     * @return the puller
     */
    public Puller puller(Function<Task, Duration> duration, ToLongFunction<Task> rows) {
        return task -> {
            Duration d = duration.apply(task);
            if (inWork) {
                workDuration = d;
            }
            return new SimCursor(task, rows.applyAsLong(task));
        };
    }

    /** @return an idempotent recording sink */
    public RecordingSink sink() {
        return new RecordingSink();
    }

    /** The schema of simulated rows. */
    public static final RowSchema SCHEMA = RowSchema.of(new Column("TASK_ID", JDBCType.VARCHAR), new Column("N", JDBCType.BIGINT));

    private static final int CHUNK = 1000;

    private static final class SimCursor implements RowCursor {
        private final Task task;
        private final long rows;
        private long emitted;

        SimCursor(Task task, long rows) {
            this.task = task;
            this.rows = rows;
        }

        @Override
        public RowSchema schema() {
            return SCHEMA;
        }

        @Override
        public List<Row> next() {
            int n = (int) Math.min(CHUNK, rows - emitted);
            if (n <= 0) {
                return List.of();
            }
            List<Row> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(Row.wrap(SCHEMA, new Object[] {task.id(), emitted++}));
            }
            return out;
        }

        @Override
        public void cancel() {
        }

        @Override
        public void close() {
        }
    }

    /**
     * A sink that keeps, per task id, the rows of its last committed session and how many sessions committed:
     * replace-by-task, so a repeated task leaves one copy. A failure predicate makes it fail on demand.
     * Threadsafe.
     */
    public static final class RecordingSink implements Sink {
        private final Map<String, Long> rowsByTask = new ConcurrentHashMap<>();
        private final Map<String, Integer> commitsByTask = new ConcurrentHashMap<>();
        private final AtomicLong failures = new AtomicLong();
        private volatile Predicate<Task> failWhen = t -> false;

        /**
         * @param failWhen the tasks whose sessions fail from now on
         */
        public void failWhen(Predicate<Task> failWhen) {
            this.failWhen = Objects.requireNonNull(failWhen, "failWhen");
        }

        /** Fails before the source is queried when the task is one of those that fail: a sink that is down. */
        @Override
        public SinkSession openBeforePull(Task task, Supplier<RowSchema> schema) {
            checkUp(task);
            schema.get();
            return session(task);
        }

        private void checkUp(Task task) {
            if (failWhen.test(task)) {
                failures.incrementAndGet();
                throw new SinkException("simulated sink failure for task " + task.id() + " in lane " + task.lane(), null);
            }
        }

        @Override
        public SinkSession open(Task task, RowSchema schema) {
            checkUp(task);
            return session(task);
        }

        private SinkSession session(Task task) {
            return new SinkSession() {
                private long rows;
                private boolean done;

                @Override
                public void write(List<Row> chunk) {
                    rows += chunk.size();
                }

                @Override
                public void commit() {
                    rowsByTask.put(task.id(), rows);
                    commitsByTask.merge(task.id(), 1, Integer::sum);
                    done = true;
                }

                @Override
                public void abort() {
                    done = true;
                }

                @Override
                public void close() {
                    if (!done) {
                        abort();
                    }
                }
            };
        }

        /** @return rows per committed task id (the last commit of each) */
        public Map<String, Long> rowsByTask() {
            return Map.copyOf(rowsByTask);
        }

        /** @return committed sessions per task id (more than 1 means the task ran again; the rows did not double) */
        public Map<String, Integer> commitsByTask() {
            return Map.copyOf(commitsByTask);
        }

        /** @return sessions that failed on purpose */
        public long failures() {
            return failures.get();
        }
    }

    private record Event(Instant at, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            int c = at.compareTo(o.at);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }
}
