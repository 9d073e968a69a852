package dev.relay.handoff;

import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The puller host's sink: hands each task's rows to the uploader host through Kafka, in one transaction per task.
 *
 * <h2>What a session writes</h2>
 * A session begins a Kafka transaction on a producer of its own, encodes the rows as they come into chunk records
 * of at most {@link Builder#chunkBytes} (1 MB by default; {@link HandoffFormat}) and sends them to the lane's data
 * topic, all to the partition of the task id. {@code commit()} sends the closing {@link Manifest} (task, schema, row
 * count, CRC-32C of the chunks, their offsets) to the data topic and to the lane's tasks topic, then commits the
 * transaction. Memory is bounded by one chunk and the producer's buffer, not by the task.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li><b>All or nothing.</b> A task's chunks and both copies of its manifest are in one transaction: a
 *       {@code read_committed} reader sees the manifest in the tasks topic only if every chunk it lists committed,
 *       and never sees a manifest of an aborted or crashed session. Every chunk names its task, delivery and sequence
 *       number, so a reader that follows a committed manifest's offsets can tell its chunks from any other record.
 *   <li><b>Fencing.</b> Producer slot {@code i} has the stable {@code transactional.id} {@code <prefix>-i}. A restarted
 *       puller host (same prefix) initialises every slot before its first session: that aborts the transactions
 *       the crashed process left open and fences a zombie of it (a frozen process that wakes up cannot commit). So the
 *       prefix must be stable across restarts of one process and unique among processes.
 *   <li><b>One owner per producer.</b> A session holds its slot from {@code open} to {@code close}, so transactions
 *       of two tasks never mix; at most {@link Builder#producers} sessions are open at once (give it at least the
 *       relay's source permits). {@link SinkSession#abort()} may come from another thread (the engine stopping a
 *       task); it aborts the transaction, and the slot goes back to the pool only at {@code close()} on the owner
 *       thread.
 * </ol>
 *
 * <h2>Which hop is exactly once, and why</h2>
 * <b>Puller host → data topic: at least once, idempotent by task id.</b> The engine's contract is that a lease is
 * completed after its sink committed (and after the completion ledger recorded it), in a separate step. The
 * hand-off transaction cannot include the task queue's offset ({@code sendOffsetsToTransaction}): the sink does not
 * hold the lease, and the Kafka task queue commits the highest <em>contiguous</em> completed offset of records that
 * complete out of order, so committing one task's offset inside its transaction would skip tasks still running
 * below it. A crash between the hand-off's commit and the lease's completion therefore runs the task again and
 * hands it off a second time, under a new delivery id with the same task id. The uploader loads by task id into
 * idempotent sinks (replace the window, swap the snapshot, deterministic staged files), so the warehouse holds the
 * task's rows once. <b>Within the hand-off, exactly once:</b> a task's rows are visible to the uploader completely,
 * once per committed delivery, never partially and never from an aborted transaction (invariant 1).
 *
 * <p>This class is threadsafe: the engine opens sessions of different tasks from several worker threads.
 */
public final class HandoffSink implements Sink, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HandoffSink.class);

    private final Config config;
    private final Slot[] slots;
    private final BlockingQueue<Slot> idle;
    private final Map<String, LaneStats> stats = new ConcurrentHashMap<>();
    private final Object startLock = new Object();
    private volatile boolean started;
    private volatile boolean closed;

    private record Config(String bootstrapServers, String transactionalIdPrefix, HandoffTopics topics, int producers,
            int chunkBytes, int maxRecordBytes, Duration transactionTimeout, Duration slotTimeout, Map<String, Object> clientProperties,
            MeterRegistry registry, Clock clock) {
    }

    private HandoffSink(Config config) {
        this.config = config;
        this.slots = new Slot[config.producers()];
        this.idle = new ArrayBlockingQueue<>(config.producers());
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(i, config.transactionalIdPrefix() + "-" + i);
            idle.add(slots[i]);
        }
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Initialises every producer slot's transactions: aborts what a crashed predecessor with the same
     * transactional ids left open and fences it. {@link #open} does this on first use; call it at start-up to do it
     * at once. Idempotent.
     *
     * @return this sink
     * @throws SinkException if the cluster does not answer within the producer's {@code max.block.ms} (retryable)
     */
    public HandoffSink start() {
        if (started) {
            return this;
        }
        synchronized (startLock) {
            if (started) {
                return this;
            }
            if (closed) {
                throw new IllegalStateException("hand-off sink is closed");
            }
            for (Slot s : slots) {
                s.init();
            }
            started = true;
            LOG.info("hand-off sink started: {} transactional producers {}-0..{}", slots.length, config.transactionalIdPrefix(),
                    slots.length - 1);
        }
        return this;
    }

    @Override
    public SinkSession open(Task task, RowSchema schema) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(schema, "schema");
        start();
        Slot slot;
        try {
            slot = idle.poll(config.slotTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SinkException("interrupted while waiting for a hand-off producer for task " + task.id(), e);
        }
        if (slot == null) {
            throw new SinkException("all " + slots.length + " hand-off producers stayed busy for " + config.slotTimeout()
                    + "; give the hand-off sink at least as many producers as the relay has source permits", null);
        }
        try {
            if (closed) {
                throw new SinkException("hand-off sink is closed", null, false);
            }
            slot.begin();
            return new Session(slot, task, schema);
        } catch (RuntimeException e) {
            slot.broken = true; // a transaction may have begun: the next session re-initialises the producer
            idle.add(slot);
            throw e instanceof SinkException se ? se : new SinkException("could not begin the hand-off transaction of task "
                    + task.id() + " on " + slot.transactionalId + ": " + e.getMessage(), e);
        }
    }

    /** Closes the producers; open transactions are aborted by the brokers (or by the next process's start). */
    @Override
    public void close() {
        closed = true;
        for (Slot s : slots) {
            s.closeProducer(Duration.ofSeconds(5));
        }
    }

    private LaneStats stats(String lane) {
        return stats.computeIfAbsent(lane, l -> new LaneStats(l, config.registry()));
    }

    /** Counters of one lane's hand-offs, as Micrometer meters when a registry was given. */
    static final class LaneStats {
        final AtomicLong tasks = new AtomicLong();
        final AtomicLong rows = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong aborted = new AtomicLong();

        LaneStats(String lane, MeterRegistry registry) {
            if (registry != null) {
                Tags tags = Tags.of("lane", lane);
                FunctionCounter.builder("relay.handoff.tasks", tasks, AtomicLong::get).tags(tags)
                        .description("tasks handed off (transactions committed)").register(registry);
                FunctionCounter.builder("relay.handoff.rows", rows, AtomicLong::get).tags(tags)
                        .description("rows handed off").register(registry);
                FunctionCounter.builder("relay.handoff.bytes", bytes, AtomicLong::get).tags(tags).baseUnit("bytes")
                        .description("chunk bytes handed off").register(registry);
                FunctionCounter.builder("relay.handoff.aborted", aborted, AtomicLong::get).tags(tags)
                        .description("hand-off transactions aborted").register(registry);
            }
        }
    }

    /** @return tasks, rows and chunk bytes handed off in the lane, and transactions aborted, since start */
    long[] handedOff(String lane) {
        LaneStats s = stats.get(lane);
        return s == null ? new long[4] : new long[] {s.tasks.get(), s.rows.get(), s.bytes.get(), s.aborted.get()};
    }

    // ------------------------------------------------------------------ producer slots

    /** One transactional producer; owned by the session holding the slot (or by {@link #start}). */
    private final class Slot {
        final int index;
        final String transactionalId;
        /** Replaced after a fatal producer error (fenced, or an abort that failed); guarded by the slot's owner. */
        volatile Producer<byte[], byte[]> producer;
        volatile boolean broken = true;

        Slot(int index, String transactionalId) {
            this.index = index;
            this.transactionalId = transactionalId;
        }

        void init() {
            if (!broken) {
                return;
            }
            closeProducer(Duration.ZERO);
            Map<String, Object> p = new HashMap<>(config.clientProperties());
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) config.transactionTimeout().toMillis());
            p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, config.maxRecordBytes());
            p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
            // the first send of a transaction begun right after the previous commit may meet CONCURRENT_TRANSACTIONS
            // while the coordinator writes the markers: retry after 10 ms, not the default 100 ms, for every task
            p.putIfAbsent(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 10);
            p.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, Math.min(config.maxRecordBytes(), 1 << 20));
            p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, transactionalId);
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
            KafkaProducer<byte[], byte[]> fresh = new KafkaProducer<>(p);
            try {
                fresh.initTransactions();
            } catch (RuntimeException e) {
                fresh.close(Duration.ZERO);
                throw new SinkException("could not initialise hand-off producer " + transactionalId + ": " + e.getMessage(), e);
            }
            producer = fresh;
            broken = false;
        }

        void begin() {
            init();
            try {
                producer.beginTransaction();
            } catch (RuntimeException e) {
                broken = true;
                throw e;
            }
        }

        void closeProducer(Duration timeout) {
            Producer<byte[], byte[]> p = producer;
            producer = null;
            if (p != null) {
                try {
                    p.close(timeout);
                } catch (RuntimeException e) {
                    LOG.debug("closing hand-off producer {} failed", transactionalId, e);
                }
            }
        }
    }

    // ------------------------------------------------------------------ the session

    private final class Session implements SinkSession {
        private final Slot slot;
        private final Producer<byte[], byte[]> producer;
        private final Task task;
        private final RowSchema schema;
        private final String delivery = UUID.randomUUID().toString();
        private final byte[] key;
        private final String dataTopic;
        private final int partition;
        private final ChunkWriter writer;
        private final CRC32C crc = new CRC32C();
        private final List<Future<RecordMetadata>> sent = new ArrayList<>();
        /** Set by whoever ends the transaction first: commit, abort (any thread) or close. */
        private final AtomicBoolean ended = new AtomicBoolean();
        private long rows;
        private long bytes;
        private boolean committed;
        private boolean released;

        Session(Slot slot, Task task, RowSchema schema) {
            this.slot = slot;
            this.producer = slot.producer;
            this.task = task;
            this.schema = schema;
            this.key = task.id().getBytes(StandardCharsets.UTF_8);
            this.dataTopic = config.topics().dataTopic(task.lane());
            List<PartitionInfo> parts = producer.partitionsFor(dataTopic);
            if (parts == null || parts.isEmpty()) {
                throw new SinkException("data topic '" + dataTopic + "' of lane '" + task.lane() + "' has no partitions;"
                        + " create the hand-off topics (HandoffTopics.create)", null);
            }
            this.partition = Utils.toPositive(Utils.murmur2(key)) % parts.size();
            this.writer = new ChunkWriter(task.id(), delivery, config.chunkBytes());
        }

        @Override
        public void write(List<Row> batch) {
            checkOpen();
            List<byte[]> chunks;
            try {
                chunks = writer.add(batch);
            } catch (IllegalArgumentException e) {
                throw new SinkException("cannot hand off task " + task.id() + ": " + e.getMessage(), e, false);
            }
            for (byte[] chunk : chunks) {
                send(chunk);
            }
            rows += batch.size();
        }

        private void send(byte[] chunk) {
            if (chunk.length > config.maxRecordBytes()) {
                throw new SinkException("a row of task " + task.id() + " encodes to a chunk of " + chunk.length
                        + " bytes, more than maxRecordBytes " + config.maxRecordBytes() + "; raise maxRecordBytes (and the"
                        + " data topic's max.message.bytes)", null, false);
            }
            checkOpen();
            try {
                sent.add(producer.send(new ProducerRecord<>(dataTopic, partition, key, chunk)));
            } catch (KafkaException e) {
                throw failure("sending a chunk", e);
            }
            crc.update(chunk, 0, chunk.length);
            bytes += chunk.length;
        }

        @Override
        public void commit() {
            checkOpen();
            byte[] last;
            try {
                last = writer.finish();
            } catch (IllegalArgumentException e) {
                throw new SinkException("cannot hand off task " + task.id() + ": " + e.getMessage(), e, false);
            }
            if (last != null) {
                send(last);
            }
            List<Long> offsets = new ArrayList<>(sent.size());
            try {
                producer.flush();
                for (Future<RecordMetadata> f : sent) {
                    RecordMetadata md = f.get();
                    if (md.partition() != partition) {
                        throw new IllegalStateException("chunk of task " + task.id() + " landed in partition " + md.partition()
                                + " instead of " + partition);
                    }
                    offsets.add(md.offset());
                }
                Manifest manifest = new Manifest(task, delivery, schema, rows, bytes, crc.getValue(), dataTopic, partition,
                        offsets, config.clock().instant());
                byte[] value = HandoffFormat.encodeManifest(manifest);
                producer.send(new ProducerRecord<>(dataTopic, partition, key, value));
                producer.send(new ProducerRecord<>(config.topics().tasksTopic(task.lane()), key, value));
            } catch (ExecutionException e) {
                throw failure("sending a chunk", e.getCause() instanceof Exception c ? c : e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure("committing", e);
            } catch (KafkaException | IllegalStateException e) {
                throw failure("committing", e);
            }
            if (!ended.compareAndSet(false, true)) {
                throw new SinkException("hand-off of task " + task.id() + " was aborted before its commit", null);
            }
            try {
                producer.commitTransaction();
            } catch (RuntimeException e) {
                // the outcome may be unknown (a timeout): re-initialising the slot completes or aborts it
                slot.broken = true;
                stats(task.lane()).aborted.incrementAndGet();
                throw new SinkException("committing the hand-off of task " + task.id() + " on " + slot.transactionalId
                        + " failed: " + e.getMessage(), e);
            }
            committed = true;
            LaneStats s = stats(task.lane());
            s.tasks.incrementAndGet();
            s.rows.addAndGet(rows);
            s.bytes.addAndGet(bytes);
        }

        private void checkOpen() {
            if (ended.get()) {
                throw new SinkException("hand-off session of task " + task.id() + " was aborted", null);
            }
        }

        private SinkException failure(String doing, Exception e) {
            abortTransaction();
            boolean tooLarge = e instanceof RecordTooLargeException;
            return new SinkException("hand-off of task " + task.id() + " (" + rows + " rows, " + bytes + " bytes so far) to "
                    + dataTopic + " failed while " + doing + " on " + slot.transactionalId + ": " + e.getMessage(), e, !tooLarge);
        }

        @Override
        public void abort() {
            abortTransaction();
        }

        private void abortTransaction() {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            stats(task.lane()).aborted.incrementAndGet();
            try {
                producer.abortTransaction();
            } catch (RuntimeException e) {
                LOG.warn("aborting the hand-off transaction of task {} on {} failed; the producer is replaced: {}", task.id(),
                        slot.transactionalId, e.toString());
                slot.broken = true;
            }
        }

        @Override
        public void close() {
            if (released) {
                return;
            }
            if (!committed) {
                abortTransaction();
            }
            released = true;
            idle.add(slot);
        }
    }

    // ------------------------------------------------------------------ builder

    /** Builds a {@link HandoffSink}. Not threadsafe; {@link #build()} copies the settings. */
    public static final class Builder {
        private String bootstrapServers;
        private String transactionalIdPrefix;
        private HandoffTopics topics;
        private int producers = 4;
        private int chunkBytes = 1_000_000;
        private int maxRecordBytes = 1_048_576;
        private Duration transactionTimeout = Duration.ofMinutes(10);
        private Duration slotTimeout = Duration.ofMinutes(1);
        private final Map<String, Object> clientProperties = new HashMap<>();
        private MeterRegistry registry;
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /**
         * @param servers the Kafka bootstrap servers, e.g. {@code kafka1:9092,kafka2:9092} (required)
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
         * @param prefix the stable prefix of the producers' {@code transactional.id}s (required): the same across
         *     restarts of this process (so a restart fences its predecessor), different for every puller-host process
         *     (e.g. {@code pems-puller-host1}); letters, digits, '.', '_' and '-'
         * @return this builder
         */
        public Builder transactionalIdPrefix(String prefix) {
            Objects.requireNonNull(prefix, "transactionalIdPrefix");
            if (!prefix.matches("[A-Za-z0-9._-]{1,200}")) {
                throw new IllegalArgumentException("transactionalIdPrefix '" + prefix + "' must be 1 to 200 letters, digits,"
                        + " '.', '_' or '-'");
            }
            this.transactionalIdPrefix = prefix;
            return this;
        }

        /**
         * @param topics the topic layout (required; the same on the uploader host)
         * @return this builder
         */
        public Builder topics(HandoffTopics topics) {
            this.topics = Objects.requireNonNull(topics, "topics");
            return this;
        }

        /**
         * @param producers transactional producers, the most sessions open at once: 1 to 256 (default 4); at least
         *     the relay's source permits
         * @return this builder
         */
        public Builder producers(int producers) {
            if (producers < 1 || producers > 256) {
                throw new IllegalArgumentException("producers must be within [1, 256] but was " + producers);
            }
            this.producers = producers;
            return this;
        }

        /**
         * @param bytes the size a chunk record grows to before it is sent: 16 KiB to 64 MiB (default 1,000,000, so
         *     that chunks fit Kafka's default 1 MiB record limits); at most {@link #maxRecordBytes} less 1 KiB
         * @return this builder
         */
        public Builder chunkBytes(int bytes) {
            if (bytes < 16 * 1024 || bytes > 64 * 1024 * 1024) {
                throw new IllegalArgumentException("chunkBytes must be within [16 KiB, 64 MiB] but was " + bytes);
            }
            this.chunkBytes = bytes;
            return this;
        }

        /**
         * @param bytes the largest record the producer sends ({@code max.request.size}; the data topic's
         *     {@code max.message.bytes} must allow it): 16 KiB to 256 MiB (default 1 MiB). A row that alone encodes to
         *     more fails its task (not retried)
         * @return this builder
         */
        public Builder maxRecordBytes(int bytes) {
            if (bytes < 16 * 1024 || bytes > 256 * 1024 * 1024) {
                throw new IllegalArgumentException("maxRecordBytes must be within [16 KiB, 256 MiB] but was " + bytes);
            }
            this.maxRecordBytes = bytes;
            return this;
        }

        /**
         * @param timeout the producers' {@code transaction.timeout.ms}: longer than the longest task takes to pull
         *     (the coordinator aborts a transaction open longer), at most the brokers' {@code transaction.max.timeout.ms};
         *     1 s to 1 h (default 10 min)
         * @return this builder
         */
        public Builder transactionTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "transactionTimeout");
            if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("transactionTimeout must be within [1s, 1h] but was " + timeout);
            }
            this.transactionTimeout = timeout;
            return this;
        }

        /**
         * @param timeout how long {@code open} waits for a free producer before failing (retryable); 0 to 1 h
         *     (default 1 min)
         * @return this builder
         */
        public Builder slotTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "slotTimeout");
            if (timeout.isNegative() || timeout.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("slotTimeout must be within [0, 1h] but was " + timeout);
            }
            this.slotTimeout = timeout;
            return this;
        }

        /**
         * @param key a producer property (security, timeouts, compression, ...); not one the sink sets itself
         *     (transactional.id, idempotence, acks, serializers, transaction.timeout.ms, max.request.size)
         * @param value its value
         * @return this builder
         */
        public Builder clientProperty(String key, Object value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, () -> "value of client property '" + key + "'");
            if (List.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, ProducerConfig.ACKS_CONFIG,
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                    ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG).contains(key)) {
                throw new IllegalArgumentException("client property '" + key + "' is set by the hand-off sink itself");
            }
            clientProperties.put(key, value);
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
         * @param registry where per-lane counters are registered: {@code relay.handoff.tasks}, {@code .rows},
         *     {@code .bytes}, {@code .aborted}, tagged {@code lane}
         * @return this builder
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * @param clock stamps the manifests' hand-off time, from which the uploader measures data age (default UTC)
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @return the sink; no connection is made until {@link HandoffSink#start()} or the first session
         * @throws IllegalStateException naming a missing or inconsistent setting
         */
        public HandoffSink build() {
            if (bootstrapServers == null) {
                throw new IllegalStateException("a hand-off sink needs bootstrapServers(...)");
            }
            if (transactionalIdPrefix == null) {
                throw new IllegalStateException("a hand-off sink needs a stable transactionalIdPrefix(...), unique per"
                        + " puller-host process");
            }
            if (topics == null) {
                throw new IllegalStateException("a hand-off sink needs topics(HandoffTopics)");
            }
            if (chunkBytes > maxRecordBytes - 1024) {
                throw new IllegalStateException("chunkBytes " + chunkBytes + " must be at most maxRecordBytes " + maxRecordBytes
                        + " less 1 KiB");
            }
            return new HandoffSink(new Config(bootstrapServers, transactionalIdPrefix, topics, producers, chunkBytes,
                    maxRecordBytes, transactionTimeout, slotTimeout, Map.copyOf(clientProperties), registry, clock));
        }
    }
}
