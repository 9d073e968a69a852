package dev.relay.kafka;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * How other threads talk to the consumer thread: lease endings, send results and commands go into one
 * lock-free queue that the consumer thread drains at one point of its turn. Posting never blocks.
 *
 * <p>Waking: the consumer thread spends most of its time inside {@code Consumer.poll}, or, while it waits for
 * leases to end (revocation, close, flush), parked in {@link #await}. An urgent post (a command, a released
 * lease, room in a drained lane) wakes it from either; while the owner is {@linkplain #eager eager} every post
 * is urgent. Non-urgent posts (the common completion) wait for the next turn, at most one poll interval, which
 * is what keeps the cost per task low: no wake-up per completion.
 *
 * <p>Waking a consumer out of {@code poll} uses {@code Consumer.wakeup()}, which makes the current or the
 * <em>next</em> blocking consumer call throw {@code WakeupException}. The mailbox only calls it while the owner is
 * inside {@code poll} ({@link #beginPoll}/{@link #endPoll}); if the owner leaves {@code poll} in the same instant,
 * the wake-up may hit its next blocking call, which the owner therefore retries once on
 * {@code WakeupException}.
 *
 * <p>Threadsafe: {@link #post}, {@link #wake} from any thread; {@link #drain}, {@link #await},
 * {@link #beginPoll}, {@link #endPoll} and {@link #eager(boolean)} from the owner thread only.
 */
final class Mailbox {

    private final ConcurrentLinkedQueue<Object> events = new ConcurrentLinkedQueue<>();
    private final Runnable pollWakeup;
    private final AtomicBoolean wakeRequested = new AtomicBoolean();
    private volatile boolean polling;
    private volatile Thread parked;
    private volatile boolean eager;

    /** @param pollWakeup wakes the owner out of {@code Consumer.poll} ({@code consumer::wakeup}) */
    Mailbox(Runnable pollWakeup) {
        this.pollWakeup = pollWakeup;
    }

    /**
     * Posts an event (any thread).
     *
     * @param event the event
     * @param urgent whether the owner should handle it now rather than at its next turn
     */
    void post(Object event, boolean urgent) {
        events.add(event);
        if (urgent || eager) {
            wake();
        }
    }

    /** Wakes the owner (any thread): out of {@link #await} or {@code poll}, or makes its next poll not block. */
    void wake() {
        Thread t = parked;
        if (t != null) {
            LockSupport.unpark(t);
        }
        if (wakeRequested.compareAndSet(false, true) && polling) {
            pollWakeup.run();
        }
    }

    /** @param on whether every post should wake the owner (it is waiting for endings or acknowledgements) */
    void eager(boolean on) {
        eager = on;
    }

    /**
     * Hands every queued event to the handler (owner thread).
     *
     * @param handler handles one event
     * @return how many events were handled
     */
    int drain(Consumer<Object> handler) {
        int n = 0;
        Object e;
        while ((e = events.poll()) != null) {
            handler.accept(e);
            n++;
        }
        return n;
    }

    /** @return whether events wait */
    boolean isEmpty() {
        return events.isEmpty();
    }

    /**
     * Parks the owner until an event is posted or the time passes (owner thread).
     *
     * @param nanos the longest wait
     */
    void await(long nanos) {
        if (nanos <= 0) {
            return;
        }
        parked = Thread.currentThread();
        try {
            if (events.isEmpty()) {
                LockSupport.parkNanos(this, Math.min(nanos, TimeUnit.SECONDS.toNanos(1)));
            }
        } finally {
            parked = null;
        }
    }

    /**
     * The owner is about to call {@code poll} (owner thread).
     *
     * @return whether a wake-up was requested meanwhile: then poll without blocking
     */
    boolean beginPoll() {
        polling = true;
        return wakeRequested.get();
    }

    /** The owner left {@code poll} (owner thread). */
    void endPoll() {
        polling = false;
        wakeRequested.set(false);
    }
}
