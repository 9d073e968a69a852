package dev.relay.core.pressure;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One relay's adaptive source pressure: the effective limit {@code P_eff} on concurrent pulls, moved by a
 * {@link LimitRule} from completed pulls, and the state of its {@link Brake}. The engine reports every completed
 * pull ({@link #record}) and applies {@link #limit()} to its scheduler (and, with cluster-wide permits, to the
 * permits it holds).
 *
 * <h2>Model</h2>
 * {@code P} is the configured ceiling. The rule keeps a real-valued limit {@code ℓ}; {@code P_eff = ⌊ℓ⌋}, or 0 while
 * the brake is on. A completed pull's latency is normalised by its cost ({@link CostBasis}: seconds per 1,000 rows
 * or per window-minute) and divided by its source's <em>baseline</em> — the lowest normalised latency of that
 * source's pulls within the baseline window ({@link Baselines}) — giving a ratio: 1 when the source is as fast as it
 * is unloaded, 2 when twice as slow. The rule turns (ℓ, ratio, timeout, at-limit) into the next ℓ.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li><b>Bounds.</b> {@code f ≤ ⌊ℓ⌋ ≤ P} at all times, where the floor {@code f = min(P, max(minLimit, F))} and
 *       {@code F} is the engine's floor (one more than the lanes with dedicated permits, so that under
 *       {@code FairScheduler.limit(P_eff)} every such lane keeps a permit and the shared lanes keep at least one).
 *       Hence {@code 0 ≤ P_eff ≤ P}, and {@code P_eff = 0} exactly while braked. A rule's result is clamped; a
 *       non-finite one is a bug in the rule and fails loudly.
 *   <li><b>Fresh samples.</b> A pull that started before {@code P_eff} last changed does not reach the rule (it ran
 *       under another limit): each value of {@code P_eff} is judged only by pulls that ran under it, so one slow
 *       generation of pulls is one decrease, and a rise is confirmed by a pull started after it before the next
 *       rise. Its latency still teaches the baseline. Pulls that failed for another reason than a source timeout
 *       are ignored altogether.
 *   <li><b>Baseline first, then learn.</b> A pull is compared with its source's baseline before it is added to it;
 *       so the first measured pull of a source (within the window) gives no ratio — it can neither raise nor lower
 *       the limit — and a baseline is never derived from the pull it judges. From the second pull on, every pull is
 *       a verdict: the rule works from a handful of samples, not windows of many.
 *   <li><b>Brake time.</b> {@code timeBraked} is the sum of the closed braked spells plus the open one; it never
 *       decreases. With a brake, the relay starts braked ("waiting for the first check") until the first verdict.
 * </ol>
 *
 * <h2>Fairness and the starvation bound</h2>
 * The scheduler shares whatever {@code P_eff} allows by the lanes' weights, exactly as it shares {@code P}: only the
 * size of the shared pool changes, and lowering the limit preempts nothing. {@code FairScheduler}'s starvation bound
 * holds with the limit in force; since it asks for an unchanged configuration, it is evaluated anew whenever
 * {@code P_eff} changes (at most once per generation of pulls, invariant 2), and while braked there is none: a task
 * waits at most the time braked plus the bound evaluated when the brake let go (the README's "Adaptive source
 * pressure" section).
 *
 * <p><b>Not threadsafe.</b> Every method runs on the engine's control thread (the simulation's event loop); the
 * brake's checks run on the brake's executor and report back through the control executor given to
 * {@link Pressure#start}. {@link #snapshot()} returns an immutable record the engine may publish to other threads.
 */
public final class PressureControl implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PressureControl.class);

    private final Pressure config;
    private final LimitRule rule;
    private final int permits;
    private final Clock clock;
    private final Baselines baselines;
    private final Runnable onChange;
    private final BrakePoller poller;
    private final ExecutorService ownedBrakeThread;

    private int engineFloor;
    private int floor;
    private double limit;
    private int ruleLimit;
    private Instant lastChange;
    private double lastRatio = Double.NaN;
    private long samples;
    private long increases;
    private long decreases;
    private long timeouts;
    private long stale;

    private boolean braked;
    private Instant brakedSince;
    private Duration brakedBefore = Duration.ZERO;
    private long spells;
    private String brakeReason = "";
    private long brakeChecks;
    private long brakeErrors;
    private boolean lastCheckFailed;
    private boolean closed;

    PressureControl(Pressure config, int permits, int floor, Clock clock, Executor control, BiConsumer<Duration, Runnable> timer,
            Runnable onChange) {
        if (permits < 1) {
            throw new IllegalArgumentException("permits must be at least 1 but were " + permits);
        }
        this.config = config;
        this.rule = config.rule();
        this.permits = permits;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.onChange = Objects.requireNonNull(onChange, "onChange");
        this.baselines = new Baselines(config.baselineWindow());
        this.lastChange = clock.instant();
        setFloor(floor);
        double start = config.initialLimit().isPresent() ? config.initialLimit().getAsInt() : rule.initial(this.floor, permits);
        if (!Double.isFinite(start)) {
            throw new IllegalStateException("limit rule " + rule + " gave the initial limit " + start);
        }
        this.limit = clamp(start);
        this.ruleLimit = (int) Math.floor(limit);
        Brake brake = config.brake().orElse(null);
        if (brake != null) {
            Objects.requireNonNull(control, "control");
            Objects.requireNonNull(timer, "timer");
            Executor checks = brake.executor().orElse(null);
            if (checks == null) {
                ownedBrakeThread = Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "relay-brake");
                    t.setDaemon(true);
                    return t;
                });
                checks = ownedBrakeThread;
            } else {
                ownedBrakeThread = null;
            }
            braked = true;
            brakedSince = clock.instant();
            spells = 1;
            brakeReason = "waiting for the first brake check";
            poller = new BrakePoller(brake, checks, control, timer, this::verdict);
            poller.start();
        } else {
            ownedBrakeThread = null;
            poller = null;
        }
        LOG.info("source pressure: P = {}, starting at P_eff = {} (floor {}), {}", permits, limit(), this.floor, config);
    }

    // ------------------------------------------------------------------ the limit

    /** @return {@code P_eff}: the permits the relay may use now, within {@code [0, P]}; 0 while braked */
    public int limit() {
        return braked ? 0 : ruleLimit;
    }

    /** @return whether the brake is on */
    public boolean braked() {
        return braked;
    }

    /**
     * Sets the engine's floor: the limit never goes below it (nor below {@link Pressure#minLimit()}, nor above
     * {@code P}). The engine passes one more than the number of lanes with dedicated permits, whenever lanes change.
     *
     * @param floor the engine's floor, at least 1
     * @return whether {@link #limit()} changed
     */
    public boolean floor(int floor) {
        int before = limit();
        setFloor(floor);
        if (limit < this.floor) {
            limit = this.floor;
        }
        return applyRuleLimit(before) && !braked;
    }

    private void setFloor(int floor) {
        if (floor < 1) {
            throw new IllegalArgumentException("floor must be at least 1 but was " + floor);
        }
        this.engineFloor = floor;
        this.floor = Math.min(permits, Math.max(config.minLimit(), floor));
    }

    /**
     * Reports a completed pull.
     *
     * @param sample the pull
     * @return whether {@link #limit()} changed
     */
    public boolean record(PullSample sample) {
        Objects.requireNonNull(sample, "sample");
        samples++;
        if (sample.outcome() == PullSample.Outcome.FAILED) {
            return false;
        }
        Instant now = clock.instant();
        boolean timeout = sample.outcome() == PullSample.Outcome.SOURCE_TIMEOUT;
        double ratio = Double.NaN;
        if (timeout) {
            timeouts++;
        } else {
            double v = config.costBasis().normalise(sample, config.minRows());
            if (Double.isFinite(v)) {
                double base = baselines.baseline(sample.source(), now);
                if (base > 0) {
                    ratio = v / base;
                } else if (base == 0) {
                    ratio = v == 0 ? 1 : Double.NaN;
                }
                baselines.add(sample.source(), now, v);
                if (!Double.isNaN(ratio)) {
                    lastRatio = ratio;
                }
            }
        }
        if (sample.started().isBefore(lastChange)) {
            stale++;
            return false;
        }
        double next = rule.next(limit, new LimitRule.Signal(ratio, timeout, sample.atLimit()));
        if (!Double.isFinite(next)) {
            throw new IllegalStateException("limit rule " + rule + " returned " + next + " for limit " + limit + " after " + sample);
        }
        int before = limit();
        limit = clamp(next);
        boolean changed = applyRuleLimit(before);
        if (changed && LOG.isDebugEnabled()) {
            LOG.debug("P_eff {} -> {} after a pull of {} ({}, ratio {})", before, limit(), sample.source(), sample.outcome(),
                    String.format(Locale.ROOT, "%.2f", ratio));
        }
        return changed && !braked;
    }

    /** Takes {@code ⌊ℓ⌋} as the rule's limit; counts and timestamps a change. */
    private boolean applyRuleLimit(int beforeEffective) {
        int old = ruleLimit;
        ruleLimit = (int) Math.floor(limit);
        if (ruleLimit == old) {
            return false;
        }
        lastChange = clock.instant();
        if (ruleLimit > old) {
            increases++;
        } else {
            decreases++;
        }
        return limit() != beforeEffective;
    }

    private double clamp(double l) {
        return Math.max(floor, Math.min(permits, l));
    }

    /**
     * @param failure why a pull failed (null for a pull that the relay itself cancelled)
     * @return how to report it: {@link PullSample.Outcome#SOURCE_TIMEOUT} or {@link PullSample.Outcome#FAILED}
     */
    public PullSample.Outcome outcomeOf(Throwable failure) {
        return config.sourceTimeout(failure) ? PullSample.Outcome.SOURCE_TIMEOUT : PullSample.Outcome.FAILED;
    }

    // ------------------------------------------------------------------ the brake

    private void verdict(BrakeCheck.Verdict verdict, boolean error) {
        if (closed) {
            return;
        }
        brakeChecks++;
        if (error) {
            brakeErrors++;
            if (!lastCheckFailed) {
                LOG.warn("source brake check failed ({}): {}", config.brake().map(b -> b.stopOnError() ? "stopping" : "going on")
                        .orElse(""), verdict.reason());
            }
        } else if (lastCheckFailed) {
            LOG.info("source brake check answers again: {}", verdict.reason());
        }
        lastCheckFailed = error;
        brakeReason = verdict.reason();
        Instant now = clock.instant();
        if (!verdict.go() && !braked) {
            braked = true;
            brakedSince = now;
            spells++;
            LOG.warn("source brake on: no new pull starts ({})", verdict.reason());
            onChange.run();
        } else if (verdict.go() && braked) {
            Duration spell = Duration.between(brakedSince, now);
            brakedBefore = brakedBefore.plus(spell);
            braked = false;
            brakedSince = null;
            LOG.info("source brake off after {}: pulls start again, P_eff = {} ({})", spell, limit(), verdict.reason());
            onChange.run();
        }
    }

    // ------------------------------------------------------------------ state

    /** @return the state now */
    public PressureSnapshot snapshot() {
        Instant now = clock.instant();
        PressureSnapshot.BrakeStatus brake = poller == null ? PressureSnapshot.BrakeStatus.NONE
                : new PressureSnapshot.BrakeStatus(true, braked, brakedSince, timeBraked(now), spells, brakeReason, brakeChecks,
                        brakeErrors);
        return new PressureSnapshot(now, limit(), permits, floor, rule.toString(), limit, lastRatio, samples, increases, decreases,
                timeouts, stale, lastChange, config.costBasis().unit(), baselines.all(now), brake);
    }

    /** @return the total time braked so far, the current spell included */
    public Duration timeBraked() {
        return timeBraked(clock.instant());
    }

    private Duration timeBraked(Instant now) {
        return braked && brakedSince != null && now.isAfter(brakedSince) ? brakedBefore.plus(Duration.between(brakedSince, now))
                : brakedBefore;
    }

    /** @return the engine's floor last given */
    int engineFloor() {
        return engineFloor;
    }

    /**
     * Stops the brake's polling (a check in progress is not delivered) and the brake's own thread, if it started
     * one. The limit stays as it is. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (poller != null) {
            poller.close();
        }
        if (ownedBrakeThread != null) {
            ownedBrakeThread.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "PressureControl[P_eff " + limit() + " of " + permits + (braked ? ", braked" : "") + "]";
    }
}
