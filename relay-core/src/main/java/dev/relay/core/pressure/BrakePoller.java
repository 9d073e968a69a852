package dev.relay.core.pressure;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls a {@link Brake}'s check: a poll (a control turn, from the timer) hands the check to the brake's executor;
 * the check's verdict comes back as a control turn, which delivers it and schedules the next poll an interval
 * later. So exactly one check is in progress or scheduled at a time, and every delivery happens on the control
 * thread.
 *
 * <p>Threads: {@link #start()}, {@link #close()} and the deliveries run on the control thread; the check runs on
 * the check executor and touches nothing here but the final fields.
 */
final class BrakePoller {

    private static final Logger LOG = LoggerFactory.getLogger(BrakePoller.class);

    /** Receives verdicts on the control thread. */
    interface Receiver {
        /**
         * @param verdict the verdict
         * @param error whether the check failed and the verdict is the error policy's
         */
        void verdict(BrakeCheck.Verdict verdict, boolean error);
    }

    private final Brake brake;
    private final Executor checks;
    private final Executor control;
    private final BiConsumer<Duration, Runnable> timer;
    private final Receiver receiver;
    /** Written and read on the control thread; volatile only for {@link #toString()}. */
    private volatile boolean closed;

    BrakePoller(Brake brake, Executor checks, Executor control, BiConsumer<Duration, Runnable> timer, Receiver receiver) {
        this.brake = brake;
        this.checks = checks;
        this.control = control;
        this.timer = timer;
        this.receiver = receiver;
    }

    /** Runs the first check now. Control thread. */
    void start() {
        poll();
    }

    /** Stops polling: a check in progress is not delivered, none is scheduled. Control thread. */
    void close() {
        closed = true;
    }

    private void poll() {
        if (closed) {
            return;
        }
        try {
            checks.execute(this::runCheck);
        } catch (RejectedExecutionException e) {
            deliver(errorVerdict("the brake's executor rejected the check: " + e.getMessage()), true);
        }
    }

    /** Check executor. */
    private void runCheck() {
        BrakeCheck.Verdict verdict;
        boolean error = false;
        try {
            verdict = brake.check().check();
            if (verdict == null) {
                throw new IllegalStateException("brake check " + brake.check() + " returned null");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            verdict = errorVerdict("brake check interrupted");
            error = true;
        } catch (Exception e) {
            verdict = errorVerdict("brake check failed: " + e.getMessage());
            error = true;
        }
        BrakeCheck.Verdict v = verdict;
        boolean err = error;
        try {
            control.execute(() -> deliver(v, err));
        } catch (RejectedExecutionException e) {
            LOG.debug("brake verdict dropped: the relay's control executor is shut down");
        }
    }

    private BrakeCheck.Verdict errorVerdict(String reason) {
        return brake.stopOnError() ? BrakeCheck.Verdict.stop(reason) : BrakeCheck.Verdict.go(reason + " (going on: stopOnError is off)");
    }

    /** Control thread. */
    private void deliver(BrakeCheck.Verdict verdict, boolean error) {
        if (closed) {
            return;
        }
        receiver.verdict(verdict, error);
        timer.accept(brake.interval(), this::poll);
    }

    @Override
    public String toString() {
        return "BrakePoller[" + brake + (closed ? ", closed" : "") + "]";
    }
}
