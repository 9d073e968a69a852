package dev.relay.core.pressure;

import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * How a relay adapts the load it puts on its source: an effective limit {@code P_eff ≤ P} on concurrent pulls,
 * moved by a {@link LimitRule} from the latency of completed pulls, and an optional {@link Brake} that the source's
 * owners control. {@link #off()} — the default — keeps {@code P_eff = P} and has no brake.
 *
 * <pre>{@code
 * Pressure pressure = Pressure.builder()
 *         .rule(AimdRule.builder().tolerance(1.5).backoff(0.9).build())    // the default rule
 *         .costBasis(CostBasis.WINDOW_MINUTES)                           // seconds per window-minute
 *         .brake(Brake.builder(BrakeCheck.sql(oracle, "SELECT COALESCE(SUM(ACTIVE_SESSIONS), 0) "
 *                         + "FROM V$RSRC_CONSUMER_GROUP WHERE NAME = 'BATCH_GROUP'").stopAbove(0).build())
 *                 .interval(Duration.ofSeconds(10)).build())
 *         .build();
 * }</pre>
 *
 * <p>The design — latency normalised by cost against each source's learned baseline, fresh samples only, the
 * floor, the brake's time accounting — is in {@link PressureControl}.
 *
 * <p>Immutable and threadsafe; build one with {@link #builder()}.
 */
public final class Pressure {

    private static final Pressure OFF = builder().rule(LimitRule.none()).build();

    private final LimitRule rule;
    private final CostBasis costBasis;
    private final long minRows;
    private final int minLimit;
    private final int initialLimit;
    private final Duration baselineWindow;
    private final Brake brake;
    private final Predicate<Throwable> timeoutWhen;

    private Pressure(Builder b) {
        this.rule = b.rule;
        this.costBasis = b.costBasis;
        this.minRows = b.minRows;
        this.minLimit = b.minLimit;
        this.initialLimit = b.initialLimit;
        this.baselineWindow = b.baselineWindow;
        this.brake = b.brake;
        this.timeoutWhen = b.timeoutWhen;
    }

    /** @return no adaptation and no brake: {@code P_eff = P} always */
    public static Pressure off() {
        return OFF;
    }

    /** @return a builder: AIMD, seconds per 1,000 rows, a 6-hour baseline window, no brake */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the rule */
    public LimitRule rule() {
        return rule;
    }

    /** @return what latency is normalised by */
    public CostBasis costBasis() {
        return costBasis;
    }

    /** @return the fewest rows a pull needs to be measured under {@link CostBasis#ROWS} */
    public long minRows() {
        return minRows;
    }

    /** @return the lowest limit the rule may set */
    public int minLimit() {
        return minLimit;
    }

    /** @return the limit to start with, if set; otherwise the rule's {@link LimitRule#initial} */
    public OptionalInt initialLimit() {
        return initialLimit > 0 ? OptionalInt.of(initialLimit) : OptionalInt.empty();
    }

    /** @return how long a pull's latency counts towards its source's baseline */
    public Duration baselineWindow() {
        return baselineWindow;
    }

    /** @return the brake, if any */
    public Optional<Brake> brake() {
        return Optional.ofNullable(brake);
    }

    /** @return whether the rule moves the limit (false for {@link LimitRule#none()}) */
    public boolean adaptive() {
        return rule != LimitRule.none();
    }

    /** @return whether these settings do anything: an adaptive rule or a brake ({@link #off()} does not) */
    public boolean active() {
        return adaptive() || brake != null;
    }

    /**
     * @param failure why a pull failed
     * @return whether it counts as a source timeout (the configured predicate, by default
     *     {@link #isSourceTimeout(Throwable)})
     */
    public boolean sourceTimeout(Throwable failure) {
        return failure != null && timeoutWhen.test(failure);
    }

    /**
     * Checks these settings against a relay's permits: call it when the relay is built, so that a bad combination
     * fails then.
     *
     * @param permits the relay's {@code P}
     * @return this
     * @throws IllegalArgumentException if the minimum or the initial limit exceeds {@code P}
     */
    public Pressure validate(int permits) {
        if (minLimit > permits) {
            throw new IllegalArgumentException("pressure minLimit " + minLimit + " exceeds the relay's " + permits + " source permits");
        }
        if (initialLimit > permits) {
            throw new IllegalArgumentException("pressure initialLimit " + initialLimit + " exceeds the relay's " + permits
                    + " source permits");
        }
        return this;
    }

    /**
     * Starts the runtime state for one relay; the engine calls it when it starts, on its control thread.
     *
     * @param permits the relay's {@code P}
     * @param floor the lowest limit the engine allows now (lanes with dedicated permits plus one), within
     *     {@code [1, P]}; see {@link PressureControl#floor(int)}
     * @param clock the engine's clock
     * @param control runs a turn on the engine's control thread
     * @param timer runs a turn on the engine's control thread after a delay on {@code clock}
     * @param onChange run on the control thread when a brake verdict changed {@link PressureControl#limit()}
     * @return the runtime state; the brake's first check is under way
     * @throws IllegalArgumentException if {@link #validate(int)} fails or the floor is out of range
     */
    public PressureControl start(int permits, int floor, Clock clock, Executor control, BiConsumer<Duration, Runnable> timer,
            Runnable onChange) {
        validate(permits);
        return new PressureControl(this, permits, floor, clock, control, timer, onChange);
    }

    int initialLimitRaw() {
        return initialLimit;
    }

    /**
     * Whether a pull's failure is a source timeout. Looks through the causes (and SQL's chained exceptions) for a
     * {@link SQLTimeoutException}, a {@link TimeoutException}, a {@link SocketTimeoutException}, or an
     * {@link SQLException} with SQL state {@code 57014} (PostgreSQL and H2: statement cancelled by its timeout)
     * or vendor code 1013 (Oracle's ORA-01013, raised by a query timeout). These survive the redaction of
     * {@code relay-jdbc}, which keeps states and codes.
     *
     * @param failure the failure
     * @return whether it is a source timeout
     */
    public static boolean isSourceTimeout(Throwable failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        java.util.ArrayDeque<Throwable> todo = new java.util.ArrayDeque<>();
        if (failure != null) {
            todo.add(failure);
        }
        while (!todo.isEmpty() && seen.size() < 32) {
            Throwable t = todo.poll();
            if (!seen.add(t)) {
                continue;
            }
            if (t instanceof SQLTimeoutException || t instanceof TimeoutException || t instanceof SocketTimeoutException) {
                return true;
            }
            if (t instanceof SQLException sql) {
                if ("57014".equals(sql.getSQLState()) || sql.getErrorCode() == 1013) {
                    return true;
                }
                if (sql.getNextException() != null) {
                    todo.add(sql.getNextException());
                }
            }
            if (t.getCause() != null) {
                todo.add(t.getCause());
            }
        }
        return false;
    }

    @Override
    public String toString() {
        if (this == OFF) {
            return "Pressure[off]";
        }
        return "Pressure[rule " + rule + ", " + costBasis.unit() + ", baseline window " + baselineWindow
                + ", min limit " + minLimit + (initialLimit > 0 ? ", initial limit " + initialLimit : "")
                + (brake != null ? ", " + brake : ", no brake") + "]";
    }

    /** Builds a {@link Pressure}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private LimitRule rule = LimitRule.aimd();
        private CostBasis costBasis = CostBasis.ROWS;
        private long minRows = 1_000;
        private int minLimit = 1;
        private int initialLimit;
        private Duration baselineWindow = Duration.ofHours(6);
        private Brake brake;
        private Predicate<Throwable> timeoutWhen = Pressure::isSourceTimeout;

        private Builder() {
        }

        /**
         * @param rule how the limit moves; default {@link LimitRule#aimd()}; {@link LimitRule#none()} keeps it at
         *     {@code P} (a brake alone)
         * @return this builder
         */
        public Builder rule(LimitRule rule) {
            this.rule = Objects.requireNonNull(rule, "rule");
            return this;
        }

        /**
         * @param basis what a pull's latency is divided by; default {@link CostBasis#ROWS}
         * @return this builder
         */
        public Builder costBasis(CostBasis basis) {
            this.costBasis = Objects.requireNonNull(basis, "costBasis");
            return this;
        }

        /**
         * @param minRows the fewest rows a pull must read to be measured under {@link CostBasis#ROWS}; at least 1,
         *     default 1,000
         * @return this builder
         */
        public Builder minRows(long minRows) {
            if (minRows < 1) {
                throw new IllegalArgumentException("minRows must be at least 1 but was " + minRows);
            }
            this.minRows = minRows;
            return this;
        }

        /**
         * @param minLimit the lowest limit the rule may set, at least 1 (default) and at most {@code P}; the engine
         *     raises it to one more than the lanes with dedicated permits
         * @return this builder
         */
        public Builder minLimit(int minLimit) {
            if (minLimit < 1 || minLimit > 10_000) {
                throw new IllegalArgumentException("minLimit must be within [1, 10000] but was " + minLimit);
            }
            this.minLimit = minLimit;
            return this;
        }

        /**
         * @param initialLimit the limit to start with, within {@code [minLimit, P]}; by default the rule's
         *     {@link LimitRule#initial}: the floor for AIMD (slow start), {@code P} for {@link LimitRule#none()}
         * @return this builder
         */
        public Builder initialLimit(int initialLimit) {
            if (initialLimit < 1 || initialLimit > 10_000) {
                throw new IllegalArgumentException("initialLimit must be within [1, 10000] but was " + initialLimit);
            }
            this.initialLimit = initialLimit;
            return this;
        }

        /**
         * @param window how long a pull's normalised latency counts towards its source's baseline (the lowest one
         *     within the window); within [1 min, 30 days], default 6 h — longer than a batch job, so that the relay
         *     stays backed off through one, short enough that a lasting change becomes the new normal the same day
         * @return this builder
         */
        public Builder baselineWindow(Duration window) {
            Objects.requireNonNull(window, "baselineWindow");
            if (window.compareTo(Duration.ofMinutes(1)) < 0 || window.compareTo(Duration.ofDays(30)) > 0) {
                throw new IllegalArgumentException("baselineWindow must be within [1 min, 30 days] but was " + window);
            }
            this.baselineWindow = window;
            return this;
        }

        /**
         * @param brake the brake; none by default
         * @return this builder
         */
        public Builder brake(Brake brake) {
            this.brake = Objects.requireNonNull(brake, "brake");
            return this;
        }

        /**
         * @param timeoutWhen which pull failures are source timeouts (a decrease, like a slow pull); default
         *     {@link Pressure#isSourceTimeout(Throwable)}
         * @return this builder
         */
        public Builder timeoutWhen(Predicate<Throwable> timeoutWhen) {
            this.timeoutWhen = Objects.requireNonNull(timeoutWhen, "timeoutWhen");
            return this;
        }

        /**
         * @return the settings
         * @throws IllegalArgumentException if the initial limit is below the minimum
         */
        public Pressure build() {
            if (initialLimit > 0 && initialLimit < minLimit) {
                throw new IllegalArgumentException("initialLimit " + initialLimit + " is below minLimit " + minLimit);
            }
            return new Pressure(this);
        }
    }
}
