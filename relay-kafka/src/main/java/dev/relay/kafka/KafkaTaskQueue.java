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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TaskQueue} on Kafka: one topic per lane, a classic consumer group with manual commits, exact
 * out-of-order offset tracking, retry and dead-letter topics, bounded prefetch per lane, and crash counting
 * that survives the crash. For share groups (KIP-932) see {@link KafkaShareTaskQueue}; the README says when to
 * choose which.
 *
 * <h2>How it maps the contract</h2>
 * <ul>
 *   <li>{@link #offer} produces the task ({@link TaskRecordCodec}, key = task id) to the lane's topic with an
 *       idempotent producer and {@code acks=all}, and returns when the broker acknowledged it;
 *       {@link #offerAll} sends a batch and waits once.
 *   <li>One consumer thread (made by the {@linkplain Builder#threadFactory injected factory}) owns the
 *       {@code KafkaConsumer} and fills a bounded buffer per lane; {@link #poll} only takes from that
 *       buffer, so it never blocks. A lane holding {@linkplain Builder#prefetchPerLane prefetch} deliveries has
 *       its partitions paused: a lane with a million records of lag costs at most {@code prefetch} decoded
 *       tasks of memory (plus one poll's worth of raw records and the consumer's own fetch buffer, bounded by
 *       {@code fetch.max.bytes}), and the engine's scheduler, not the order of the partitions, decides what
 *       runs next. When the engine drains a full lane, the consumer thread is woken to refill it at once.
 *   <li>Leases complete in any order. Each partition commits its lowest offset not yet completed, with the
 *       completed offsets above it in the commit's metadata, so a restart re-delivers exactly the records that
 *       were not completed as of the last {@linkplain Builder#commitInterval commit} (delivery is at least
 *       once, and sinks are idempotent on the task id).
 *   <li><b>Crashes count.</b> A record is handed out only after a commit that names it <em>armed</em> (it may be
 *       running) was acknowledged — the consumer thread commits asynchronously as soon as new records wait, so
 *       this costs no round trip per task. After a crash of the process (kill -9, {@code halt}, a JVM crash),
 *       its next owner counts an attempt for every record the crashed process may have been running, and runs
 *       those records alone, one at a time (probation), so that a further crash is charged to the one task that
 *       caused it. A task that kills its process every time thus reaches its lane's maximum attempts and is
 *       dead-lettered by the engine, like a task that throws; its neighbours complete. A graceful close or
 *       rebalance counts nothing. See {@link OffsetTracker} and {@link Probation} for the invariants.
 *   <li>{@link Lease#retry} produces the task with its attempt incremented and a not-before time
 *       ({@value TaskRecordCodec#HEADER_NOT_BEFORE} header) to the lane's retry topic, and only then marks the
 *       original done. The consumer holds retry records in a bounded per-lane delay queue until they are due,
 *       so a waiting retry blocks neither its lane's partition nor the retries behind it that are due.
 *   <li>{@link Lease#deadLetter} produces the task to the lane's dead-letter topic with the reason in the
 *       {@value TaskRecordCodec#HEADER_DLT_REASON} header, then marks the original done. A record that does not
 *       decode (malformed bytes, an unknown schema version, a wrong id) goes there the same way, with its
 *       original bytes, and the consumer carries on. {@link #deadLetters()} lists, replays and purges them
 *       ({@link KafkaDeadLetters}).
 *   <li>{@link Lease#release} puts the delivery back at the head of its lane's buffer, same attempt.
 *   <li>On a rebalance the revoked partitions stop handing out leases at once; the queue waits up to the
 *       {@linkplain Builder#revocationTimeout revocation timeout} for their open leases to end, commits what
 *       completed, and takes the rest back: ending such a lease throws
 *       {@link dev.relay.api.LeaseLostException}. More instances with the same group id share the partitions.
 *   <li>{@link #backlog} is the lane's lag on this instance's partitions (records not yet fetched) plus the
 *       deliveries in memory; -1 until the consumer has joined the group.
 * </ul>
 *
 * <p>Every task must be in a lane this queue {@linkplain #subscribe subscribed} to be handed out. Topic
 * layout: {@link KafkaTopics}; they are created at {@code subscribe} and {@code offer} when
 * {@linkplain Builder#createTopics asked}, and an offer to a lane without topic fails at once otherwise.
 *
 * <p>This class is threadsafe: {@code offer}, {@code poll}, {@code backlog} and lease endings may be called
 * from any thread. The availability listener is called on the consumer thread and must return quickly.
 */
public final class KafkaTaskQueue implements TaskQueue {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaTaskQueue.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final QueueConfig config;
    private final ClientHealth health;
    private final LazyProducer producers;
    private final Map<String, LaneBuffer> lanes = new ConcurrentHashMap<>();
    private final LaneTopics laneTopics;
    private final KafkaDeadLetters deadLetters;
    private final TaskProducer tasks;
    private final ConsumerLoop loop;
    private final Mailbox mailbox;
    private final LeaseRegistry registry = new LeaseRegistry();
    private volatile Runnable listener;
    private volatile boolean closed;

    private KafkaTaskQueue(QueueConfig config) {
        this.config = config;
        this.health = new ClientHealth("group " + config.groupId(), config);
        this.laneTopics = new LaneTopics(config, health);
        this.deadLetters = KafkaDeadLetters.of(config);
        // made on first use: an idempotent producer refused by the cluster retries on its own in a tight loop
        this.producers = new LazyProducer(() -> new KafkaProducer<>(producerProperties(config)), health, config.clock());
        this.tasks = new TaskProducer(producers, config, laneTopics);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties(config));
        this.mailbox = new Mailbox(consumer::wakeup);
        this.loop = new ConsumerLoop(config, consumer, producers, health, lanes, registry, mailbox, () -> listener);
        loop.start();
    }

    /** @return a builder; {@linkplain Builder#bootstrapServers bootstrap servers} and a group id are required */
    public static Builder builder() {
        return new Builder();
    }

    static Properties producerProperties(QueueConfig c) {
        Properties p = new Properties();
        p.putAll(ClientDefaults.defaults());
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers());
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, c.clientId() + "-producer");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(c.offerTimeout().toMillis()));
        p.putAll(c.clientProperties());
        // the guarantees offer() documents are not negotiable
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    static Properties consumerProperties(QueueConfig c) {
        Properties p = new Properties();
        p.putAll(ClientDefaults.defaults());
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers());
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, c.clientId() + "-consumer");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(Math.min(500, Math.max(10, c.prefetchPerLane()))));
        // the client sends one fetch per broker at a time: while a full lane's partition is paused, the fetch in
        // flight names only the others (an empty retry partition), and the broker holds it up to this wait; a
        // partition resumed meanwhile gets its records only after it. The default, 500 ms, stalled a drained lane
        // for up to half a second (BENCHMARKS.md section 4); at most the poll interval bounds it like any other
        // latency of the loop
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, Long.toString(Math.min(500, c.pollInterval().toMillis())));
        p.putAll(c.clientProperties());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, c.groupId());
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // the layout migration writes lane topics in transactions: never hand out an aborted one
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The condition of the queue's Kafka clients as their threads last saw it: per client ({@code kafka-consumer},
     * {@code kafka-producer}, {@code kafka-admin}) a failure to authenticate, a missing ACL, a misconfiguration or no
     * answer from the cluster, with the cause, the likely fix and the next attempt. A failing client backs off (see
     * {@link Builder#failureBackoff}) and is logged at most once per {@linkplain Builder#failureLogInterval interval};
     * the issue ends when the client works again.
     */
    @Override
    public Health health() {
        return health.health();
    }

    /** @return the topic layout */
    public KafkaTopics topics() {
        return config.topics();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Blocks until the broker acknowledged the record ({@code acks=all}, idempotent producer) or the
     * {@linkplain Builder#offerTimeout offer timeout} passed. After a timeout the record may still arrive
     * later; offering the task again is safe (same id, idempotent sink). The first offer to a lane creates its
     * topics when {@linkplain Builder#createTopics asked} and waits until they are ready.
     *
     * @throws QueueException if the record was not acknowledged in time or the queue is closed
     * @throws IllegalArgumentException if the lane's name is not acceptable, or its topic does not exist and the
     *         queue does not create topics
     */
    @Override
    public void offer(Task task) {
        tasks.offer(task, closed);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Checks every task's lane first (creating topics when {@linkplain Builder#createTopics asked}), then
     * sends the whole batch and waits once, up to the {@linkplain Builder#offerTimeout offer timeout}, for all
     * acknowledgements: a batch costs about one round trip to the brokers, not one per task.
     *
     * @throws TasksNotAcceptedException naming the tasks whose records were not acknowledged in time or failed;
     *         every other task of the batch was acknowledged ({@code acks=all})
     * @throws IllegalArgumentException if a lane's name is not acceptable, or its topic does not exist and the
     *         queue does not create topics; then nothing was sent
     */
    @Override
    public void offerAll(List<Task> batch) {
        tasks.offerAll(batch, closed);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Creates the lanes' topics first when {@linkplain Builder#createTopics asked} (blocking, up to the
     * admin timeout, until they are ready). Removing a lane revokes its partitions: its open leases get the
     * revocation treatment.
     *
     * @throws IllegalArgumentException naming a lane name this backend does not accept, or a lane whose topic does
     *         not exist when the queue does not create topics
     * @throws QueueException if topics could not be created
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
        laneTopics.ensure(laneNames);
        for (String lane : laneNames) {
            lanes.computeIfAbsent(lane, l -> new LaneBuffer(l, mailbox::wake));
        }
        loop.subscribe(laneNames);
    }

    @Override
    public List<Lease> poll(String lane, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1 but was " + max);
        }
        if (closed) {
            return List.of();
        }
        LaneBuffer lb = lanes.get(lane);
        return lb == null ? List.of() : lb.take(max, this::lease);
    }

    private KafkaLease lease(Delivery d) {
        KafkaLease l = new KafkaLease(d, e -> mailbox.post(e, e.kind() == KafkaLease.State.RELEASED), config.clock());
        registry.opened(l);
        return l;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Counts the partitions assigned to this instance: with several instances in the group, each reports
     * its share; -1 before the consumer joined the group. For a lane not subscribed: the records of its topics the
     * group has not consumed, as of the last check (every five lag refresh intervals), or -1 if unknown.
     */
    @Override
    public long backlog(String lane) {
        LaneBuffer lb = lanes.get(lane);
        if (lb != null) {
            return lb.backlog();
        }
        Map<String, Long> unserved = loop.unservedLanes();
        Long n = unserved == null ? null : unserved.get(lane);
        return n == null ? -1 : n;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The subscribed lanes whose backlog is not zero, and the lanes with topics under the prefix that this queue
     * does not serve whose records the group has not consumed (checked every five lag refresh intervals by the consumer
     * thread). Empty
     * until that first check.
     */
    @Override
    public Optional<Set<String>> lanesWithTasks() {
        Map<String, Long> unserved = loop.unservedLanes();
        if (unserved == null) {
            return Optional.empty();
        }
        Set<String> out = new java.util.TreeSet<>();
        unserved.forEach((lane, n) -> {
            if (n > 0) {
                out.add(lane);
            }
        });
        lanes.forEach((lane, lb) -> {
            if (lb.backlog() != 0 || lb.buffered() > 0) {
                out.add(lane);
            }
        });
        return Optional.of(out);
    }

    /**
     * How many deliveries of the lane this instance holds in memory: ready to be handed out, plus retries
     * waiting for their time. At most twice the {@linkplain Builder#prefetchPerLane prefetch} (ready and
     * delayed are bounded separately), plus released leases.
     *
     * @param lane a lane
     * @return the count, 0 for a lane not subscribed
     */
    public int buffered(String lane) {
        LaneBuffer lb = lanes.get(lane);
        return lb == null ? 0 : lb.buffered();
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
     * <p>Called on the consumer thread after deliveries became ready (fetched, retry due, released).
     */
    @Override
    public void setAvailabilityListener(Runnable listener) {
        this.listener = listener;
    }

    /**
     * Commits now what completed (retries and dead letters acknowledged included), instead of at the next
     * commit interval. Useful before a planned stop, and in tests.
     *
     * @param timeout how long to wait
     * @return whether the commit succeeded in time
     */
    public boolean flush(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        try {
            return loop.flush(timeout).get(timeout.toMillis() * 2 + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Closes the queue: processes the lease endings already made (waiting up to the revocation timeout for
     * retry and dead-letter records to be acknowledged), commits what completed, leaves the group and closes
     * the clients. Open leases are lost (ending one throws {@link dev.relay.api.LeaseLostException}); their
     * tasks are delivered again to the next consumer, with no attempt counted. Idempotent.
     */
    @Override
    public void close() {
        stop(ConsumerLoop.Stop.CLOSE);
    }

    /**
     * Simulates a crash of this instance (tests): nothing more is committed or produced, open leases are
     * lost; with {@code leaveGroup} false the group keeps waiting for this member until its session times out,
     * as after a kill -9.
     */
    void crash(boolean leaveGroup) {
        stop(leaveGroup ? ConsumerLoop.Stop.CRASH_LEAVE_GROUP : ConsumerLoop.Stop.CRASH_STAY_IN_GROUP);
    }

    private void stop(ConsumerLoop.Stop how) {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!loop.stop(how, config.revocationTimeout().multipliedBy(3).plusSeconds(10))) {
                LOG.warn("consumer thread of group {} did not stop in time", config.groupId());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            producers.close(how == ConsumerLoop.Stop.CLOSE ? config.offerTimeout() : Duration.ZERO);
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("KafkaTaskQueue[group=").append(config.groupId()).append(", ")
                .append(config.topics().prefix()).append("*, ");
        lanes.forEach((name, lb) -> sb.append(name).append(": buffered=").append(lb.buffered()).append(" backlog=")
                .append(lb.backlog()).append("; "));
        return sb.append(closed ? "closed]" : "open]").toString();
    }

    /**
     * Builds a {@link KafkaTaskQueue}. Setters check their argument at once and name a bad value;
     * {@link #build()} checks the whole and copies the settings, so a builder may be reused. Not threadsafe.
     */
    public static final class Builder {
        private String bootstrapServers;
        private final Map<String, Object> clientProperties = new HashMap<>();
        private String groupId;
        private String clientId;
        private KafkaTopics topics;
        private boolean createTopics;
        private int prefetchPerLane = 100;
        private Duration commitInterval = Duration.ofSeconds(1);
        private Duration revocationTimeout = Duration.ofSeconds(30);
        private Duration offerTimeout = Duration.ofSeconds(30);
        private Duration pollInterval = Duration.ofMillis(50);
        private Duration lagRefreshInterval = Duration.ofSeconds(2);
        private Duration adminTimeout = Duration.ofSeconds(30);
        private Duration probationTimeout = Duration.ofSeconds(10);
        private Duration failureBackoff = Duration.ofSeconds(5);
        private Duration failureBackoffMax = Duration.ofSeconds(60);
        private Duration failureLogInterval = Duration.ofSeconds(60);
        private Clock clock = Clock.systemUTC();
        private ThreadFactory threadFactory;

        private Builder() {
        }

        /**
         * @param servers the Kafka bootstrap servers, {@code host:port[,host:port…]}; required
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
         * Adds a client property for the producer, consumer and admin clients (security, timeouts, …). The
         * properties the queue's guarantees rest on cannot be overridden: {@code acks},
         * {@code enable.idempotence}, {@code enable.auto.commit}, {@code isolation.level},
         * {@code group.protocol}, {@code group.id} and the (de)serializers.
         *
         * @param key a Kafka client config key
         * @param value its value
         * @return this builder
         */
        public Builder clientProperty(String key, Object value) {
            Objects.requireNonNull(key, "client property key");
            Objects.requireNonNull(value, () -> "value of client property " + key);
            clientProperties.put(key, value);
            return this;
        }

        /**
         * @param properties client properties to add, see {@link #clientProperty}
         * @return this builder
         */
        public Builder clientProperties(Map<String, ?> properties) {
            properties.forEach(this::clientProperty);
            return this;
        }

        /**
         * @param groupId the consumer group: instances with the same group share the lanes' partitions; required
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
         * @param clientId the prefix of the clients' {@code client.id}; default {@code relay-<group>-<n>}
         * @return this builder
         */
        public Builder clientId(String clientId) {
            this.clientId = Objects.requireNonNull(clientId, "clientId");
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
         * @param create whether {@code subscribe} and {@code offer} create missing topics (and check the
         *        retention of existing ones); default false
         * @return this builder
         */
        public Builder createTopics(boolean create) {
            this.createTopics = create;
            return this;
        }

        /**
         * @param prefetch the most ready deliveries held per lane (and, separately, the most retries waiting
         *        for their time); at least 1, default 100
         * @return this builder
         */
        public Builder prefetchPerLane(int prefetch) {
            if (prefetch < 1) {
                throw new IllegalArgumentException("prefetchPerLane must be at least 1 but was " + prefetch);
            }
            this.prefetchPerLane = prefetch;
            return this;
        }

        /**
         * @param interval how often completed offsets are committed; positive, default 1 s. A crash
         *        re-delivers at most what completed within one interval.
         * @return this builder
         */
        public Builder commitInterval(Duration interval) {
            this.commitInterval = positive(interval, "commitInterval");
            return this;
        }

        /**
         * @param timeout how long a revocation waits for open leases of the revoked partitions to end;
         *        positive, default 30 s; must be below the consumer's {@code max.poll.interval.ms}
         * @return this builder
         */
        public Builder revocationTimeout(Duration timeout) {
            this.revocationTimeout = positive(timeout, "revocationTimeout");
            return this;
        }

        /**
         * @param timeout how long {@code offer} waits for the broker's acknowledgement; positive, default 30 s
         * @return this builder
         */
        public Builder offerTimeout(Duration timeout) {
            this.offerTimeout = positive(timeout, "offerTimeout");
            return this;
        }

        /**
         * @param interval the consumer thread's poll timeout, which bounds how late a lease ending is
         *        processed; also the consumer's {@code fetch.max.wait.ms} (at most 500 ms, unless the client
         *        properties set it), which bounds how long a drained lane's resumed partition waits for the fetch
         *        in flight; so an idle queue sends a fetch per broker about once per interval. Positive, default
         *        50 ms
         * @return this builder
         */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = positive(interval, "pollInterval");
            return this;
        }

        /**
         * @param interval how often end offsets are fetched for the lag of paused partitions; positive,
         *        default 2 s
         * @return this builder
         */
        public Builder lagRefreshInterval(Duration interval) {
            this.lagRefreshInterval = positive(interval, "lagRefreshInterval");
            return this;
        }

        /**
         * @param timeout how long topic creation waits for the cluster; positive, default 30 s
         * @return this builder
         */
        public Builder adminTimeout(Duration timeout) {
            this.adminTimeout = positive(timeout, "adminTimeout");
            return this;
        }

        /**
         * @param timeout how long a task that was being handed out when a relay process crashed runs alone after
         *        the restart, before the next such task may run beside it; positive, default 10 s. Long enough for
         *        a task that crashes the process to do so alone (so that the crash is counted for it only), short
         *        enough that long tasks do not serialize the recovery. See the class comment.
         * @return this builder
         */
        public Builder probationTimeout(Duration timeout) {
            this.probationTimeout = positive(timeout, "probationTimeout");
            return this;
        }

        /**
         * How a client that the cluster refuses (bad or missing credentials, a missing ACL, a misconfiguration) or that
         * gets no answer backs off: the queue stops using it, reports the failure in {@link KafkaTaskQueue#health()},
         * and tries again after {@code first}, doubling the wait after every further failure up to {@code max}. A
         * success (an ACL granted meanwhile) ends it without a restart. Offers fail at once, naming the failure,
         * while the producer backs off.
         *
         * @param first the first wait; positive, default 5 s (such failures need a person; every attempt costs the Kafka
         *        client a dozen log lines)
         * @param max the longest wait; at least {@code first}, default 60 s
         * @return this builder
         * @throws IllegalArgumentException if a wait is not positive or {@code max} is below {@code first}
         */
        public Builder failureBackoff(Duration first, Duration max) {
            positive(first, "failureBackoff first");
            positive(max, "failureBackoff max");
            if (max.compareTo(first) < 0) {
                throw new IllegalArgumentException("failureBackoff max " + max + " must be at least the first wait " + first);
            }
            this.failureBackoff = first;
            this.failureBackoffMax = max;
            return this;
        }

        /**
         * @param interval how often a lasting failure of one client and kind is logged again (with how often it
         *        recurred meanwhile); positive, default 60 s. Its beginning and its end are logged at once.
         * @return this builder
         */
        public Builder failureLogInterval(Duration interval) {
            this.failureLogInterval = positive(interval, "failureLogInterval");
            return this;
        }

        /**
         * @param clock the clock of retry not-before times; default UTC system clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param factory makes the one consumer thread; default: a daemon thread named
         *        {@code relay-kafka-<group>-<n>}
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory factory) {
            this.threadFactory = Objects.requireNonNull(factory, "threadFactory");
            return this;
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive but was " + d);
            }
            return d;
        }

        /**
         * Checks the settings, connects the clients and starts the consumer thread.
         *
         * @return the queue
         * @throws IllegalStateException naming the setting if one is missing or inconsistent
         */
        public KafkaTaskQueue build() {
            if (bootstrapServers == null) {
                throw new IllegalStateException("bootstrapServers is required");
            }
            if (groupId == null) {
                throw new IllegalStateException("groupId is required");
            }
            Object maxPoll = clientProperties.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
            long maxPollMs = maxPoll == null ? 300_000 : Long.parseLong(maxPoll.toString());
            if (revocationTimeout.toMillis() >= maxPollMs) {
                throw new IllegalStateException("revocationTimeout " + revocationTimeout + " must be below "
                        + ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG + " (" + maxPollMs + " ms)");
            }
            int n = INSTANCES.incrementAndGet();
            String cid = clientId != null ? clientId : "relay-" + groupId + "-" + n;
            ThreadFactory tf = threadFactory != null ? threadFactory : r -> {
                Thread t = new Thread(r, "relay-kafka-" + groupId + "-" + n);
                t.setDaemon(true);
                return t;
            };
            QueueConfig config = new QueueConfig(bootstrapServers, Map.copyOf(clientProperties), groupId, cid,
                    topics != null ? topics : KafkaTopics.builder().build(), createTopics, prefetchPerLane,
                    commitInterval, revocationTimeout, offerTimeout, pollInterval, lagRefreshInterval, adminTimeout,
                    probationTimeout, clock, tf, Map.of(), 1, failureBackoff, failureBackoffMax, failureLogInterval);
            return new KafkaTaskQueue(config);
        }
    }
}
