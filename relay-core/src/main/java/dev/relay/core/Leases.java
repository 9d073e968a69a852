package dev.relay.core;

import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way the engine ends a lease ({@link Relay}'s invariant 1): each ending is tried once, a lease the backend
 * took back already ({@link LeaseLostException}) counts as ended, and a backend failure is logged (the backend hands
 * the task out again). Stateless; called from control turns.
 */
final class Leases {

    private static final Logger LOG = LoggerFactory.getLogger(Leases.class);

    /** How a lease ends. */
    enum Ending { COMPLETE, RETRY, RELEASE, DEAD_LETTER }

    private Leases() {
    }

    /**
     * Ends a lease.
     *
     * @param lease the lease
     * @param ending how
     * @param reason why (retry, dead letter), else null
     * @param delay the retry's delay, else null
     * @return true if it ended as asked; false if the backend had taken it back already (or failed)
     */
    static boolean end(Lease lease, Ending ending, String reason, Duration delay) {
        try {
            switch (ending) {
                case COMPLETE -> lease.complete();
                case RETRY -> lease.retry(delay, reason);
                case RELEASE -> lease.release();
                case DEAD_LETTER -> lease.deadLetter(reason);
                default -> throw new AssertionError(ending);
            }
            return true;
        } catch (LeaseLostException e) {
            LOG.info("lease lost: {}", e.getMessage());
            return false;
        } catch (RuntimeException e) {
            LOG.error("ending the lease of task {} ({}) failed; the backend will hand it out again", lease.task().id(),
                    ending, e);
            return false;
        }
    }

    /**
     * Releases a run's lease untouched.
     *
     * @param run a run that did not complete (buffered, parked, refused, abandoned)
     */
    static void release(TaskRun run) {
        run.stage(TaskRun.Stage.ENDED);
        end(run.lease, Ending.RELEASE, null, null);
    }

    /**
     * The delivery these were parked behind ended without completing: they go back to their queues and run
     * normally later.
     *
     * @param chain the parked runs, chained through {@link TaskRun#parked}, or null
     */
    static void releaseChain(TaskRun chain) {
        for (TaskRun p = chain; p != null; p = p.parked) {
            release(p);
        }
    }

    /**
     * The delivery these were parked behind completed: the same data is committed in the same sink, so they are
     * complete too, without running.
     *
     * @param chain the parked runs, chained through {@link TaskRun#parked}, or null
     */
    static void completeChain(TaskRun chain) {
        for (TaskRun p = chain; p != null; p = p.parked) {
            p.stage(TaskRun.Stage.ENDED);
            if (end(p.lease, Ending.COMPLETE, null, null)) {
                LaneStats.add(p.lane.stats.duplicates, 1);
            }
        }
    }
}
