package dev.relay.core;

import dev.relay.api.Window;
import dev.relay.core.pressure.Pressure;
import dev.relay.core.pressure.PressureControl;
import dev.relay.core.pressure.PullSample;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The permit limit in force, {@code min(limit set from outside, P_eff)}: the one set by {@link Relay#permitLimit}
 * (an operator) and the adaptive source pressure's {@code P_eff} ({@link Pressure}), applied to the
 * {@link FairScheduler} — with cluster-wide source permits, bounded by what this process holds
 * ({@link PermitGate#bound}). Owns the {@link PressureControl} — its brake checks and polls run as control turns —
 * and feeds it every finished pull. At a limit of 0 the lanes give back what they buffer.
 *
 * <p>Not threadsafe: owned by the control turn.
 */
final class PermitLimit {

    private final RelayConfig config;
    private final FairScheduler<TaskRun> scheduler;
    private final EngineStats stats;
    private final Lanes lanes;
    /** The limit set from outside; {@code P} unless set. */
    private int outside;
    /** Adaptive source pressure and the brake; null when the relay has none ({@link Pressure#active()}). */
    private PressureControl pressure;
    /** Cluster-wide permits: the limit never exceeds what this process holds; null with the local pool. */
    private PermitGate gate;

    PermitLimit(RelayConfig config, FairScheduler<TaskRun> scheduler, EngineStats stats, Lanes lanes) {
        this.config = config;
        this.scheduler = scheduler;
        this.stats = stats;
        this.lanes = lanes;
        this.outside = config.permits;
    }

    /**
     * Starts the pressure control, if the relay has one (in the first turn): the brake's first check is under way.
     *
     * @param inTurn runs a body as the current control turn (publishing at its end)
     * @param pump pumps in the current turn (after the limit rose)
     */
    void start(Consumer<Runnable> inTurn, Runnable pump) {
        if (!config.pressure.active() || pressure != null) {
            return;
        }
        pressure = config.pressure.start(config.permits, floor(), config.clock,
                turn -> config.control.execute(() -> inTurn.accept(() -> {
                    turn.run();
                    publish();
                })),
                (delay, turn) -> config.control.schedule(delay, () -> inTurn.accept(turn)),
                () -> {
                    apply(false);
                    publish();
                    pump.run();
                });
        apply(false);
        publish();
    }

    /**
     * Bounds the limit by the permits this process holds of a cluster-wide pool, from now on (0 until the first grant).
     *
     * @param gate the engine's side of the cluster-wide permits
     */
    void bound(PermitGate gate) {
        this.gate = gate;
        apply(true);
    }

    /** What this process holds of the cluster-wide permits changed: the bound follows. */
    void heldChanged() {
        apply(false);
    }

    /** Sets the limit from outside; the relay uses {@code min(limit, P_eff)}. */
    void setOutside(int limit) {
        outside = limit;
        apply(true);
    }

    /**
     * Applies {@code min(outside, P_eff)} to the scheduler; at 0 the lanes give back what they buffer.
     *
     * @param always whether to apply it even if it did not change (an explicit {@link #setOutside} call)
     */
    private void apply(boolean always) {
        int limit = pressure == null ? outside : Math.min(outside, pressure.limit());
        if (gate != null) {
            limit = gate.bound(limit, floor() - 1);
        }
        if (!always && limit == scheduler.limit()) {
            return;
        }
        scheduler.limit(limit);
        stats.permitLimit = limit;
        lanes.touchAll(); // the dedicated permits in force may have changed
        if (limit == 0) {
            lanes.giveBackAll();
        }
    }

    /** @return the lowest limit that starves no lane: one more than the lanes with dedicated permits */
    private int floor() {
        int k = 0;
        for (LaneRun lane : lanes.all()) {
            if (lane.spec.dedicatedPermits() > 0) {
                k++;
            }
        }
        return k + 1;
    }

    /** Lanes may have been added, removed or given dedicated permits: the pressure's floor follows. */
    void lanesChanged() {
        if (pressure != null && pressure.floor(floor())) {
            apply(false);
        }
        publish();
    }

    /** Reports a finished pull to the pressure rule and applies a changed {@code P_eff}. */
    void record(TaskRun run, long serviceNanos) {
        if (pressure == null) {
            return;
        }
        PullSample.Outcome outcome = run.withdrawn() ? PullSample.Outcome.FAILED
                : run.error == null ? PullSample.Outcome.SUCCESS : pressure.outcomeOf(run.error);
        Duration window = run.task().window().map(Window::length).orElse(Duration.ZERO);
        if (pressure.record(new PullSample(run.task().source(), Clocks.instant(run.since), Duration.ofNanos(serviceNanos),
                Math.max(0, run.rows), window.isNegative() ? Duration.ZERO : window, outcome, run.atLimit()))) {
            apply(false);
        }
        publish();
    }

    /** Publishes the pressure's figures. */
    void publish() {
        if (pressure != null) {
            stats.pressure = pressure.snapshot();
        }
    }

    /** The relay stops: no more brake checks; the limit stays as it is. */
    void close() {
        if (pressure != null) {
            pressure.close();
            publish();
        }
    }
}
