package dev.relay.kafka;

import dev.relay.api.DeadLetters;
import dev.relay.api.Health;
import dev.relay.api.Lease;
import dev.relay.api.QueueException;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.api.TasksNotAcceptedException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TaskQueue} on Kafka share groups (KIP-932, production-ready since Kafka 4.2): the same topics and
 * record encoding as {@link KafkaTaskQueue}, but each lane is consumed by a share group, {@code <groupId>.<lane>},
 * in which any number of relay instances share the lane's records — not its partitions.
 *
 * <h2>How it maps the contract</h2>
 * <ul>
 *   <li>{@link #offer}/{@link #offerAll}: exactly as {@link KafkaTaskQueue} (one topic per lane, checked sends).
 *   <li>Records are acquired batch by batch: a share consumer acquires up to {@linkplain Builder#prefetchPerLane
 *       prefetch} records when it holds none (Kafka 4.3's share consumer acquires nothing while it holds
 *       records); when the engine finds the lane empty while every consumer holds records, the lane gets another
 *       consumer, up to {@linkplain Builder#consumersPerLane consumersPerLane} ({@link ShareLaneLoop}).
 *   <li>{@link Lease#complete} → {@code ACCEPT}. {@link Lease#retry} → the record stays acquired until the delay
 *       passed, then {@code RELEASE}: the broker delivers it again and counts the delivery. {@link Lease#deadLetter}
 *       → the task goes to the lane's dead-letter topic with the reason (as with {@link KafkaTaskQueue}), then
 *       {@code REJECT}; {@link #deadLetters()} lists, replays and purges them ({@link KafkaDeadLetters}, the same
 *       as for {@link KafkaTaskQueue}). {@link Lease#release} → back to the lane's buffer, still acquired: no attempt counted.
 *   <li>The attempt of a task is the broker's delivery count (plus the attempt it was written with, minus one):
 *       a retry and a crash both count, natively — a task that kills its process every time comes back with a
 *       higher count after each acquisition lock expiry, until the engine dead-letters it after the lane's
 *       maximum attempts. The broker charges a crash to every record the crashed consumer had acquired, so keep
 *       the prefetch of a lane whose tasks can crash the process small (the classic {@link KafkaTaskQueue} runs
 *       such records alone after a crash instead). Set the group's {@code share.delivery.count.limit} above the
 *       lanes' maximum attempts: a retry on the last delivery the group allows is dead-lettered with a reason
 *       saying so, but a crash on it lets the broker archive the record without a dead letter.
 *   <li>Long pulls keep their lock: held records are renewed ({@code RENEW}) every half lock period.
 *   <li>{@link #backlog} is -1: a share group does not tell one consumer how much waits for it.
 * </ul>
 *
 * <h2>Which backend to choose</h2>
 * Classic groups ({@link KafkaTaskQueue}): any Kafka cluster, including older ones; transactions end to end; exact
 * per-lane backlog; crash counting with probation. Share groups: Kafka 4.2 or newer with share groups enabled;
 * no partition cap (more relay instances than partitions all work); the broker counts deliveries and renews
 * locks natively. The README compares them.
 *
 * <p>The queue sets two configurations of each lane's share group when it subscribes, because its guarantees
 * rest on them: {@code share.auto.offset.reset=earliest} (tasks offered before the first consumer joined are
 * delivered) and {@code share.isolation.level=read_committed} (the layout migration writes in transactions).
 * Others can be set with {@link Builder#groupConfig}.
 *
 * <p>This class is threadsafe. Each subscribed lane gets {@linkplain Builder#consumersPerLane consumersPerLane}
 * share consumers, each owned by a thread of its own ({@linkplain Builder#threadFactory injected factory}); the
 * availability listener is called on those threads.
 */
public final class KafkaShareTaskQueue implements TaskQueue {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaShareTaskQueue.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    /** The delivery count limit a share group has unless configured (the broker's default). */
    private static final int DEFAULT_DELIVERY_LIMIT = 5;

    /**
     * A subscribed lane: its buffer, its loops and their mailboxes (a delivery's epoch is its loop's index). Loops
     * are added, never removed, while the lane is subscribed.
     */
    private static final class LaneRuntime {
        final String lane;
        final LaneBuffer buffer;
        final int deliveryLimit;
        final List<Mailbox> mailboxes = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<ShareLaneLoop> loops = new java.util.concurrent.CopyOnWriteArrayList<>();
        /** Guarded by this. */
        long lastAdded;

        LaneRuntime(String lane, LaneBuffer buffer, int deliveryLimit) {
            this.lane = lane;
            this.buffer = buffer;
            this.deliveryLimit = deliveryLimit;
        }
    }

    /** How long after adding a share consumer to a lane the next may be added. */
    private static final long ADD_CONSUMER_INTERVAL_MILLIS = 1_000;

    private final QueueConfig config;
    private final ClientHealth health;
    private final LazyProducer producers;
    private final LaneTopics laneTopics;
    private final KafkaDeadLetters deadLetters;
    private final TaskProducer tasks;
    private final LeaseRegistry registry = new LeaseRegistry();
    private final Map<String, LaneRuntime> lanes = new ConcurrentHashMap<>();
    private final Object subscribeLock = new Object();
    private volatile Runnable listener;
    private volatile boolean closed;

    private KafkaShareTaskQueue(QueueConfig config) {
        this.config = config;
        this.health = new ClientHealth("share groups " + config.groupId() + ".*", config);
        this.laneTopics = new LaneTopics(config, health);
        this.deadLetters = KafkaDeadLetters.of(config);
        this.producers = new LazyProducer(() -> new KafkaProducer<>(KafkaTaskQueue.producerProperties(config)), health,
                config.clock());
        this.tasks = new TaskProducer(producers, config, laneTopics);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The condition of the queue's Kafka clients as their threads last saw it: per client ({@code kafka-consumer},
     * {@code kafka-producer}, {@code kafka-admin}) a failure to authenticate, a missing ACL, a misconfiguration or no
     * answer from the cluster, with the cause, the likely fix and the next attempt. A failing client backs off (see
     * 5 s doubling to 60 s) and is logged at most once per minute;
     * the issue ends when the client works again.
     */
    @Override
    public Health health() {
        return health.health();
    }

    /** @return a builder; {@linkplain Builder#bootstrapServers bootstrap servers} and a group id are required */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @param lane a lane
     * @return the name of the lane's share group
     */
    public String shareGroup(String lane) {
        return config.groupId() + "." + KafkaTopics.requireLane(lane);
    }

    /** @return the topic layout */
    public KafkaTopics topics() {
        return config.topics();
    }

    /**
     * {@inheritDoc}
     *
     * <p>As {@link KafkaTaskQueue#offer}.
     */
    @Override
    public void offer(Task task) {
        tasks.offer(task, closed);
    }

    /**
     * {@inheritDoc}
     *
     * <p>As {@link KafkaTaskQueue#offerAll}: one send of the batch, one wait for all acknowledgements.
     *
     * @throws TasksNotAcceptedException naming the tasks not acknowledged
     */
    @Override
    public void offerAll(List<Task> batch) {
        tasks.offerAll(batch, closed);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Creates the lanes' topics when {@linkplain Builder#createTopics asked}, configures each new lane's share
     * group, and starts its consumer thread; a lane no longer in the set is stopped (its open leases are lost).
     *
     * @throws QueueException if topics or group configurations could not be set
     */
    @Override
    public void subscribe(Set<String> laneNames) {
        Objects.requireNonNull(laneNames, "lanes");
        if (closed) {
            throw new IllegalStateException("queue is closed");
        }
        for (String lane : laneNames) {
            KafkaTopics.requireLane(lane);
        }
        synchronized (subscribeLock) {
            laneTopics.ensure(laneNames);
            Set<String> added = new HashSet<>(laneNames);
            added.removeAll(lanes.keySet());
            Map<String, Integer> limits = added.isEmpty() ? Map.of() : configureGroups(added);
            for (String lane : added) {
                start(lane, limits.getOrDefault(lane, DEFAULT_DELIVERY_LIMIT));
            }
            for (String lane : new ArrayList<>(lanes.keySet())) {
                if (!laneNames.contains(lane)) {
                    stopLane(lane, false);
                }
            }
        }
    }

    private void start(String lane, int deliveryLimit) {
        LaneRuntime[] holder = new LaneRuntime[1];
        LaneBuffer buffer = new LaneBuffer(lane, () -> holder[0].mailboxes.forEach(Mailbox::wake));
        LaneRuntime rt = new LaneRuntime(lane, buffer, deliveryLimit);
        holder[0] = rt;
        lanes.put(lane, rt);
        addConsumer(rt);
    }

    /** Adds a share consumer, with its loop and thread, to a lane. */
    private void addConsumer(LaneRuntime rt) {
        int index = rt.loops.size();
        KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(consumerProperties(rt.lane, index));
        Mailbox mailbox = new Mailbox(consumer::wakeup);
        ShareLaneLoop loop = new ShareLaneLoop(rt.lane, index, consumer, producers, health, config, rt.buffer, mailbox, registry,
                () -> listener, rt.deliveryLimit);
        rt.mailboxes.add(mailbox);
        rt.loops.add(loop);
        rt.lastAdded = config.clock().millis();
        loop.start();
    }

    /**
     * The engine found the lane empty: if every share consumer of the lane holds records (so acquires nothing
     * more), and the lane may have another, add one.
     */
    private void wantMore(LaneRuntime rt) {
        if (rt.loops.size() >= config.consumersPerLane() || closed) {
            return;
        }
        synchronized (rt) {
            long now = config.clock().millis();
            if (rt.loops.size() >= config.consumersPerLane() || now - rt.lastAdded < ADD_CONSUMER_INTERVAL_MILLIS
                    || !rt.loops.stream().allMatch(ShareLaneLoop::holding) || lanes.get(rt.lane) != rt) {
                return;
            }
            LOG.debug("lane '{}': every share consumer holds records; adding consumer {}", rt.lane, rt.loops.size() + 1);
            addConsumer(rt);
        }
    }

    private Properties consumerProperties(String lane, int index) {
        Properties p = new Properties();
        p.putAll(ClientDefaults.defaults());
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, config.clientId() + "-" + lane + "-" + index);
        // a batch is what a consumer holds until it ended: let a fetch gather up to about a prefetch of task
        // records (~200 bytes each) for at most half a second
        p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, Integer.toString(Math.min(64 * 1024, 256 * config.prefetchPerLane())));
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "500");
        p.putAll(config.clientProperties());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, shareGroup(lane));
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(config.prefetchPerLane()));
        p.put("share.acknowledgement.mode", "explicit");
        p.put("share.acquire.mode", "record_limit");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /** Sets the share groups' configurations; returns each group's delivery count limit. */
    private Map<String, Integer> configureGroups(Set<String> laneNames) {
        Map<String, String> settings = new LinkedHashMap<>(config.groupConfigs());
        settings.put("share.auto.offset.reset", "earliest");
        settings.put("share.isolation.level", "read_committed");
        Map<ConfigResource, java.util.Collection<AlterConfigOp>> ops = new HashMap<>();
        Map<String, ConfigResource> resources = new HashMap<>();
        for (String lane : laneNames) {
            ConfigResource r = new ConfigResource(ConfigResource.Type.GROUP, shareGroup(lane));
            resources.put(lane, r);
            List<AlterConfigOp> set = new ArrayList<>();
            settings.forEach((k, v) -> set.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
            ops.put(r, set);
        }
        long timeout = config.adminTimeout().toMillis();
        try (Admin admin = Admin.create(LaneTopics.adminProperties(config))) {
            admin.incrementalAlterConfigs(ops).all().get(timeout, TimeUnit.MILLISECONDS);
            Map<ConfigResource, Config> described = admin.describeConfigs(resources.values()).all().get(timeout, TimeUnit.MILLISECONDS);
            Map<String, Integer> limits = new HashMap<>();
            resources.forEach((lane, r) -> {
                Config c = described.get(r);
                ConfigEntry e = c == null ? null : c.get("share.delivery.count.limit");
                limits.put(lane, e == null || e.value() == null ? DEFAULT_DELIVERY_LIMIT : Integer.parseInt(e.value()));
            });
            return limits;
        } catch (ExecutionException e) {
            throw new QueueException("could not configure the share groups of lanes " + laneNames + " (" + settings + "): "
                    + e.getCause().getMessage() + " — does the cluster run Kafka 4.2+ with share groups enabled?", e.getCause(), false);
        } catch (TimeoutException e) {
            throw new QueueException("timed out after " + config.adminTimeout() + " configuring the share groups of lanes "
                    + laneNames, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueException("interrupted while configuring the share groups of lanes " + laneNames, e);
        }
    }

    @Override
    public List<Lease> poll(String lane, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1 but was " + max);
        }
        LaneRuntime rt = closed ? null : lanes.get(lane);
        if (rt == null) {
            return List.of();
        }
        List<Lease> out = rt.buffer.take(max, d -> {
            Mailbox owner = rt.mailboxes.get((int) d.epoch());
            KafkaLease l = new KafkaLease(d, e -> owner.post(e, true), config.clock());
            registry.opened(l);
            return l;
        });
        if (out.isEmpty()) {
            wantMore(rt);
        }
        return out;
    }

    /**
     * {@inheritDoc}
     *
     * @return -1: a share group does not tell a consumer how many records wait for it
     */
    @Override
    public long backlog(String lane) {
        return -1;
    }

    /**
     * @param lane a lane
     * @return the deliveries of the lane acquired and ready here, not yet taken; 0 for a lane not subscribed
     */
    public int buffered(String lane) {
        LaneRuntime rt = lanes.get(lane);
        return rt == null ? 0 : rt.buffer.buffered();
    }

    /**
     * {@inheritDoc}
     *
     * <p>The lanes' dead-letter topics, read and written with this queue's client settings by short-lived clients of
     * their own: see {@link KafkaDeadLetters} for what replay and purge do on an append-only topic. They work whether
     * or not the queue is open; a replayed task reaches whichever relay consumes its lane.
     *
     * @return the dead letters, always present
     */
    @Override
    public Optional<DeadLetters> deadLetters() {
        return Optional.of(deadLetters);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Called on a lane's consumer thread after deliveries became ready.
     */
    @Override
    public void setAvailabilityListener(Runnable listener) {
        this.listener = listener;
    }

    /**
     * Commits the acknowledgements made so far (completions, rejections, releases) on every lane.
     *
     * @param timeout how long to wait
     * @return whether every lane committed in time
     */
    public boolean flush(Duration timeout) {
        List<CompletableFuture<Boolean>> all = new ArrayList<>();
        lanes.values().forEach(rt -> rt.loops.forEach(loop -> all.add(loop.flush())));
        long deadline = config.clock().millis() + timeout.toMillis();
        boolean ok = true;
        for (CompletableFuture<Boolean> f : all) {
            try {
                ok &= f.get(Math.max(1, deadline - config.clock().millis()), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                ok = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return ok;
    }

    /**
     * Closes the queue: commits the acknowledgements made, then closes each lane's share consumer, which gives
     * back what it still holds (the broker delivers those records again and counts the delivery). Open leases are
     * lost. Idempotent.
     */
    @Override
    public void close() {
        stopAll(false);
    }

    /** Simulates a crash (tests): nothing more is acknowledged; held records come back to the group. */
    void crash() {
        stopAll(true);
    }

    private void stopAll(boolean crash) {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (subscribeLock) {
            for (String lane : new ArrayList<>(lanes.keySet())) {
                stopLane(lane, crash);
            }
        }
        producers.close(crash ? Duration.ZERO : config.offerTimeout());
    }

    private void stopLane(String lane, boolean crash) {
        LaneRuntime rt = lanes.remove(lane);
        if (rt == null) {
            return;
        }
        try {
            for (ShareLaneLoop loop : rt.loops) {
                if (!loop.stop(crash, Duration.ofSeconds(60))) {
                    LOG.warn("a share consumer thread of lane '{}' did not stop in time", lane);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("KafkaShareTaskQueue[group=").append(config.groupId()).append(".<lane>, ")
                .append(config.topics().prefix()).append("*, ");
        lanes.forEach((lane, rt) -> sb.append(lane).append(": consumers=").append(rt.loops.size()).append(" holding=")
                .append(rt.loops.stream().filter(ShareLaneLoop::holding).count()).append(" ready=")
                .append(rt.buffer.buffered()).append("; "));
        return sb.append(closed ? "closed]" : "open]").toString();
    }

    /**
     * Builds a {@link KafkaShareTaskQueue}. Setters check their argument at once and name a bad value;
     * {@link #build()} checks the whole and copies the settings, so a builder may be reused. Not threadsafe.
     */
    public static final class Builder {
        private final KafkaTaskQueue.Builder common = KafkaTaskQueue.builder();
        private final Map<String, String> groupConfigs = new LinkedHashMap<>();
        private String bootstrapServers;
        private String groupId;
        private String clientId;
        private KafkaTopics topics;
        private final Map<String, Object> clientProperties = new HashMap<>();
        private boolean createTopics;
        private int prefetchPerLane = 16;
        private int consumersPerLane = 4;
        private Duration offerTimeout = Duration.ofSeconds(30);
        private Duration pollInterval = Duration.ofMillis(50);
        private Duration adminTimeout = Duration.ofSeconds(30);
        private Clock clock = Clock.systemUTC();
        private ThreadFactory threadFactory;

        private Builder() {
        }

        /**
         * @param servers the Kafka bootstrap servers; required
         * @return this builder
         */
        public Builder bootstrapServers(String servers) {
            common.bootstrapServers(servers);
            this.bootstrapServers = servers;
            return this;
        }

        /**
         * @param groupId the prefix of the lanes' share groups ({@code <groupId>.<lane>}); required
         * @return this builder
         */
        public Builder groupId(String groupId) {
            common.groupId(groupId);
            this.groupId = groupId;
            return this;
        }

        /**
         * @param clientId the prefix of the clients' {@code client.id}; default {@code relay-<group>-<n>}
         * @return this builder
         */
        public Builder clientId(String clientId) {
            this.clientId = Objects.requireNonNull(clientId, "clientId");
            return this;
        }

        /**
         * Adds a client property for the producer, the share consumers and the admin client (security, timeouts,
         * …). The properties the queue's guarantees rest on cannot be overridden (as for {@link KafkaTaskQueue}),
         * nor the share consumer's {@code share.acknowledgement.mode}, {@code share.acquire.mode} and
         * {@code max.poll.records}.
         *
         * @param key a Kafka client config key
         * @param value its value
         * @return this builder
         */
        public Builder clientProperty(String key, Object value) {
            common.clientProperty(key, value);
            clientProperties.put(key, value);
            return this;
        }

        /**
         * Sets a configuration of each lane's share group (KIP-932 group configs, e.g.
         * {@code share.record.lock.duration.ms}, {@code share.delivery.count.limit},
         * {@code share.heartbeat.interval.ms}), applied when the lane is subscribed.
         * {@code share.auto.offset.reset} and {@code share.isolation.level} are the queue's.
         *
         * @param key the group config key, starting with {@code share.}
         * @param value its value
         * @return this builder
         */
        public Builder groupConfig(String key, String value) {
            Objects.requireNonNull(key, "group config key");
            Objects.requireNonNull(value, () -> "value of group config " + key);
            if (!key.startsWith("share.")) {
                throw new IllegalArgumentException("group config '" + key + "' is not a share group config (share.*)");
            }
            if (key.equals("share.auto.offset.reset") || key.equals("share.isolation.level")) {
                throw new IllegalArgumentException("group config '" + key + "' is set by the queue: its guarantees rest on it");
            }
            groupConfigs.put(key, value);
            return this;
        }

        /**
         * @param topics the topic layout; default {@code KafkaTopics.builder().build()}
         * @return this builder
         */
        public Builder topics(KafkaTopics topics) {
            this.topics = Objects.requireNonNull(topics, "topics");
            return this;
        }

        /**
         * @param create whether {@code subscribe} and {@code offer} create missing topics; default false
         * @return this builder
         */
        public Builder createTopics(boolean create) {
            this.createTopics = create;
            return this;
        }

        /**
         * @param prefetch the most records one share consumer acquires at once; at least 1, default 16. The broker
         *        charges a crash to every record acquired, so lanes whose tasks may crash the process want a small
         *        one.
         * @return this builder
         */
        public Builder prefetchPerLane(int prefetch) {
            common.prefetchPerLane(prefetch);
            this.prefetchPerLane = prefetch;
            return this;
        }

        /**
         * @param consumers the most share consumers a lane opens, each with its own thread; at least 1, default 4.
         *        A lane starts with one. A share consumer that holds records acquires nothing more (Kafka 4.3's
         *        share consumer returns held, renewed records instead), so when the engine finds the lane empty
         *        while every consumer holds records, another is added, at most one a second.
         * @return this builder
         */
        public Builder consumersPerLane(int consumers) {
            if (consumers < 1) {
                throw new IllegalArgumentException("consumersPerLane must be at least 1 but was " + consumers);
            }
            this.consumersPerLane = consumers;
            return this;
        }

        /**
         * @param timeout how long {@code offer} waits for the broker's acknowledgement; positive, default 30 s
         * @return this builder
         */
        public Builder offerTimeout(Duration timeout) {
            common.offerTimeout(timeout);
            this.offerTimeout = timeout;
            return this;
        }

        /**
         * @param interval how long a lane's consumer waits in one poll for records; positive, default 50 ms
         * @return this builder
         */
        public Builder pollInterval(Duration interval) {
            common.pollInterval(interval);
            this.pollInterval = interval;
            return this;
        }

        /**
         * @param timeout how long topic creation and group configuration wait for the cluster; positive, default 30 s
         * @return this builder
         */
        public Builder adminTimeout(Duration timeout) {
            common.adminTimeout(timeout);
            this.adminTimeout = timeout;
            return this;
        }

        /**
         * @param clock the clock of retry times; default UTC system clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param factory makes one consumer thread per subscribed lane; default: daemon threads named
         *        {@code relay-kafka-share-<group>-<n>}
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory factory) {
            this.threadFactory = Objects.requireNonNull(factory, "threadFactory");
            return this;
        }

        /**
         * Checks the settings and connects the producer; lanes start consuming when subscribed.
         *
         * @return the queue
         * @throws IllegalStateException naming the setting if one is missing
         */
        public KafkaShareTaskQueue build() {
            if (bootstrapServers == null) {
                throw new IllegalStateException("bootstrapServers is required");
            }
            if (groupId == null) {
                throw new IllegalStateException("groupId is required");
            }
            int n = INSTANCES.incrementAndGet();
            String cid = clientId != null ? clientId : "relay-" + groupId + "-" + n;
            AtomicInteger threads = new AtomicInteger();
            ThreadFactory tf = threadFactory != null ? threadFactory : r -> {
                Thread t = new Thread(r, "relay-kafka-share-" + groupId + "-" + n + "-" + threads.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            QueueConfig config = new QueueConfig(bootstrapServers, Map.copyOf(clientProperties), groupId, cid,
                    topics != null ? topics : KafkaTopics.builder().build(), createTopics, prefetchPerLane,
                    Duration.ofSeconds(1), Duration.ofSeconds(30), offerTimeout, pollInterval, Duration.ofSeconds(2),
                    adminTimeout, Duration.ofSeconds(10), clock, tf, Map.copyOf(groupConfigs), consumersPerLane, Duration.ofSeconds(5),
                    Duration.ofSeconds(60), Duration.ofSeconds(60));
            return new KafkaShareTaskQueue(config);
        }
    }
}
