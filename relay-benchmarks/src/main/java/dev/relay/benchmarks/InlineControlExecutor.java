package dev.relay.benchmarks;

import dev.relay.core.ControlExecutor;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A prototype {@link ControlExecutor} without a control thread, to measure an engine change proposed in
 * BENCHMARKS.md: turns go into a mailbox, and whichever thread submits one while no turn runs drains the
 * mailbox itself (the "drain on submit" of Caffeine's buffers, Guava's {@code SequentialExecutor}, gRPC's
 * {@code SynchronizationContext}). Turns still run one at a time, in submission order (a CAS on
 * {@code draining} admits one drainer; the release/acquire of that flag orders the turns' memory effects), so
 * the engine's single-owner rule holds; what goes away is the wake-up of a control thread for each completion:
 * the worker that finished a task runs the completion turn, which dispatches the next task to the worker pool
 * while that worker is still awake. Delayed turns go through one timer thread into the same mailbox.
 *
 * <p>Not for production as is: a drain is unbounded, so a thread that submits under constant load can be kept
 * draining; a real version would bound the turns per drain and hand the rest over.
 *
 * <p>This class is threadsafe.
 */
final class InlineControlExecutor implements ControlExecutor, AutoCloseable {

    private final ConcurrentLinkedQueue<Runnable> mailbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "inline-control-timer");
        t.setDaemon(true);
        return t;
    });

    @Override
    public void execute(Runnable turn) {
        mailbox.add(turn);
        while (!mailbox.isEmpty() && draining.compareAndSet(false, true)) {
            try {
                Runnable r;
                while ((r = mailbox.poll()) != null) {
                    try {
                        r.run();
                    } catch (RuntimeException e) {
                        Thread t = Thread.currentThread();
                        t.getUncaughtExceptionHandler().uncaughtException(t, e);
                    }
                }
            } finally {
                draining.set(false);
            }
        }
    }

    @Override
    public void schedule(Duration delay, Runnable turn) {
        timer.schedule(() -> execute(turn), Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
