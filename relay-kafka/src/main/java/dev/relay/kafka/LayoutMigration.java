package dev.relay.kafka;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.Names;
import dev.relay.api.Task;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Moves the tasks of a legacy single task topic into the per-lane topics of a {@link KafkaTopics} layout,
 * exactly once, resumably: what the old relay did by hand in a maintenance window.
 *
 * <h2>How</h2>
 * A transactional producer and a {@code read_committed} consumer (a "consume-transform-produce" loop, KIP-98
 * and KIP-447). Each batch of legacy records is decoded, routed to a lane by the {@linkplain Builder#router
 * routing function}, written to that lane's topic, and the batch's next offsets are committed to the
 * migration's consumer group <em>in the same transaction</em> ({@code sendOffsetsToTransaction}). So either
 * the batch's tasks are in the lane topics and the legacy offsets moved past them, or neither happened.
 *
 * <p>After a crash, running the migration again with the same {@linkplain Builder#transactionalId
 * transactional id} fences the dead instance ({@code initTransactions} aborts its open transaction) and
 * resumes from the committed offsets: every legacy record ends up in exactly one lane topic, once, as seen
 * by {@code read_committed} readers such as {@link KafkaTaskQueue}. A record that does not decode or route
 * goes to the {@linkplain Builder#rejectTopic reject topic} with the reason in the
 * {@value TaskRecordCodec#HEADER_DLT_REASON} header, in the same transaction.
 *
 * <p>{@link #run()} migrates what the legacy topic held when it started, then returns. Stop the old
 * producers first; records written to the legacy topic later are migrated by the next run.
 *
 * <p>Instances are immutable; {@link #run()} may be called from any thread, but two runs with the same
 * transactional id fence each other (the older one fails), so run one at a time.
 */
public final class LayoutMigration {

    private final Builder b;
    private final KafkaTopics topics;
    private final Map<String, Object> clientProperties;
    private final Function<Task, String> router;
    private final Function<byte[], Task> decoder;
    private final LongConsumer afterRecord;

    private LayoutMigration(Builder b) {
        this.b = b.copy();
        this.topics = b.topics;
        this.clientProperties = Map.copyOf(b.clientProperties);
        this.router = b.router;
        this.decoder = b.decoder;
        this.afterRecord = b.afterRecord;
    }

    /** @return a builder; bootstrap servers, the source topic and the router are required */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * What a run moved. Immutable.
     *
     * @param migrated legacy records written to lane topics by this run
     * @param rejected legacy records written to the reject topic by this run
     * @param perLane records written per lane by this run
     */
    public record Result(long migrated, long rejected, Map<String, Long> perLane) {
        /**
         * Copies the map.
         *
         * @param migrated legacy records written to lane topics by this run
         * @param rejected legacy records written to the reject topic by this run
         * @param perLane records written per lane by this run
         */
        public Result {
            perLane = Map.copyOf(perLane);
        }
    }

    /**
     * Migrates the legacy topic up to its end as of now, resuming where an earlier run stopped.
     *
     * @return what this run moved
     * @throws IllegalStateException if another run with the same transactional id took over
     * @throws KafkaException if the cluster kept failing
     */
    public Result run() {
        Properties pp = new Properties();
        pp.putAll(ClientDefaults.defaults());
        pp.putAll(clientProperties);
        pp.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, b.transactionalId);
        pp.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, Long.toString(b.transactionTimeout.toMillis()));
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

        Properties cp = new Properties();
        cp.putAll(ClientDefaults.defaults());
        cp.putAll(clientProperties);
        cp.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, b.groupId);
        cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(b.batchSize));
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

        Map<String, Long> perLane = new TreeMap<>();
        long migrated = 0;
        long rejected = 0;
        long seen = 0;
        Set<String> lanesReady = new HashSet<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);
                KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp);
                Admin admin = b.createTopics ? Admin.create(adminProps()) : null) {
            // fences an earlier run with the same transactional id and aborts its open transaction
            producer.initTransactions();
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo pi : consumer.partitionsFor(b.sourceTopic, b.timeout)) {
                parts.add(new TopicPartition(b.sourceTopic, pi.partition()));
            }
            if (parts.isEmpty()) {
                throw new IllegalStateException("legacy topic '" + b.sourceTopic + "' does not exist");
            }
            if (admin != null) {
                ensureTopic(admin, b.rejectTopic);
            }
            consumer.assign(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, b.timeout);
            while (!caughtUp(consumer, parts, end)) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
                if (records.isEmpty()) {
                    continue;
                }
                Map<TopicPartition, Long> batchStart = new HashMap<>();
                for (TopicPartition tp : records.partitions()) {
                    batchStart.put(tp, records.records(tp).get(0).offset());
                }
                Map<String, Long> batchLanes = new HashMap<>();
                long batchRejected = 0;
                try {
                    producer.beginTransaction();
                    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                    for (ConsumerRecord<byte[], byte[]> rec : records) {
                        String lane;
                        ProducerRecord<byte[], byte[]> out;
                        try {
                            Task task = Objects.requireNonNull(decoder.apply(rec.value()), "decoder returned null");
                            lane = KafkaTopics.requireLane(Objects.requireNonNull(router.apply(task), "router returned null"));
                            Task routed = task.withLane(lane);
                            if (admin != null && lanesReady.add(lane)) {
                                topics.create(admin, List.of(lane), b.timeout);
                            }
                            out = new ProducerRecord<>(topics.laneTopic(lane), null, rec.timestamp(),
                                    routed.id().getBytes(StandardCharsets.UTF_8), TaskRecordCodec.encode(routed));
                        } catch (InvalidTaskException | IllegalArgumentException | NullPointerException e) {
                            lane = null;
                            RecordHeaders h = new RecordHeaders();
                            h.add(TaskRecordCodec.HEADER_DLT_REASON, String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8));
                            h.add(TaskRecordCodec.HEADER_DLT_ORIGIN, (rec.topic() + "-" + rec.partition() + "@" + rec.offset())
                                    .getBytes(StandardCharsets.UTF_8));
                            out = new ProducerRecord<>(b.rejectTopic, null, rec.timestamp(), rec.key(), rec.value(), h);
                        }
                        producer.send(out);
                        if (lane == null) {
                            batchRejected++;
                        } else {
                            batchLanes.merge(lane, 1L, Long::sum);
                        }
                        next.put(new TopicPartition(rec.topic(), rec.partition()), new OffsetAndMetadata(rec.offset() + 1));
                        seen++;
                        afterRecord.accept(seen);
                    }
                    producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
                    producer.commitTransaction();
                } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
                    throw new IllegalStateException("migration of '" + b.sourceTopic + "' (transactional id '"
                            + b.transactionalId + "') cannot go on: " + e.getMessage(), e);
                } catch (KafkaException e) {
                    producer.abortTransaction();
                    batchStart.forEach(consumer::seek); // the batch is done again in a new transaction
                    continue;
                }
                batchLanes.forEach((lane, n) -> perLane.merge(lane, n, Long::sum));
                migrated += batchLanes.values().stream().mapToLong(Long::longValue).sum();
                rejected += batchRejected;
            }
        }
        return new Result(migrated, rejected, perLane);
    }

    private static boolean caughtUp(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> parts,
            Map<TopicPartition, Long> end) {
        for (TopicPartition tp : parts) {
            if (consumer.position(tp) < end.getOrDefault(tp, 0L)) {
                return false;
            }
        }
        return true;
    }

    private Map<String, Object> adminProps() {
        Map<String, Object> p = new HashMap<>(clientProperties);
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        return p;
    }

    private void ensureTopic(Admin admin, String topic) {
        try {
            if (!admin.listTopics().names().get().contains(topic)) {
                Map<String, String> configs = Map.of("retention.ms", "-1");
                admin.createTopics(List.of(new NewTopic(topic, 1, topics.replicationFactor()).configs(configs))).all().get();
            }
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new KafkaException("could not create reject topic '" + topic + "'", e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted creating reject topic '" + topic + "'", e);
        }
    }

    @Override
    public String toString() {
        return "LayoutMigration[" + b.sourceTopic + " -> " + topics.prefix() + "<lane>, transactionalId="
                + b.transactionalId + ", group=" + b.groupId + "]";
    }

    /**
     * Builds a {@link LayoutMigration}. Setters check their argument; {@link #build()} checks the whole and
     * copies the settings. Not threadsafe.
     */
    public static final class Builder {
        private String bootstrapServers;
        private final Map<String, Object> clientProperties = new HashMap<>();
        private String sourceTopic;
        private KafkaTopics topics;
        private Function<Task, String> router;
        private Function<byte[], Task> decoder = TaskRecordCodec::decode;
        private String groupId;
        private String transactionalId;
        private String rejectTopic;
        private int batchSize = 500;
        private boolean createTopics;
        private Duration transactionTimeout = Duration.ofMinutes(1);
        private Duration timeout = Duration.ofSeconds(30);
        private LongConsumer afterRecord = n -> { };

        private Builder() {
        }

        private Builder copy() {
            Builder c = new Builder();
            c.bootstrapServers = bootstrapServers;
            c.clientProperties.putAll(clientProperties);
            c.sourceTopic = sourceTopic;
            c.topics = topics;
            c.router = router;
            c.decoder = decoder;
            c.groupId = groupId;
            c.transactionalId = transactionalId;
            c.rejectTopic = rejectTopic;
            c.batchSize = batchSize;
            c.createTopics = createTopics;
            c.transactionTimeout = transactionTimeout;
            c.timeout = timeout;
            c.afterRecord = afterRecord;
            return c;
        }

        /**
         * @param servers the bootstrap servers; required
         * @return this builder
         */
        public Builder bootstrapServers(String servers) {
            Objects.requireNonNull(servers, "bootstrapServers");
            if (servers.isBlank()) {
                throw new IllegalArgumentException("bootstrapServers must not be blank");
            }
            this.bootstrapServers = servers;
            return this;
        }

        /**
         * @param key a client config (security, timeouts); the transactional and isolation settings cannot be
         *        overridden
         * @param value its value
         * @return this builder
         */
        public Builder clientProperty(String key, Object value) {
            Objects.requireNonNull(key, "client property key");
            clientProperties.put(key, Objects.requireNonNull(value, () -> "value of client property " + key));
            return this;
        }

        /**
         * Adds client properties, as {@link #clientProperty} does each of them: the same map serves every client relay
         * makes (the queue's, the migration's, the hand-off's, the permits'), for instance the security settings of
         * the README's "Secured clusters".
         *
         * @param properties client properties to add
         * @return this builder
         * @throws IllegalArgumentException naming a property that cannot be set here
         */
        public Builder clientProperties(Map<String, ?> properties) {
            Objects.requireNonNull(properties, "client properties");
            properties.forEach(this::clientProperty);
            return this;
        }

        /**
         * @param topic the legacy single task topic; required
         * @return this builder
         */
        public Builder sourceTopic(String topic) {
            Objects.requireNonNull(topic, "sourceTopic");
            if (!topic.matches("[a-zA-Z0-9._-]{1,249}")) {
                throw new IllegalArgumentException("source topic '" + Names.printable(topic) + "' is not a topic name");
            }
            this.sourceTopic = topic;
            return this;
        }

        /**
         * @param topics the target layout; default {@code KafkaTopics.builder().build()}
         * @return this builder
         */
        public Builder topics(KafkaTopics topics) {
            this.topics = Objects.requireNonNull(topics, "topics");
            return this;
        }

        /**
         * @param router picks the lane of each legacy task; required. Must be deterministic: a resumed run routes
         *        the same task to the same lane
         * @return this builder
         */
        public Builder router(Function<Task, String> router) {
            this.router = Objects.requireNonNull(router, "router");
            return this;
        }

        /**
         * @param decoder reads a legacy record value; default {@link TaskRecordCodec#decode}. Throw
         *        {@link InvalidTaskException} or {@link IllegalArgumentException} for a record that cannot be
         *        read: it goes to the reject topic
         * @return this builder
         */
        public Builder decoder(Function<byte[], Task> decoder) {
            this.decoder = Objects.requireNonNull(decoder, "decoder");
            return this;
        }

        /**
         * @param groupId the consumer group that holds the migration's progress; default
         *        {@code relay-migration-<source topic>}
         * @return this builder
         */
        public Builder groupId(String groupId) {
            this.groupId = Objects.requireNonNull(groupId, "groupId");
            return this;
        }

        /**
         * @param id the transactional id; a resumed run must use the same one to fence a dead one; default
         *        {@code relay-migration-<source topic>}
         * @return this builder
         */
        public Builder transactionalId(String id) {
            this.transactionalId = Objects.requireNonNull(id, "transactionalId");
            return this;
        }

        /**
         * @param topic where records that do not decode or route go; default {@code <source topic>.rejected}
         * @return this builder
         */
        public Builder rejectTopic(String topic) {
            this.rejectTopic = Objects.requireNonNull(topic, "rejectTopic");
            return this;
        }

        /**
         * @param size legacy records per transaction; 1..100000, default 500
         * @return this builder
         */
        public Builder batchSize(int size) {
            if (size < 1 || size > 100_000) {
                throw new IllegalArgumentException("batchSize must be in 1..100000 but was " + size);
            }
            this.batchSize = size;
            return this;
        }

        /**
         * @param create whether to create missing lane topics and the reject topic; default false
         * @return this builder
         */
        public Builder createTopics(boolean create) {
            this.createTopics = create;
            return this;
        }

        /**
         * @param timeout the producer's transaction timeout: an open transaction of a crashed run is aborted by
         *        the broker after it (or at once when the run is resumed); positive, default 1 min
         * @return this builder
         */
        public Builder transactionTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "transactionTimeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("transactionTimeout must be positive but was " + timeout);
            }
            this.transactionTimeout = timeout;
            return this;
        }

        /** Failure injection for tests: called after each legacy record is sent, with the count so far. */
        Builder afterRecord(LongConsumer hook) {
            this.afterRecord = Objects.requireNonNull(hook, "hook");
            return this;
        }

        /**
         * @return the migration
         * @throws IllegalStateException naming the missing setting
         */
        public LayoutMigration build() {
            if (bootstrapServers == null) {
                throw new IllegalStateException("bootstrapServers is required");
            }
            if (sourceTopic == null) {
                throw new IllegalStateException("sourceTopic is required");
            }
            if (router == null) {
                throw new IllegalStateException("a router (Task -> lane) is required");
            }
            Builder c = copy();
            if (c.topics == null) {
                c.topics = KafkaTopics.builder().build();
            }
            if (c.groupId == null) {
                c.groupId = "relay-migration-" + sourceTopic;
            }
            if (c.transactionalId == null) {
                c.transactionalId = "relay-migration-" + sourceTopic;
            }
            if (c.rejectTopic == null) {
                c.rejectTopic = sourceTopic + ".rejected";
            }
            if (c.topics.laneOf(c.rejectTopic).isPresent()) {
                throw new IllegalStateException("reject topic '" + c.rejectTopic + "' would be read as a lane topic");
            }
            return new LayoutMigration(c);
        }
    }
}
