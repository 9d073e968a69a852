package dev.relay.core;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * Runs a finish turn dispatched whose permit's worker had already left: a lock-free stack (intrusive through
 * {@link TaskRun}, so pushing allocates nothing) that a worker about to leave empties one run at a time into its own
 * next task, and that the control loop otherwise hands to the worker executor after the turn
 * ({@link ControlExecutor#afterTurn}), outside the serial section. Each run is pushed once, so the stack has no ABA
 * problem. Threadsafe.
 */
final class Orphans {

    private final AtomicReference<TaskRun> head = new AtomicReference<>();

    /** @return true if the stack was empty before (the caller arranges for it to be emptied) */
    boolean push(TaskRun run) {
        while (true) {
            TaskRun h = head.get();
            run.nextOrphan(h);
            if (head.compareAndSet(h, run)) {
                return h == null;
            }
        }
    }

    /**
     * Hands every run on the stack to the worker executor.
     *
     * @param workers the worker executor
     * @param refused told of each run the executor refused, and why
     */
    void executeAll(Executor workers, BiConsumer<TaskRun, RuntimeException> refused) {
        TaskRun run;
        while ((run = pop()) != null) {
            try {
                workers.execute(run);
            } catch (RuntimeException e) {
                refused.accept(run, e);
            }
        }
    }

    /** @return a run to start, or null */
    TaskRun pop() {
        while (true) {
            TaskRun h = head.get();
            if (h == null) {
                return null;
            }
            if (head.compareAndSet(h, h.nextOrphan())) {
                h.nextOrphan(null);
                return h;
            }
        }
    }
}
