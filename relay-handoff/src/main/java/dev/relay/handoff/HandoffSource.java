package dev.relay.handoff;

import dev.relay.api.Lease;
import dev.relay.api.PullException;
import dev.relay.api.Puller;
import dev.relay.api.QueueException;
import dev.relay.api.RowCursor;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The uploader host's side of the hand-off: a {@link TaskQueue} whose leases are committed hand-offs and a
 * {@link Puller} that streams their rows, for a second relay that loads them into the warehouse's sinks. That relay
 * brings its own fair scheduler: its "source permits" are the warehouse's load slots, and the lanes' weights keep a
 * backfill upload backlog from delaying the config uploads, exactly as on the puller host.
 *
 * <pre>{@code
 * HandoffSource handoff = HandoffSource.builder().bootstrapServers("kafka1:9092").groupId("pems-uploader")
 *         .topics(topics).build();
 * Relay uploader = Relay.builder().queue(handoff.queue()).puller(handoff.puller())
 *         .sourcePermits(2)                                             // warehouse load slots
 *         .lane(LaneSpec.builder("config").weight(8).build(), snapshotSink)
 *         .lane(LaneSpec.builder("backfill").weight(1).build(), windowSink)
 *         .build().start();
 * }</pre>
 *
 * <h2>Guarantees (uploader hop)</h2>
 * The queue consumes the lanes' tasks topics {@code read_committed}, so it hands out only tasks whose hand-off
 * transaction committed; it commits a tasks-topic offset only after the task's lease completed, which the engine does
 * after the sink committed, and never past an outstanding task ({@link IntakeLoop} states the invariants). The puller
 * reads the chunks the manifest lists and checks them against it ({@link ChunkCursor}). So every committed hand-off is
 * loaded at least once, completely, and nothing else is ever loaded; the sinks' idempotence on the task id makes the
 * warehouse hold each task once. A record that does not decode, carries an unknown format version, or whose chunks
 * disagree with its manifest goes to the lane's dead-letter topic with the reason, and the uploader carries on.
 *
 * <p>{@link #puller()} opens only tasks leased from {@link #queue()} and not yet ended. This class is threadsafe.
 */
public final class HandoffSource implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HandoffSource.class);

    private final Config config;
    private final Map<String, LaneState> lanes = new ConcurrentHashMap<>();
    private final Leases leases = new Leases();
    private final Readers readers;
    private final IntakeLoop loop;
    private final Producer<byte[], byte[]> deadLetters;
    private final Queue queue = new Queue();
    private final Puller puller = this::open;
    private volatile Runnable availability;
    private volatile boolean closed;

    record Config(String bootstrapServers, String groupId, HandoffTopics topics, int prefetchPerLane, int rowsPerBatch,
            int fetchBytes, Duration pollInterval, Duration commitInterval, Duration readTimeout, Duration closeTimeout,
            Duration lagRefreshInterval, Map<String, Object> clientProperties, MeterRegistry registry, Clock clock,
            UploadListener listener, ThreadFactory threadFactory) {
    }

    private HandoffSource(Config config) {
        this.config = config;
        this.readers = new Readers();
        Map<String, Object> c = new HashMap<>(config.clientProperties());
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, config.prefetchPerLane()));
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        Consumer<byte[], byte[]> consumer = new KafkaConsumer<>(c);
        Map<String, Object> p = new HashMap<>(config.clientProperties());
        p.keySet().removeIf(k -> ConsumerConfig.configNames().contains(k) && !ProducerConfig.configNames().contains(k));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        this.deadLetters = new KafkaProducer<>(p);
        this.loop = new IntakeLoop(config, consumer, deadLetters, lanes, leases);
        loop.start();
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the queue of committed hand-offs, for the uploader relay's {@code queue(...)} */
    public TaskQueue queue() {
        return queue;
    }

    /** @return the puller of handed-off rows, for the uploader relay's {@code puller(...)} */
    public Puller puller() {
        return puller;
    }

    /**
     * The upload lag of a lane: tasks handed off and not yet loaded (an estimate for those not yet fetched), and the
     * age of the oldest of them (now less its hand-off time), zero when caught up.
     *
     * @param lane a lane the relay serves
     * @return the lag
     */
    public Lag lag(String lane) {
        LaneState s = lanes.get(lane);
        if (s == null) {
            return new Lag(0, Duration.ZERO);
        }
        return new Lag(s.lagTasks, s.age());
    }

    /**
     * A lane's upload lag.
     *
     * @param tasks tasks handed off and not yet loaded
     * @param dataAge now less the hand-off time of the oldest of them
     */
    public record Lag(long tasks, Duration dataAge) {
    }

    /** Stops the intake (committing what completed), closes the consumers and the dead-letter producer. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!loop.stop(config.closeTimeout().plusSeconds(5))) {
                LOG.warn("the hand-off intake did not stop within {}", config.closeTimeout().plusSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        readers.closeAll();
        try {
            deadLetters.close(config.closeTimeout());
        } catch (RuntimeException e) {
            LOG.warn("closing the dead-letter producer failed", e);
        }
    }

    private LaneState lane(String name) {
        return lanes.computeIfAbsent(name, n -> new LaneState(n, config.registry(), config.clock(), () -> availability));
    }

    private RowCursor open(Task task) {
        Objects.requireNonNull(task, "task");
        HandoffLease lease = leases.find(task);
        if (lease == null) {
            throw new PullException("task " + task.id() + " has no active lease of this hand-off queue (its lease ended or"
                    + " was lost in a rebalance); it will be handed out again", null);
        }
        return new ChunkCursor(lease, readers, config);
    }

    // ------------------------------------------------------------------ the queue

    private final class Queue implements TaskQueue {
        @Override
        public void offer(Task task) {
            throw new QueueException("the uploader's hand-off queue is fed by the puller host's HandoffSink; task "
                    + (task == null ? null : task.id()) + " cannot be offered to it", null, false);
        }

        @Override
        public void subscribe(Set<String> laneNames) {
            for (String l : laneNames) {
                config.topics().tasksTopic(l); // validates the name
                lane(l);
            }
            loop.subscribe(laneNames);
        }

        @Override
        public List<Lease> poll(String laneName, int max) {
            if (max < 1) {
                throw new IllegalArgumentException("max must be at least 1 but was " + max);
            }
            LaneState lane = lanes.get(laneName);
            if (lane == null || closed) {
                return List.of();
            }
            List<Lease> out = new ArrayList<>();
            HandoffLease l;
            while (out.size() < max && (l = lane.ready.pollFirst()) != null) {
                if (l.active()) {
                    leases.add(l);
                    out.add(l);
                }
            }
            return out;
        }

        @Override
        public long backlog(String laneName) {
            LaneState lane = lanes.get(laneName);
            return lane == null || !lane.known ? -1 : Math.max(0, lane.lagTasks - lane.inEngine());
        }

        @Override
        public void setAvailabilityListener(Runnable listener) {
            availability = listener;
        }

        @Override
        public void close() {
            HandoffSource.this.close();
        }

        @Override
        public String toString() {
            return "HandoffSource.queue[" + config.groupId() + " " + config.topics() + "]";
        }
    }

    // ------------------------------------------------------------------ shared state

    /** Leases handed to the engine and not yet ended, by task id, for the puller. Threadsafe. */
    static final class Leases {
        private final Map<String, List<HandoffLease>> byId = new HashMap<>();

        synchronized void add(HandoffLease l) {
            byId.computeIfAbsent(l.task.id(), k -> new ArrayList<>(1)).add(l);
        }

        synchronized void remove(HandoffLease l) {
            List<HandoffLease> ls = byId.get(l.task.id());
            if (ls != null) {
                ls.remove(l);
                if (ls.isEmpty()) {
                    byId.remove(l.task.id());
                }
            }
        }

        /** @return the lease of this very task object, else the newest active delivery of its id, else null */
        synchronized HandoffLease find(Task task) {
            List<HandoffLease> ls = byId.get(task.id());
            if (ls == null) {
                return null;
            }
            HandoffLease newest = null;
            for (HandoffLease l : ls) {
                if (l.task == task) {
                    return l;
                }
                if (l.active() && (newest == null || l.manifest.handedOffAt().isAfter(newest.manifest.handedOffAt()))) {
                    newest = l;
                }
            }
            return newest;
        }

        synchronized int count(String lane) {
            int n = 0;
            for (List<HandoffLease> ls : byId.values()) {
                for (HandoffLease l : ls) {
                    if (l.task.lane().equals(lane)) {
                        n++;
                    }
                }
            }
            return n;
        }
    }

    /** A lane's ready deque (filled by the intake, drained by {@code poll}) and its published figures. */
    final class LaneState {
        final String name;
        final ConcurrentLinkedDeque<HandoffLease> ready = new ConcurrentLinkedDeque<>();
        final AtomicLong loadedTasks = new AtomicLong();
        final AtomicLong loadedRows = new AtomicLong();
        final AtomicLong deadLettered = new AtomicLong();
        final AtomicLong skipped = new AtomicLong();
        private final Clock clock;
        private final Supplier<Runnable> listener;
        volatile long lagTasks;
        volatile Instant oldest;
        volatile boolean known;

        LaneState(String name, MeterRegistry registry, Clock clock, Supplier<Runnable> listener) {
            this.name = name;
            this.clock = clock;
            this.listener = listener;
            if (registry != null) {
                Tags tags = Tags.of("lane", name);
                Gauge.builder("relay.upload.lag.tasks", this, s -> s.lagTasks).tags(tags)
                        .description("tasks handed off and not yet loaded").register(registry);
                Gauge.builder("relay.upload.lag.seconds", this, s -> s.age().toMillis() / 1000.0).tags(tags).baseUnit("seconds")
                        .description("age of the oldest handed-off task not yet loaded").register(registry);
                FunctionCounter.builder("relay.upload.tasks", loadedTasks, AtomicLong::get).tags(tags)
                        .description("hand-offs loaded").register(registry);
                FunctionCounter.builder("relay.upload.rows", loadedRows, AtomicLong::get).tags(tags)
                        .description("rows loaded").register(registry);
                FunctionCounter.builder("relay.upload.dead_lettered", deadLettered, AtomicLong::get).tags(tags)
                        .description("tasks-topic records and tasks dead-lettered").register(registry);
                FunctionCounter.builder("relay.upload.duplicates", skipped, AtomicLong::get).tags(tags)
                        .description("deliveries completed with another delivery of the same task").register(registry);
            }
        }

        Duration age() {
            Instant o = oldest;
            if (o == null) {
                return Duration.ZERO;
            }
            Duration d = Duration.between(o, clock.instant());
            return d.isNegative() ? Duration.ZERO : d;
        }

        int inEngine() {
            return leases.count(name);
        }

        void completed(HandoffLease lease) {
            if (lease.read) {
                loadedTasks.incrementAndGet();
                loadedRows.addAndGet(lease.manifest.rowCount());
            } else {
                skipped.incrementAndGet();
            }
        }

        void publishLag(long tasks, Instant oldestHandedOff, boolean assigned) {
            lagTasks = tasks;
            oldest = oldestHandedOff;
            known = assigned || known;
        }

        void notifyAvailable() {
            Runnable r = listener.get();
            if (r != null) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.warn("availability listener failed", e);
                }
            }
        }
    }

    /** A pool of positioned consumers for the cursors: at most one per cursor open at once. Threadsafe. */
    final class Readers {
        private final ConcurrentLinkedQueue<Consumer<byte[], byte[]>> idle = new ConcurrentLinkedQueue<>();
        private final AtomicInteger created = new AtomicInteger();

        Consumer<byte[], byte[]> take() {
            Consumer<byte[], byte[]> c = idle.poll();
            if (c != null) {
                return c;
            }
            Map<String, Object> p = new HashMap<>(config.clientProperties());
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
            p.remove(ConsumerConfig.GROUP_ID_CONFIG);
            p.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG); // readers are assigned, not members of the group
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
            p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, config.fetchBytes());
            p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, config.fetchBytes());
            p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 4);
            p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, config.groupId() + "-reader-" + created.incrementAndGet());
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            return new KafkaConsumer<>(p);
        }

        void give(Consumer<byte[], byte[]> c, boolean reusable) {
            if (reusable && !closed) {
                try {
                    c.unsubscribe();
                    idle.add(c);
                    return;
                } catch (RuntimeException e) {
                    LOG.debug("a chunk reader could not be reset; closing it", e);
                }
            }
            try {
                c.close(CloseOptions.timeout(Duration.ZERO));
            } catch (RuntimeException e) {
                LOG.debug("closing a chunk reader failed", e);
            }
        }

        void closeAll() {
            Consumer<byte[], byte[]> c;
            while ((c = idle.poll()) != null) {
                try {
                    c.close(CloseOptions.timeout(Duration.ZERO));
                } catch (RuntimeException e) {
                    LOG.debug("closing a chunk reader failed", e);
                }
            }
        }
    }

    // ------------------------------------------------------------------ builder

    /** Builds a {@link HandoffSource}. Not threadsafe; {@link #build()} copies the settings. */
    public static final class Builder {
        private String bootstrapServers;
        private String groupId;
        private HandoffTopics topics;
        private int prefetchPerLane = 16;
        private int rowsPerBatch = 1_000;
        private int fetchBytes = 1_048_576 + 64 * 1024;
        private Duration pollInterval = Duration.ofMillis(100);
        private Duration commitInterval = Duration.ofSeconds(1);
        private Duration readTimeout = Duration.ofMinutes(2);
        private Duration closeTimeout = Duration.ofSeconds(10);
        private Duration lagRefreshInterval = Duration.ofSeconds(5);
        private final Map<String, Object> clientProperties = new HashMap<>();
        private MeterRegistry registry;
        private Clock clock = Clock.systemUTC();
        private UploadListener listener = new UploadListener() {
        };
        private ThreadFactory threadFactory = r -> {
            Thread t = new Thread(r, "relay-handoff-intake");
            t.setDaemon(true);
            return t;
        };

        private Builder() {
        }

        /**
         * @param servers the Kafka bootstrap servers (required)
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
         * @param groupId the uploader's consumer group (required); uploader processes of one warehouse share it
         * @return this builder
         */
        public Builder groupId(String groupId) {
            Objects.requireNonNull(groupId, "groupId");
            if (groupId.isBlank()) {
                throw new IllegalArgumentException("groupId must not be blank");
            }
            this.groupId = groupId;
            return this;
        }

        /**
         * @param topics the topic layout, the same as the puller host's (required)
         * @return this builder
         */
        public Builder topics(HandoffTopics topics) {
            this.topics = Objects.requireNonNull(topics, "topics");
            return this;
        }

        /**
         * @param n leases a lane holds ready or waiting for a retry before its tasks partitions pause: 1 to 10,000
         *     (default 16). Manifests only; chunk data is read by the cursors
         * @return this builder
         */
        public Builder prefetchPerLane(int n) {
            if (n < 1 || n > 10_000) {
                throw new IllegalArgumentException("prefetchPerLane must be within [1, 10000] but was " + n);
            }
            this.prefetchPerLane = n;
            return this;
        }

        /**
         * @param rows the most rows a cursor decodes at once and hands the sink in one chunk: 1 to 100,000 (default
         *     1,000)
         * @return this builder
         */
        public Builder rowsPerBatch(int rows) {
            if (rows < 1 || rows > 100_000) {
                throw new IllegalArgumentException("rowsPerBatch must be within [1, 100000] but was " + rows);
            }
            this.rowsPerBatch = rows;
            return this;
        }

        /**
         * @param bytes a cursor's fetch size ({@code fetch.max.bytes} and {@code max.partition.fetch.bytes}): with one
         *     chunk, this bounds a cursor's memory; 64 KiB to 256 MiB (default 1 MiB + 64 KiB). A record batch larger
         *     than this is still fetched whole
         * @return this builder
         */
        public Builder fetchBytes(int bytes) {
            if (bytes < 64 * 1024 || bytes > 256 * 1024 * 1024) {
                throw new IllegalArgumentException("fetchBytes must be within [64 KiB, 256 MiB] but was " + bytes);
            }
            this.fetchBytes = bytes;
            return this;
        }

        /**
         * @param interval how long one poll of the tasks topics waits: 1 ms to 10 s (default 100 ms)
         * @return this builder
         */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = within(interval, Duration.ofMillis(1), Duration.ofSeconds(10), "pollInterval");
            return this;
        }

        /**
         * @param interval how often completed offsets are committed: 10 ms to 1 min (default 1 s)
         * @return this builder
         */
        public Builder commitInterval(Duration interval) {
            this.commitInterval = within(interval, Duration.ofMillis(10), Duration.ofMinutes(1), "commitInterval");
            return this;
        }

        /**
         * @param timeout how long a cursor waits for a chunk before failing (retryable): 1 s to 1 h (default 2 min)
         * @return this builder
         */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = within(timeout, Duration.ofSeconds(1), Duration.ofHours(1), "readTimeout");
            return this;
        }

        /**
         * @param timeout how long {@link HandoffSource#close()} waits for dead letters and the last commit: 0 to 5 min
         *     (default 10 s)
         * @return this builder
         */
        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = within(timeout, Duration.ZERO, Duration.ofMinutes(5), "closeTimeout");
            return this;
        }

        /**
         * @param interval how often the tasks topics' end offsets are read for the lag: 100 ms to 10 min (default 5 s)
         * @return this builder
         */
        public Builder lagRefreshInterval(Duration interval) {
            this.lagRefreshInterval = within(interval, Duration.ofMillis(100), Duration.ofMinutes(10), "lagRefreshInterval");
            return this;
        }

        /**
         * @param key a consumer or producer property (security, timeouts, ...); not one the source sets itself. A
         *     {@code group.instance.id} stable per uploader process (static membership) lets a restarted process take
         *     its partitions back at once instead of after the session timeout
         * @param value its value
         * @return this builder
         */
        public Builder clientProperty(String key, Object value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, () -> "value of client property '" + key + "'");
            if (List.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                    ConsumerConfig.GROUP_ID_CONFIG, ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                    ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                    ProducerConfig.ACKS_CONFIG).contains(key)) {
                throw new IllegalArgumentException("client property '" + key + "' is set by the hand-off source itself");
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
         * @param registry where per-lane meters are registered: gauges {@code relay.upload.lag.tasks} and
         *     {@code relay.upload.lag.seconds}, counters {@code relay.upload.tasks}, {@code .rows},
         *     {@code .dead_lettered}, {@code .duplicates}, tagged {@code lane}
         * @return this builder
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * @param clock measures data age and retry delays (default UTC)
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param listener observes loads and dead letters
         * @return this builder
         */
        public Builder listener(UploadListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * @param threadFactory makes the intake thread (default: a daemon thread {@code relay-handoff-intake})
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        private static Duration within(Duration d, Duration min, Duration max, String what) {
            Objects.requireNonNull(d, what);
            if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                throw new IllegalArgumentException(what + " must be within [" + min + ", " + max + "] but was " + d);
            }
            return d;
        }

        /**
         * Builds the source and starts its intake thread (it subscribes when the relay declares its lanes).
         *
         * @return the source
         * @throws IllegalStateException naming a missing setting
         */
        public HandoffSource build() {
            if (bootstrapServers == null) {
                throw new IllegalStateException("a hand-off source needs bootstrapServers(...)");
            }
            if (groupId == null) {
                throw new IllegalStateException("a hand-off source needs groupId(...)");
            }
            if (topics == null) {
                throw new IllegalStateException("a hand-off source needs topics(HandoffTopics)");
            }
            return new HandoffSource(new Config(bootstrapServers, groupId, topics, prefetchPerLane, rowsPerBatch, fetchBytes,
                    pollInterval, commitInterval, readTimeout, closeTimeout, lagRefreshInterval, Map.copyOf(clientProperties),
                    registry, clock, listener, threadFactory));
        }
    }
}
