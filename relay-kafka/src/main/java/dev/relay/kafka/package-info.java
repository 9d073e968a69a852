/**
 * The Kafka backend of relay: a {@link dev.relay.api.TaskQueue} with one topic per lane.
 *
 * <p>Public surface:
 * <ul>
 *   <li>{@link dev.relay.kafka.KafkaTaskQueue} — the queue on a classic consumer group, built with
 *       {@link dev.relay.kafka.KafkaTaskQueue#builder()};
 *   <li>{@link dev.relay.kafka.KafkaShareTaskQueue} — the queue on share groups (KIP-932, Kafka 4.2+), one per lane;
 *   <li>{@link dev.relay.kafka.KafkaTopics} — the topic layout (lane, retry and dead-letter topics, partitions,
 *       replication, retention checked against the longest expected outage) and its admin operations;
 *   <li>{@link dev.relay.kafka.TaskRecordCodec} — the documented, versioned record encoding of a task, and the header
 *       names of retry and dead-letter records;
 *   <li>{@link dev.relay.kafka.KafkaDeadLetters} — the lanes' dead letters (list, replay, purge), from a queue or
 *       on their own for operators' tools;
 *   <li>{@link dev.relay.kafka.LayoutMigration} — moves a legacy single task topic into the lane topics,
 *       exactly once and resumably.
 * </ul>
 * Everything else in this package is package-private and may change at any time.
 *
 * <h2>Usage</h2>
 * <pre>{@code
 * KafkaTopics topics = KafkaTopics.builder().prefix("pems.").partitions(6).replicationFactor(3)
 *         .retention(Duration.ofDays(30)).longestOutage(Duration.ofDays(21)).build();
 * try (KafkaTaskQueue queue = KafkaTaskQueue.builder()
 *         .bootstrapServers("kafka1:9092,kafka2:9092").groupId("pems-relay")
 *         .topics(topics).createTopics(true).prefetchPerLane(100).build()) {
 *     queue.subscribe(Set.of("realtime", "config", "backfill"));
 *     queue.offer(Task.snapshot("config", "PEMS.DETECTOR_CONFIG", Snapshot.of(LocalDate.now())));
 *     for (Lease lease : queue.poll("config", 10)) {   // never blocks
 *         sink.write(lease.task());                     // idempotent on lease.task().id()
 *         lease.complete();                             // or retry(delay, reason) / deadLetter(reason)
 *     }
 * }
 * }</pre>
 *
 * <h2>Guarantees</h2>
 * At least once: a task offered is handed out until a lease of it completes, retries or dead-letters (and the
 * retry or dead-letter record is acknowledged). A crash or rebalance re-delivers exactly the records not
 * completed as of the last commit; records completed out of order above an open one are remembered in the
 * commit's metadata and are not re-delivered. Sinks are idempotent on {@link dev.relay.api.Task#id()}. A crash
 * counts an attempt for the tasks the crashed process may have been running, so that a task that kills its
 * process every time is dead-lettered after its lane's attempts (see {@link dev.relay.kafka.KafkaTaskQueue}).
 */
package dev.relay.kafka;
