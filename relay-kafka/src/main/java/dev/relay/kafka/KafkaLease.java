package dev.relay.kafka;

import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.Task;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A lease on one delivery. Ending it only flips its state and posts the {@link Ending} to whoever owns the
 * delivery's offsets (the consumer thread's mailbox), so an ending never blocks on Kafka. It knows neither the
 * buffer it came from nor the loop that processes its ending.
 *
 * <p>Threadsafe: the state is an atomic reference, so exactly one of a racing ending and a revocation wins.
 */
final class KafkaLease implements Lease {

    /** The states of a lease; every state but ACTIVE is final. */
    enum State { ACTIVE, COMPLETED, RETRIED, DEAD_LETTERED, RELEASED, LOST }

    /**
     * An ending posted to the owner of the delivery.
     *
     * @param lease the lease
     * @param kind how it ended
     * @param notBefore for a retry, when it may run again; else null
     * @param reason for a retry or dead letter, why; else null
     */
    record Ending(KafkaLease lease, State kind, Instant notBefore, String reason) {
    }

    private final Delivery delivery;
    private final Consumer<Ending> owner;
    private final Clock clock;
    private final AtomicReference<State> state = new AtomicReference<>(State.ACTIVE);

    /**
     * @param delivery what the lease hands out
     * @param owner receives the ending (must not block)
     * @param clock the queue's clock, for retry times
     */
    KafkaLease(Delivery delivery, Consumer<Ending> owner, Clock clock) {
        this.delivery = delivery;
        this.owner = owner;
        this.clock = clock;
    }

    Delivery delivery() {
        return delivery;
    }

    boolean isActive() {
        return state.get() == State.ACTIVE;
    }

    /** @return true if the lease was active and is now lost */
    boolean markLost() {
        return state.compareAndSet(State.ACTIVE, State.LOST);
    }

    @Override
    public Task task() {
        return delivery.task();
    }

    @Override
    public Instant readySince() {
        return delivery.readySince();
    }

    @Override
    public void complete() {
        end(State.COMPLETED, null, null);
    }

    @Override
    public void retry(Duration delay, String reason) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("retry delay must not be negative but was " + delay);
        }
        end(State.RETRIED, clock.instant().plus(delay), reason == null ? "" : reason);
    }

    @Override
    public void deadLetter(String reason) {
        end(State.DEAD_LETTERED, null, Objects.requireNonNull(reason, "reason"));
    }

    @Override
    public void release() {
        end(State.RELEASED, null, null);
    }

    private void end(State to, Instant notBefore, String reason) {
        if (!state.compareAndSet(State.ACTIVE, to)) {
            State s = state.get();
            if (s == State.LOST) {
                throw new LeaseLostException("lease of task " + task().id() + " (" + delivery.where() + ", attempt "
                        + task().attempt() + ") was lost: its partition was revoked or the queue closed; the task will"
                        + " be handed out again");
            }
            throw new IllegalStateException("lease of task " + task().id() + " already ended: " + s);
        }
        owner.accept(new Ending(this, to, notBefore, reason));
    }

    @Override
    public String toString() {
        return "KafkaLease[" + delivery.task() + " " + delivery.where() + " " + state.get() + "]";
    }
}
