package dev.relay.core;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link ControlExecutor}: runs turns one at a time, in submission order, on whichever thread
 * submits a turn while no other turn is running — the submitter <em>combines</em> the turns queued meanwhile and
 * runs them too. Delayed turns are queued by one timer thread when they are due.
 *
 * <p>This is the approach of Caffeine's buffer draining: the state stays owned by "the thread in the turn" (a
 * turn starts only after the previous one ended, and the queue and the {@code running} flag give each turn a
 * happens-before edge to the next), while a worker that finishes a task dispatches the next one itself instead
 * of handing off to a control thread and waiting for it to hand back. A turn that throws is logged and the
 * turns behind it run. Actions a turn defers with {@link #afterTurn} run on the same thread right after it lets the
 * next turn in, so that handing tasks to the worker pool (and waking its threads) is not part of the serial
 * section.
 *
 * <p>This class is threadsafe.
 */
final class SerialControlExecutor implements ControlExecutor {

    private static final Logger LOG = LoggerFactory.getLogger(SerialControlExecutor.class);

    private final ConcurrentLinkedQueue<Runnable> turns = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Runnable> after = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private final ScheduledExecutorService timer;

    SerialControlExecutor(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    @Override
    public void execute(Runnable turn) {
        if (turns.isEmpty() && running.compareAndSet(false, true)) {
            // uncontended: run it at once, without queueing it (turns submitted meanwhile run after it)
            try {
                run(turn);
            } finally {
                running.set(false);
            }
            runAfterTurns();
            drain();
            return;
        }
        turns.add(turn);
        drain();
    }

    private static void run(Runnable turn) {
        try {
            turn.run();
        } catch (RuntimeException | Error e) {
            LOG.error("a relay control turn failed; the relay goes on", e);
        }
    }

    @Override
    public void schedule(Duration delay, Runnable turn) {
        timer.schedule(() -> execute(turn), Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void afterTurn(Runnable action) {
        after.add(action);
    }

    private void drain() {
        while (!turns.isEmpty() && running.compareAndSet(false, true)) {
            try {
                Runnable r;
                while ((r = turns.poll()) != null) {
                    run(r);
                }
            } finally {
                running.set(false);
            }
            runAfterTurns();
        }
    }

    /** Runs the deferred actions; the thread that ran a turn always gets here after it, so none is left behind. */
    private void runAfterTurns() {
        Runnable a;
        while ((a = after.poll()) != null) {
            try {
                a.run();
            } catch (RuntimeException | Error e) {
                LOG.error("an action after a relay control turn failed", e);
            }
        }
    }

    @Override
    public String toString() {
        return "SerialControlExecutor[" + turns.size() + " queued]";
    }
}
