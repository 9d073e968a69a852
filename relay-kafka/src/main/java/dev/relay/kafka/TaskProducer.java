package dev.relay.kafka;

import dev.relay.api.QueueException;
import dev.relay.api.Task;
import dev.relay.api.TasksNotAcceptedException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * The offer side of the Kafka queues: checks the lanes of a batch (their topics ready, or created), encodes every
 * task, sends the whole batch, and waits once for all acknowledgements, naming exactly the tasks that failed.
 *
 * <p>Threadsafe: offers may come from any thread (the producer is threadsafe, {@link LaneTopics} serializes the
 * first offers to a new lane).
 */
final class TaskProducer {

    private final LazyProducer producers;
    private final String bootstrapServers;
    private final java.util.Map<String, Object> clientProperties;
    private final KafkaTopics topics;
    private final LaneTopics laneTopics;
    private final Clock clock;
    private final Duration offerTimeout;

    TaskProducer(LazyProducer producers, QueueConfig config, LaneTopics laneTopics) {
        this.producers = producers;
        this.bootstrapServers = config.bootstrapServers();
        this.clientProperties = config.clientProperties();
        this.topics = config.topics();
        this.laneTopics = laneTopics;
        this.clock = config.clock();
        this.offerTimeout = config.offerTimeout();
    }

    /** A task whose record was not acknowledged. */
    private record Failure(Task task, String reason, Throwable cause, boolean retryable) {
    }

    /**
     * Offers one task.
     *
     * @param task the task
     * @param closed whether the queue is closed
     * @throws QueueException naming the task if it was not accepted
     */
    void offer(Task task, boolean closed) {
        Objects.requireNonNull(task, "task");
        List<Failure> failures = send(List.of(task), closed);
        if (!failures.isEmpty()) {
            Failure f = failures.get(0);
            throw new QueueException("task " + task.id() + " was not accepted: " + f.reason(), f.cause(), f.retryable());
        }
    }

    /**
     * Offers a batch.
     *
     * @param tasks the tasks
     * @param closed whether the queue is closed
     * @throws TasksNotAcceptedException naming exactly the tasks not accepted
     */
    void offerAll(List<Task> tasks, boolean closed) {
        Objects.requireNonNull(tasks, "tasks");
        if (tasks.isEmpty()) {
            return;
        }
        List<Failure> failures = send(tasks, closed);
        if (failures.isEmpty()) {
            return;
        }
        List<Task> notAccepted = new ArrayList<>(failures.size());
        boolean retryable = true;
        for (Failure f : failures) {
            notAccepted.add(f.task());
            retryable &= f.retryable();
        }
        Failure first = failures.get(0);
        throw new TasksNotAcceptedException(notAccepted, tasks.size(), new QueueException("task " + first.task().id()
                + ": " + first.reason(), first.cause(), first.retryable()), retryable);
    }

    /** @return the failures, in the order of the tasks; empty if every record was acknowledged */
    private List<Failure> send(List<Task> tasks, boolean closed) {
        Set<String> batchLanes = new HashSet<>();
        for (int i = 0; i < tasks.size(); i++) {
            Task t = Objects.requireNonNull(tasks.get(i), "task " + i + " of the batch");
            batchLanes.add(KafkaTopics.requireLane(t.lane()));
        }
        if (closed) {
            List<Failure> all = new ArrayList<>(tasks.size());
            for (Task t : tasks) {
                all.add(new Failure(t, "the queue is closed", null, false));
            }
            return all;
        }
        laneTopics.ensure(batchLanes);
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(tasks.size());
        for (Task t : tasks) { // encode all first: a task that cannot be encoded fails the batch before any send
            records.add(new ProducerRecord<>(topics.laneTopic(t.lane()), t.id().getBytes(StandardCharsets.UTF_8),
                    TaskRecordCodec.encode(t)));
        }
        Producer<byte[], byte[]> producer;
        try {
            producer = producers.get();
        } catch (QueueException e) { // closed, or refused and still backing off: fail at once, no new client
            List<Failure> all = new ArrayList<>(tasks.size());
            for (Task t : tasks) {
                all.add(new Failure(t, e.getMessage(), e, e.retryable()));
            }
            return all;
        }
        List<Future<RecordMetadata>> acks = new ArrayList<>(tasks.size());
        for (ProducerRecord<byte[], byte[]> r : records) {
            try {
                acks.add(producer.send(r));
            } catch (KafkaException e) {
                acks.add(CompletableFuture.failedFuture(e));
            }
        }
        List<Failure> failures = new ArrayList<>();
        Throwable reported = null;
        long deadline = clock.millis() + offerTimeout.toMillis();
        for (int i = 0; i < tasks.size(); i++) {
            Task t = tasks.get(i);
            try {
                acks.get(i).get(Math.max(0, deadline - clock.millis()), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                ClientFailures.Kind kind = ClientFailures.classify(c);
                String hint = ClientFailures.hint(kind, bootstrapServers, clientProperties);
                failures.add(new Failure(t, "not accepted by Kafka: " + c.getMessage() + (hint.isEmpty() ? "" : " — " + hint), c,
                        c instanceof RetriableException || kind.fatal()));
                reported = reported == null ? c : reported;
            } catch (TimeoutException e) {
                failures.add(new Failure(t, "not acknowledged within " + offerTimeout
                        + "; it may still arrive (offering it again is harmless) — "
                        + ClientFailures.hint(ClientFailures.Kind.UNREACHABLE, bootstrapServers, clientProperties), e, true));
                reported = reported == null ? e : reported;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                for (int j = i; j < tasks.size(); j++) {
                    failures.add(new Failure(tasks.get(j), "interrupted while waiting for the acknowledgement", e, true));
                }
                break;
            }
        }
        if (reported != null) {
            producers.failed(producer, reported);
        } else if (failures.isEmpty()) {
            producers.succeeded();
        }
        return failures;
    }
}
