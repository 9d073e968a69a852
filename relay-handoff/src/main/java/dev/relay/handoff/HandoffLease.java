package dev.relay.handoff;

import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.Task;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;

/**
 * A lease of one committed hand-off (a manifest in a tasks topic). Ending it posts an ending to the intake loop;
 * the loop owns every offset. Threadsafe: the state is one atomic, the rest is immutable.
 */
final class HandoffLease implements Lease {

    static final int ACTIVE = 0;
    static final int ENDED = 1;
    static final int LOST = 2;

    enum Kind { COMPLETED, RETRIED, DEAD_LETTERED, RELEASED }

    record Ending(HandoffLease lease, Kind kind, Duration delay, String reason) {
    }

    final Manifest manifest;
    final Task task;
    final TopicPartition tp;
    final long offset;
    final long epoch;
    final byte[] value;
    private final IntakeLoop loop;
    private final AtomicInteger state = new AtomicInteger(ACTIVE);
    /** Set by the cursor that read this delivery completely and checked it (any worker thread). */
    volatile boolean read;

    HandoffLease(Manifest manifest, Task task, TopicPartition tp, long offset, long epoch, byte[] value, IntakeLoop loop) {
        this.manifest = manifest;
        this.task = task;
        this.tp = tp;
        this.offset = offset;
        this.epoch = epoch;
        this.value = value;
        this.loop = loop;
    }

    /** @return a new lease of the same record for a later attempt */
    HandoffLease next(int attempt) {
        return new HandoffLease(manifest, task.withAttempt(attempt), tp, offset, epoch, value, loop);
    }

    @Override
    public Task task() {
        return task;
    }

    @Override
    public Instant readySince() {
        return manifest.handedOffAt();
    }

    @Override
    public void complete() {
        end(Kind.COMPLETED, null, null);
    }

    @Override
    public void retry(Duration delay, String reason) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("retry delay must not be negative but was " + delay);
        }
        end(Kind.RETRIED, delay, reason);
    }

    @Override
    public void deadLetter(String reason) {
        end(Kind.DEAD_LETTERED, null, Objects.requireNonNull(reason, "reason"));
    }

    @Override
    public void release() {
        end(Kind.RELEASED, null, null);
    }

    boolean active() {
        return state.get() == ACTIVE;
    }

    /** Marks the lease lost (partition revoked, queue closed); @return whether it was active */
    boolean lose() {
        return state.compareAndSet(ACTIVE, LOST);
    }

    private void end(Kind kind, Duration delay, String reason) {
        if (!state.compareAndSet(ACTIVE, ENDED)) {
            if (state.get() == LOST) {
                throw new LeaseLostException("lease of task " + task.id() + " (" + tp + "@" + offset
                        + ") was lost: its partition was revoked or the queue closed; it will be handed out again");
            }
            throw new IllegalStateException("lease of task " + task.id() + " (" + tp + "@" + offset + ") already ended");
        }
        loop.submit(new Ending(this, kind, delay, reason));
    }

    @Override
    public String toString() {
        return "HandoffLease[" + task + " at " + tp + "@" + offset + "]";
    }
}
