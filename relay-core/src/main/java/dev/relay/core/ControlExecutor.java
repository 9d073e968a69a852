package dev.relay.core;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Runs the relay engine's control turns: one at a time, in submission order, never two at once. All of the
 * engine's mutable state (the scheduler, the lane buffers, the in-flight set) is owned by whatever thread runs
 * these turns; workers and queue callbacks reach it only by submitting a turn.
 *
 * <p>Production code uses {@link #of(ScheduledExecutorService)} over a single-threaded scheduled executor;
 * the simulation harness implements it on a virtual clock. Implementations are threadsafe: {@code execute} and
 * {@code schedule} may be called from any thread.
 */
public interface ControlExecutor {

    /**
     * Runs a turn soon, after the turns submitted before it.
     *
     * @param turn the turn
     */
    void execute(Runnable turn);

    /**
     * Runs a turn after a delay, measured on the engine's clock.
     *
     * @param delay the delay, not negative
     * @param turn the turn
     */
    void schedule(Duration delay, Runnable turn);

    /**
     * Runs an action that reads and writes no engine state — the engine hands tasks to its worker executor this
     * way — once the turn that asks for it has ended, outside the one-turn-at-a-time section where the executor can,
     * so that the next turn need not wait for it. Called from within a turn. The default runs it at once, inside
     * the turn, which is always correct.
     *
     * @param action the action
     */
    default void afterTurn(Runnable action) {
        action.run();
    }

    /**
     * Wraps a <b>single-threaded</b> scheduled executor. The relay does not shut it down: its owner does.
     *
     * @param executor a scheduled executor with exactly one thread
     * @return the control executor
     */
    static ControlExecutor of(ScheduledExecutorService executor) {
        Objects.requireNonNull(executor, "executor");
        return new ControlExecutor() {
            @Override
            public void execute(Runnable turn) {
                executor.execute(turn);
            }

            @Override
            public void schedule(Duration delay, Runnable turn) {
                executor.schedule(turn, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
            }

            @Override
            public String toString() {
                return "ControlExecutor[" + executor + "]";
            }
        };
    }
}
