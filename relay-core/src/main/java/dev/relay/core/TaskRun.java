package dev.relay.core;

import dev.relay.api.CompletionLedger;
import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.Puller;
import dev.relay.api.RelayException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One delivery of a task through the engine, from the lease taken at intake to its ending: while buffered or
 * parked it is the control turn's; between dispatch and its finish turn the attempt itself — the only code of the
 * engine that runs on worker threads — is its worker's.
 *
 * <h2>The attempt (worker thread)</h2>
 * The worker opens the sink session first ({@link Sink#openBeforePull}: a sink that is down fails without a source
 * query), which asks for the schema and so opens the source cursor; then it copies chunks, commits the session and
 * records the task in the ledger. If all of that succeeded, the worker completes the lease itself (invariant 3 of
 * {@link Relay} holds: the sink committed and the ledger recorded it), so that the serial control turn does not
 * pay for the backend's acknowledgement; any other ending waits for the control turn, which knows whether the
 * relay is stopping. Either way the worker leaves its outcome in the run and submits the run to the control
 * executor for its <em>finish turn</em>: the same object is a worker task when first run and the finish turn when
 * run again ({@link #run()}), which saves an allocation per task.
 *
 * <h2>The same permit runs the next task</h2>
 * After submitting its finish turn the worker asks whether that turn handed it the next task to run. The finish
 * turn frees the run's permit; if it starts a task, it first tries to {@link #handOff} that task to the worker that
 * just finished, and only if the worker has already left does it use the worker executor. One atomic swap on each
 * side decides, so a task is never both handed off and executed, nor lost: with the default
 * {@link SerialControlExecutor} the finish turn usually runs on the finishing worker itself, which then goes
 * straight on to the next task with no executor hand-off and no thread wake-up. When another thread was running a
 * turn and ran this one too, the task goes onto the {@link Orphans} stack: a worker about to leave takes it, and
 * what is left goes to the worker executor after the turn, outside the serial section. With an executor that runs
 * turns elsewhere (a control thread, the simulation) the worker has left and the task goes to the executor.
 *
 * <h2>Withdrawal</h2>
 * The control turn may {@link #withdraw()} a running attempt (shutdown timeout, cancellation from outside): the
 * flag is set before the cursor is cancelled, and the worker checks it after opening the cursor and before
 * committing, so an attempt withdrawn before its commit does not commit; one withdrawn during its commit may still
 * commit, which the idempotent sink makes harmless when the released task runs again. Who ends the lease of a
 * successful attempt that is abandoned meanwhile — the worker completing it or the control turn releasing it — is
 * decided by one compare-and-set ({@link #claimEnding}), so it is ended exactly once.
 *
 * <p>Threadsafe as described: fields are confined to the control turn or to the worker between dispatch and the
 * finish turn (the executors order those hand-overs), except the volatile cursor, withdrawal, hand-off and
 * ending claim.
 */
final class TaskRun implements Runnable, Supplier<RowSchema> {

    private static final Logger LOG = LoggerFactory.getLogger(TaskRun.class);

    /** What an attempt needs besides its task: the same for every run of a relay. */
    record Context(Puller puller, CompletionLedger ledger, ControlExecutor control, Consumer<TaskRun> finisher,
            Orphans orphans) {
    }

    /** Where a run stands; written and read by the control turn only. */
    enum Stage {
        /** In its lane's buffer (the scheduler's ready queue). */
        BUFFERED,
        /** Waiting behind the active run of the same task id and sink. */
        PARKED,
        /** Dispatched: its permit is taken. */
        RUNNING,
        /** Its lease has ended. */
        ENDED
    }

    private static final Object CLOSED = new Object();
    private static final VarHandle HANDOFF;
    private static final VarHandle ENDING;
    /** {@link #ending}: nobody has ended the lease of the running attempt yet. */
    static final byte OPEN = 0;
    /** {@link #ending}: the worker completed the lease of its successful attempt. */
    static final byte BY_WORKER = 1;
    /** {@link #ending}: the control turn ends the lease (abandonment). */
    static final byte BY_CONTROL = 2;
    private static final Stage[] STAGES = Stage.values();

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HANDOFF = lookup.findVarHandle(TaskRun.class, "handoff", Object.class);
            ENDING = lookup.findVarHandle(TaskRun.class, "ending", byte.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Lease lease;
    final LaneRun lane;

    // ---- control turn ----
    /** The {@link Stage}'s ordinal: a byte, to keep the run small (it is allocated per task). */
    private byte stage;
    /**
     * Epoch nanos: since when the task is ready (from its lease) while it waits, since when it runs once dispatched.
     * One field for both keeps the run small.
     */
    long since;
    /** The scheduler's ticket, for {@link FairScheduler#complete}. */
    long ticket;
    /** The in-flight list, and the chain of deliveries parked behind this one. */
    TaskRun prevInFlight;
    TaskRun nextInFlight;
    TaskRun parked;

    // ---- worker, then read by the finish turn ----
    /** Rows pulled (all of them written and committed if {@link #error} is null). */
    long rows;
    Throwable error;
    /**
     * {@link #AT_LIMIT}, set by the control turn that dispatches the run; {@link #ATTEMPTED}, {@link #LEASE_LOST}, set
     * by the worker before it submits the run as its finish turn (the executors order the two writers).
     */
    private byte flags;
    /** The attempt ran: the next {@link #run()} is the finish turn. */
    private static final byte ATTEMPTED = 1;
    /** The worker completed the lease, but the backend had taken it back already. */
    private static final byte LEASE_LOST = 2;
    /** No shared permit was left free once it started: the limit was binding (for the pressure rule). */
    private static final byte AT_LIMIT = 4;

    // ---- shared ----
    private volatile RowCursor cursor;
    private volatile boolean withdrawn;
    /**
     * After the attempt: null while the worker may take a hand-off, then the handed-off run or {@link #CLOSED}.
     * Before the attempt, while the run waits on the {@link Orphans} stack, the next run of that stack (the two uses
     * never overlap, and one field for both keeps the run small).
     */
    @SuppressWarnings("unused")
    private volatile Object handoff;
    /** Who ends the lease of a successful attempt: {@link #OPEN}, {@link #BY_WORKER} or {@link #BY_CONTROL}. */
    @SuppressWarnings("unused")
    private volatile byte ending;

    TaskRun(Lease lease, LaneRun lane) {
        this.lease = lease;
        this.lane = lane;
        this.since = Clocks.epochNanos(lease.readySince());
    }

    /** @return the task */
    Task task() {
        return lease.task();
    }

    /** @return where the run stands (control turn) */
    Stage stage() {
        return STAGES[stage];
    }

    /** Moves the run to a stage (control turn). */
    void stage(Stage s) {
        stage = (byte) s.ordinal();
    }

    /**
     * First run (worker thread): the attempt, then every task handed to this worker after it. Second run (control
     * turn, after the worker submitted it): the finish turn.
     */
    @Override
    public void run() {
        if ((flags & ATTEMPTED) != 0) {
            lane.context.finisher().accept(this);
            return;
        }
        TaskRun r = this;
        while (r != null) {
            r.attempt();
            r = r.finish();
        }
    }

    private void attempt() {
        SinkSession session = null;
        Sink sink = lane.sink;
        Task task = lease.task();
        try {
            if (withdrawn) {
                throw new RelayException("task " + task.id() + " was withdrawn before it started", true);
            }
            session = sink.openBeforePull(task, this);
            RowCursor c = cursor;
            if (c == null) {
                throw new IllegalStateException("sink " + sink + " opened a session for task " + task.id()
                        + " without asking for the schema of its rows");
            }
            while (true) {
                List<Row> chunk = c.next();
                if (chunk.isEmpty()) {
                    break;
                }
                rows += chunk.size();
                session.write(chunk);
            }
            if (withdrawn) {
                throw new RelayException("task " + task.id() + " was withdrawn before its commit", true);
            }
            session.commit();
            CompletionLedger ledger = lane.context.ledger();
            if (ledger != null) {
                ledger.recordCompleted(task, rows);
            }
        } catch (Throwable t) {
            error = t;
            if (session != null) {
                session.abort();
            }
            if (t instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        } finally {
            if (session != null) {
                session.close();
            }
            RowCursor c = cursor;
            if (c != null) {
                c.close();
            }
        }
        if (error == null && claimEnding(BY_WORKER)) {
            try {
                lease.complete();
            } catch (LeaseLostException e) {
                flags |= LEASE_LOST;
                LOG.info("lease lost: {}", e.getMessage());
            } catch (RuntimeException e) {
                flags |= LEASE_LOST;
                LOG.error("completing the lease of task {} failed; the backend will hand it out again", task.id(), e);
            }
        }
    }

    /** Opens the source cursor and returns its schema: the sink asks for it once its own side is open. */
    @Override
    public RowSchema get() {
        Task task = lease.task();
        if (cursor != null) {
            throw new IllegalStateException("the schema of task " + task.id() + " was asked for twice by sink " + lane.sink);
        }
        RowCursor c = lane.context.puller().open(task);
        cursor = c;
        if (withdrawn) {
            throw new RelayException("task " + task.id() + " was withdrawn", true);
        }
        return c.schema();
    }

    /** Submits the finish turn and takes the task it handed to this worker, if any. Worker thread. */
    private TaskRun finish() {
        flags |= ATTEMPTED;
        try {
            lane.context.control().execute(this);
        } catch (RejectedExecutionException e) {
            // the relay has shut down and withdrawn this run: its lease was ended already
            LOG.debug("task {} ended after shutdown; its lease was already ended", lease.task().id());
        }
        Object next = HANDOFF.getAndSet(this, CLOSED);
        if (next != null) {
            return (TaskRun) next;
        }
        return lane.context.orphans().pop(); // a start whose own worker had left: run it rather than leave
    }

    /**
     * Hands the next task to the worker that ran this one, if that worker has not left yet. Control turn.
     *
     * @param next a task just dispatched
     * @return true if this run's worker will run it; false if the caller must execute it
     */
    boolean handOff(TaskRun next) {
        return HANDOFF.compareAndSet(this, null, next);
    }

    /**
     * Claims the ending of this run's lease, once: the worker for a successful attempt, the control turn when it
     * abandons the run.
     *
     * @param who {@link #BY_WORKER} or {@link #BY_CONTROL}
     * @return true if the caller ends the lease; false if the other side did
     */
    boolean claimEnding(byte who) {
        return ENDING.compareAndSet(this, OPEN, who);
    }

    /** @return whether the worker found the lease taken back by the backend when it completed it */
    boolean leaseLost() {
        return (flags & LEASE_LOST) != 0;
    }

    /** @return whether the permit limit was binding when the run started (control turn) */
    boolean atLimit() {
        return (flags & AT_LIMIT) != 0;
    }

    /** Records whether the permit limit was binding when the run started (control turn, at dispatch). */
    void atLimit(boolean binding) {
        flags = (byte) (binding ? flags | AT_LIMIT : flags & ~AT_LIMIT);
    }

    /** The {@link Orphans} stack's link: plain accesses, ordered by the stack's compare-and-set of its head. */
    TaskRun nextOrphan() {
        return (TaskRun) HANDOFF.get(this);
    }

    void nextOrphan(TaskRun next) {
        HANDOFF.set(this, next);
    }

    /** Withdraws the attempt: it will not commit if it has not begun to, and its query is cancelled. Control turn. */
    void withdraw() {
        withdrawn = true;
        RowCursor c = cursor;
        if (c != null) {
            try {
                c.cancel();
            } catch (RuntimeException e) {
                LOG.warn("cancelling task {} failed", lease.task().id(), e);
            }
        }
    }

    /** @return whether the attempt was withdrawn */
    boolean withdrawn() {
        return withdrawn;
    }

    @Override
    public String toString() {
        return "TaskRun[" + lease.task().id() + " " + lane.name + " attempt " + lease.task().attempt() + " " + stage() + "]";
    }
}
