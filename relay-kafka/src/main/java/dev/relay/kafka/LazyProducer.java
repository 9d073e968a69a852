package dev.relay.kafka;

import dev.relay.api.QueueException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;

/**
 * A queue's one producer, made on first use rather than when the queue is built, and thrown away after a
 * {@linkplain ClientFailures.Kind#fatal() fatal} failure. An idempotent producer asks the cluster for a producer id as
 * soon as it exists and, refused (no credentials, no ACL), asks again in a tight loop on its own I/O thread — the log
 * flood of issue 19. Made lazily, a queue that offers nothing never starts that loop; closed at its first fatal
 * failure, a refused producer stops asking. Until {@link ClientHealth}'s backoff for the producer has passed,
 * {@link #get()} fails at once with the failure's description instead of making a new producer; after it, the next
 * use makes one and tries again (so a granted ACL heals the queue without a restart).
 *
 * <p>Threadsafe: {@code get}, {@code failed} and {@code close} may be called from any thread but the producer's own
 * I/O thread (its callbacks post to the consumer thread, which reports from there); one lock guards the producer.
 */
final class LazyProducer {

    private final Supplier<Producer<byte[], byte[]>> factory;
    private final ClientHealth health;
    private final Clock clock;
    private Producer<byte[], byte[]> producer; // guarded by this
    private boolean closed; // guarded by this

    LazyProducer(Supplier<Producer<byte[], byte[]>> factory, ClientHealth health, Clock clock) {
        this.factory = factory;
        this.health = health;
        this.clock = clock;
    }

    /**
     * @return the producer, made now if there is none
     * @throws QueueException if the queue is closed, or the producer failed fatally and its backoff has not passed
     *         (retryable: it may heal)
     */
    synchronized Producer<byte[], byte[]> get() {
        if (closed) {
            throw new QueueException("the queue is closed", null, false);
        }
        if (producer == null) {
            long retryAt = health.retryAt(ClientHealth.Client.PRODUCER);
            ClientHealth.Problem p = health.problem(ClientHealth.Client.PRODUCER);
            if (p != null && p.kind().fatal() && clock.millis() < retryAt) {
                throw new QueueException("the Kafka producer " + p.message(), null, true);
            }
            producer = factory.get();
        }
        return producer;
    }

    /**
     * Reports a failed send of the given producer; a fatal failure closes it (at once, failing its other sends) so that
     * it stops retrying on its own, and the next {@link #get()} after the backoff makes a new one.
     *
     * @param used the producer the send went to, or null for the current one
     * @param failure the failure
     */
    void failed(Producer<byte[], byte[]> used, Throwable failure) {
        ClientFailures.Kind kind = health.failed(ClientHealth.Client.PRODUCER, failure);
        if (!kind.fatal()) {
            return;
        }
        Producer<byte[], byte[]> broken;
        synchronized (this) {
            if (producer == null || (used != null && producer != used)) {
                return; // already replaced
            }
            broken = producer;
            producer = null;
        }
        broken.close(Duration.ZERO);
    }

    /**
     * @param earliest when the caller would try again anyway (epoch millis)
     * @return the later of that and the end of the producer's backoff
     */
    long resendAt(long earliest) {
        Instant blocked = blockedUntil();
        return blocked == null ? earliest : Math.max(earliest, blocked.toEpochMilli());
    }

    /** Reports an acknowledged send. */
    void succeeded() {
        health.succeeded(ClientHealth.Client.PRODUCER);
    }

    /** @return when a producer may be made again after a fatal failure, or null if it may now */
    Instant blockedUntil() {
        long at = health.retryAt(ClientHealth.Client.PRODUCER);
        return health.fatal(ClientHealth.Client.PRODUCER) && at > clock.millis() ? Instant.ofEpochMilli(at) : null;
    }

    /** Closes the producer, if one was made, waiting up to the timeout for what it sends; later uses fail. */
    void close(Duration timeout) {
        Producer<byte[], byte[]> p;
        synchronized (this) {
            closed = true;
            p = producer;
            producer = null;
        }
        if (p != null) {
            p.close(timeout);
        }
    }
}
