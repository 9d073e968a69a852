package dev.relay.kafka.permits;

import dev.relay.api.PermitHolder;
import dev.relay.api.PermitLeases;
import dev.relay.api.PermitStatus;
import dev.relay.api.RelayException;
import dev.relay.api.SourcePermits;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster-wide source permits coordinated by Kafka alone (the PeMS puller hosts reach Kafka and Oracle only): a
 * <em>permits topic</em> with {@code P} partitions and a consumer group of its own. The group coordinator assigns each
 * partition to exactly one live member; a process holds permit {@code k} while it is assigned partition {@code k}.
 * Nothing is ever produced to the topic: only its partitions and the group's membership matter. No consensus of
 * relay's own: Kafka's classic group protocol decides who holds what.
 *
 * <h2>Design</h2>
 * One thread per process owns a {@link KafkaConsumer} subscribed to the permits topic with the
 * {@link CooperativeStickyAssignor}, manual commits and {@code session.timeout.ms} = the lease. It polls every
 * fraction of the renew interval (driving joins and callbacks) and <em>renews</em> by a synchronous offset commit of
 * the partitions it is assigned, every {@code renewInterval}. The classic coordinator validates the member and its
 * generation on every commit and counts it as a heartbeat (in its Stable and PreparingRebalance states), so a commit
 * that succeeds proves that at a moment no earlier than its sending this process was a member of the current
 * generation, holding its assignment, with its session timer reset: the coordinator cannot expire the member, and so
 * cannot give its partitions to another, before {@code sentAt + lease}. The background heartbeat thread keeps the
 * session alive as usual; the commits are what this process can <em>prove</em>.
 *
 * <h2>Revocation (the classic protocol, cooperatively)</h2>
 * With the cooperative protocol a rebalance moves a partition in two steps: the first rebalance takes it from its
 * owner (whose {@code onPartitionsRevoked} runs, after the new generation's sync, for only the partitions that move),
 * and only the next rebalance, which cannot complete before the owner rejoins, gives it to another member. The owner
 * rejoins only after its callback returned, so the callback is where a permit is given back: it tells the engine
 * ({@link PermitHolder#revoked}), which stops starting queries on it, lets the running ones finish within the
 * revocation grace and cancels the rest; the callback returns once the engine gave the permit back, committing (and
 * so renewing) meanwhile. A member that has not rejoined within its rebalance timeout ({@code max.poll.interval.ms})
 * is expelled and loses everything, so the wait is bounded by {@code revocationGrace + cancelTimeout}, and
 * {@code max.poll.interval.ms} is set above it; a permit still not given back by then is released anyway (counted
 * as a forced release, logged as an error). The eager protocol is not used: it would revoke every permit of every
 * member on every membership change.
 *
 * <h2>Invariants</h2>
 * <ol>
 *   <li>A permit reaches the engine ({@link PermitHolder#granted}) only after a commit that includes its partition
 *       succeeded, and its lease runs from that commit's sending ({@link PermitLeases}).
 *   <li>The engine treats a permit as held only until {@code sentAt + lease − margin} of its last successful commit;
 *       the fence timer (a thread apart from the consumer's) tells it {@code lost} then, whatever the consumer thread
 *       is blocked on.
 *   <li>A revoked permit's callback returns only when the engine gave it back, it was lost, or the revocation
 *       timeout passed (forced release).
 *   <li>{@code onPartitionsLost} and a commit refused because this member left the generation
 *       ({@link CommitFailedException}) end every permit at once ({@link PermitHolder#lost}).
 * </ol>
 *
 * <h2>What holds</h2>
 * <b>Cooperative</b>: at most {@code P} queries on the source at any time, except while a holder is frozen past its
 * lease (the coordinator expels it after {@code session.timeout.ms} without a heartbeat and gives its partitions to
 * others); then at most {@code P} plus the frozen holders' queries (at most the permits each held) until each resumes
 * and its overdue fence timer cancels its queries. A process that is alive but cut off from the coordinator fences
 * itself {@code lease − margin} after its last successful commit, before the coordinator can expel it. A forced
 * release (the engine did not give a revoked permit back within {@code revocationGrace + cancelTimeout}) may add one
 * query until that engine's cancellation took effect. With the defaults (lease 10 s, renewal every 2 s, margin 2 s,
 * revocation grace 10 s, cancel timeout 5 s) a permit is fenced 6–8 s after the commits stop succeeding. A killed
 * holder's queries stop when the source notices the closed connection; keep the lease longer than that.
 * <br><b>Source-enforced</b>: see {@link SourcePermits} and the README.
 *
 * <p><b>Costs of the conservative lease.</b> While this process waits for a rebalance to complete (its JoinGroup
 * parked at the coordinator, for instance because a member died and has not yet been expelled), it cannot commit, and
 * the coordinator keeps it alive without its being able to prove it; if that lasts longer than
 * {@code lease − margin − renewInterval}, it fences itself although it would not have lost its permits: its queries
 * are cancelled and retried (counted in {@link PermitStatus#losses()}). Safety never depends on the wait being short.
 *
 * <p>Brokers bound the session timeout ({@code group.min.session.timeout.ms}, 6 s by default, and
 * {@code group.max.session.timeout.ms}); {@link #start} fails if the broker refuses the lease.
 *
 * <p>This class is threadsafe. Its consumer thread and fence timer come from the configured factories (daemon
 * threads by default); {@link #close()} leaves the group, so the other members get the permits at once.
 */
public final class KafkaSourcePermits implements SourcePermits {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSourcePermits.class);

    /** Topic names Kafka accepts. */
    private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    /** Client properties this class sets itself: overriding them would break the guarantees. */
    static final Set<String> RESERVED = Set.of(ConsumerConfig.GROUP_ID_CONFIG, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG,
            ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
            ConsumerConfig.GROUP_PROTOCOL_CONFIG, ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG);

    private final Map<String, Object> clientProperties;
    private final String topic;
    private final int total;
    private final boolean createTopic;
    private final short replicationFactor;
    private final Duration lease;
    private final Duration renewInterval;
    /** How long one renewal may take: a later answer proves too little to matter (the lease less the margin). */
    private final Duration commitTimeout;
    private final Duration revocationGrace;
    private final Duration cancelTimeout;
    private final Duration startTimeout;
    private final PermitLeases leases;
    private final ThreadFactory threadFactory;
    private final ScheduledExecutorService ownTimer;
    private final String memberInfo;

    private final CompletableFuture<Void> joined = new CompletableFuture<>();

    // guarded by this
    private boolean started;
    private boolean closed;
    private boolean crashed;
    private Thread thread;
    private KafkaConsumer<byte[], byte[]> consumer;

    // owned by the consumer thread
    private final Set<Integer> pendingGrants = new TreeSet<>();
    private long lastRenewal;

    private KafkaSourcePermits(Builder b, Duration renewInterval, Duration margin) {
        this.topic = b.topic;
        this.total = b.permits;
        this.createTopic = b.createTopic;
        this.replicationFactor = b.replicationFactor;
        this.lease = b.lease;
        this.renewInterval = renewInterval;
        this.commitTimeout = b.lease.minus(margin);
        this.revocationGrace = b.revocationGrace;
        this.cancelTimeout = b.cancelTimeout;
        this.startTimeout = b.startTimeout;
        this.threadFactory = b.threadFactory;
        this.ownTimer = b.timer != null ? null : Executors.newSingleThreadScheduledExecutor(daemon("relay-permits-fence"));
        this.leases = PermitLeases.builder(b.permits, b.lease).margin(margin).ticker(b.ticker)
                .timer(b.timer != null ? b.timer : ownTimer).build();
        this.memberInfo = b.clientId + "@" + ManagementFactory.getRuntimeMXBean().getName();
        Map<String, Object> props = new HashMap<>(b.clientProperties);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, b.groupId);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, b.clientId);
        props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) b.lease.toMillis());
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(100, b.lease.toMillis() / 5));
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
                (int) (b.revocationGrace.plus(b.cancelTimeout).plus(b.lease).plus(renewInterval.multipliedBy(2)).toMillis()));
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        this.clientProperties = Map.copyOf(props);
    }

    /** @return a builder; bootstrap servers and group id are required */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public int total() {
        return total;
    }

    /** @return the permits topic */
    public String topic() {
        return topic;
    }

    /**
     * Checks (or creates) the permits topic, joins the permits group and returns once the first rebalance completed
     * (the permits this process got are granted by then, or shortly after their first commit).
     *
     * @throws RelayException if the topic is missing (and not to be created) or has not {@code P} partitions, or the
     *     group could not be joined within the start timeout (for example: the broker refuses the lease as session
     *     timeout)
     */
    @Override
    public void start(PermitHolder holder) {
        Objects.requireNonNull(holder, "holder");
        synchronized (this) {
            if (started || closed) {
                throw new IllegalStateException("the Kafka permits " + topic + " were " + (closed ? "closed" : "started already"));
            }
            started = true;
        }
        checkTopic();
        leases.start(holder);
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(clientProperties);
        Thread t = threadFactory.newThread(() -> run(c));
        synchronized (this) {
            consumer = c;
            thread = t;
        }
        t.start();
        try {
            joined.get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            close();
            throw new RelayException("did not join the permits group " + clientProperties.get(ConsumerConfig.GROUP_ID_CONFIG)
                    + " on topic " + topic + " within " + startTimeout, e, true);
        } catch (ExecutionException e) {
            close();
            throw new RelayException("could not join the permits group " + clientProperties.get(ConsumerConfig.GROUP_ID_CONFIG)
                    + " on topic " + topic + " (lease " + lease + " as session timeout): " + e.getCause(), e.getCause(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new RelayException("interrupted while joining the permits group", e, true);
        }
    }

    private void checkTopic() {
        Map<String, Object> adminProps = new HashMap<>(clientProperties);
        adminProps.keySet().retainAll(AdminClientConfig.configNames());
        adminProps.put(AdminClientConfig.CLIENT_ID_CONFIG, clientProperties.get(ConsumerConfig.CLIENT_ID_CONFIG) + "-admin");
        long deadline = System.nanoTime() + startTimeout.toNanos();
        try (Admin admin = Admin.create(adminProps)) {
            TopicDescription d = describe(admin, deadline);
            if (d == null && createTopic) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, total, replicationFactor))).all()
                            .get(remaining(deadline), TimeUnit.NANOSECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new RelayException("could not create the permits topic " + topic + " with " + total
                                + " partitions: " + e.getCause(), e.getCause(), true);
                    }
                }
                while (d == null && System.nanoTime() < deadline) { // the new topic's metadata spreads
                    d = describe(admin, deadline);
                    if (d == null) {
                        Thread.sleep(100);
                    }
                }
            }
            if (d == null) {
                throw new RelayException("the permits topic " + topic + " does not exist"
                        + (createTopic ? " (created, but not visible within " + startTimeout + ")"
                                : ": create it with " + total + " partitions, or set createTopic(true, replicationFactor)"),
                        null, createTopic);
            }
            int partitions = d.partitions().size();
            if (partitions != total) {
                throw new RelayException("the permits topic " + topic + " has " + partitions + " partitions, but this relay is "
                        + "configured for " + total + " permits: the partitions are the permits, so every relay sharing "
                        + "the topic must use P = " + partitions + ", or use a new topic for a new P", null, false);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RelayException("interrupted while checking the permits topic " + topic, e, true);
        } catch (TimeoutException e) {
            throw new RelayException("the brokers did not describe the permits topic " + topic + " within " + startTimeout, e, true);
        }
    }

    /** @return the topic's description, or null if it does not exist */
    private TopicDescription describe(Admin admin, long deadline) throws InterruptedException, TimeoutException {
        try {
            return admin.describeTopics(List.of(topic)).allTopicNames().get(remaining(deadline), TimeUnit.NANOSECONDS).get(topic);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return null;
            }
            throw new RelayException("the permits topic " + topic + " cannot be described: " + e.getCause(), e.getCause(),
                    e.getCause() instanceof RetriableException);
        }
    }

    private static long remaining(long deadline) {
        return Math.max(1, deadline - System.nanoTime());
    }

    /** The consumer thread. */
    private void run(KafkaConsumer<byte[], byte[]> c) {
        Duration pollTimeout = renewInterval.dividedBy(4);
        lastRenewal = leases.now() - renewInterval.toNanos();
        try {
            c.subscribe(List.of(topic), new Listener(c));
            while (!isClosed()) {
                try {
                    c.poll(pollTimeout);
                    if (leases.now() - lastRenewal >= renewInterval.toNanos()) {
                        renew(c);
                    }
                } catch (WakeupException | InterruptException e) {
                    throw e;
                } catch (RuntimeException e) {
                    if (!joined.isDone() || fatal(e)) {
                        throw e;
                    }
                    // a transient failure (or a faulty holder): the leases run on, the fence timer acts when one is due
                    LOG.error("the permits consumer of {} failed; retrying in {}", topic, renewInterval, e);
                    Thread.sleep(renewInterval.toMillis());
                }
            }
        } catch (WakeupException | InterruptException e) {
            // closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (!joined.completeExceptionally(e)) {
                LOG.error("the permits consumer of {} stopped; this process holds no permit any more", topic, e);
            }
            leases.renewable().forEach(leases::lost);
        } finally {
            leases.close();
            try {
                c.close(CloseOptions.timeout(Duration.ofSeconds(5)).withGroupMembershipOperation(
                        isCrashed() ? GroupMembershipOperation.REMAIN_IN_GROUP : GroupMembershipOperation.LEAVE_GROUP));
            } catch (RuntimeException e) {
                LOG.debug("closing the permits consumer of {} failed", topic, e);
            }
        }
    }

    private synchronized boolean isCrashed() {
        return crashed;
    }

    /**
     * Test hook: a crash at the store level, as kill -9 would leave it. The consumer stops without leaving the group
     * (the coordinator expels it after the lease), nothing is given back and the holder is told nothing.
     */
    void crash() {
        synchronized (this) {
            crashed = true;
        }
        close();
    }

    /** @return whether the consumer cannot recover from the failure (configuration, security, protocol) */
    private static boolean fatal(RuntimeException e) {
        return e instanceof org.apache.kafka.common.errors.AuthenticationException
                || e instanceof org.apache.kafka.common.errors.AuthorizationException
                || e instanceof org.apache.kafka.common.errors.InvalidSessionTimeoutException
                || e instanceof org.apache.kafka.common.errors.UnsupportedVersionException
                || e instanceof org.apache.kafka.common.errors.InvalidGroupIdException
                || e instanceof org.apache.kafka.common.errors.FencedInstanceIdException
                || e instanceof org.apache.kafka.common.config.ConfigException;
    }

    /**
     * Renews by committing the assigned partitions; grants the pending ones on success. On the consumer thread.
     *
     * @return whether the commit succeeded
     */
    private boolean renew(KafkaConsumer<byte[], byte[]> c) {
        Set<TopicPartition> assigned = c.assignment();
        lastRenewal = leases.now();
        if (assigned.isEmpty()) {
            return true;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        for (TopicPartition tp : assigned) {
            offsets.put(tp, new OffsetAndMetadata(0, memberInfo));
        }
        long sentAt = leases.now();
        try {
            c.commitSync(offsets, commitTimeout); // the fence timer does not wait for it
        } catch (CommitFailedException e) {
            leases.renewalFailed();
            LOG.warn("the permits group expelled this process ({}): its permits {} are lost", e.getMessage(), leases.held());
            pendingGrants.clear();
            leases.renewable().forEach(leases::lost);
            return false;
        } catch (RebalanceInProgressException | RetriableException e) { // a rebalance, a timeout, a coordinator moving
            leases.renewalFailed();
            LOG.debug("renewing the permits {} failed: {}", leases.renewable(), e.toString());
            return false;
        }
        List<Integer> permits = new ArrayList<>(assigned.size());
        assigned.forEach(tp -> permits.add(tp.partition()));
        leases.renewed(permits, sentAt);
        for (int k : pendingGrants) {
            if (permits.contains(k)) {
                leases.granted(k, sentAt);
            }
        }
        pendingGrants.clear();
        return true;
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /** The rebalance callbacks; run on the consumer thread, inside {@code poll}. */
    private final class Listener implements ConsumerRebalanceListener {
        private final KafkaConsumer<byte[], byte[]> c;

        Listener(KafkaConsumer<byte[], byte[]> c) {
            this.c = c;
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            for (TopicPartition tp : partitions) {
                pendingGrants.add(tp.partition());
            }
            if (!partitions.isEmpty()) {
                renew(c); // grants them once the coordinator confirmed
            }
            joined.complete(null);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty() || isClosed()) {
                return;
            }
            Map<Integer, CompletableFuture<Void>> revocations = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) {
                pendingGrants.remove(tp.partition());
                revocations.put(tp.partition(), leases.revoke(tp.partition(), revocationGrace));
            }
            long deadline = leases.now() + revocationGrace.plus(cancelTimeout).toNanos();
            CompletableFuture<Void> all = CompletableFuture.allOf(revocations.values().toArray(new CompletableFuture<?>[0]));
            while (!all.isDone() && deadline - leases.now() > 0) {
                try {
                    all.get(Math.min(renewInterval.toNanos(), Math.max(1, deadline - leases.now())), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    if (leases.now() - lastRenewal >= renewInterval.toNanos()) {
                        renew(c); // keep the leases of the permits given back slowly, and of those kept
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                } catch (ExecutionException e) {
                    throw new IllegalStateException("a revocation cannot fail", e);
                }
            }
            revocations.forEach((k, f) -> {
                if (!f.isDone()) {
                    LOG.error("permit {} was revoked, but its queries did not end within {} + {}: releasing it anyway, "
                            + "the source may run one query more until their cancellation takes effect", k,
                            revocationGrace, cancelTimeout);
                    leases.forceRelease(k);
                }
            });
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (isCrashed()) {
                return;
            }
            for (TopicPartition tp : partitions) {
                pendingGrants.remove(tp.partition());
                leases.lost(tp.partition());
            }
        }
    }

    @Override
    public PermitStatus status() {
        return leases.status();
    }

    /** Leaves the permits group (the other members get the permits at once) and stops the threads. Idempotent. */
    @Override
    public void close() {
        Thread t;
        KafkaConsumer<byte[], byte[]> c;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            t = thread;
            c = consumer;
        }
        leases.close(); // the holder stopped: revoked partitions need not wait for it
        if (c != null) {
            c.wakeup();
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (ownTimer != null) {
            ownTimer.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "KafkaSourcePermits[" + topic + ", group " + clientProperties.get(ConsumerConfig.GROUP_ID_CONFIG) + ", " + leases + "]";
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Builds {@link KafkaSourcePermits}. Not threadsafe; {@link #build()} copies the settings. */
    public static final class Builder {
        private String bootstrapServers;
        private String groupId;
        private String topic = "relay.permits";
        private String clientId = "relay-permits";
        private int permits = 1;
        private boolean createTopic;
        private short replicationFactor = 3;
        private Duration lease = Duration.ofSeconds(10);
        private Duration renewInterval;
        private Duration margin;
        private Duration revocationGrace = Duration.ofSeconds(10);
        private Duration cancelTimeout = Duration.ofSeconds(5);
        private Duration startTimeout = Duration.ofSeconds(60);
        private final Map<String, Object> clientProperties = new HashMap<>();
        private ThreadFactory threadFactory = daemon("relay-permits-consumer");
        private ScheduledExecutorService timer;
        private LongSupplier ticker = System::nanoTime;

        private Builder() {
        }

        /**
         * @param bootstrapServers the Kafka cluster; required
         * @return this builder
         */
        public Builder bootstrapServers(String bootstrapServers) {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            if (bootstrapServers.isBlank()) {
                throw new IllegalArgumentException("bootstrap servers must not be blank");
            }
            this.bootstrapServers = bootstrapServers;
            return this;
        }

        /**
         * @param groupId the permits group, shared by every relay process that shares the permits, and different from
         *     the task queue's group; required
         * @return this builder
         */
        public Builder groupId(String groupId) {
            Objects.requireNonNull(groupId, "groupId");
            if (groupId.isBlank()) {
                throw new IllegalArgumentException("the permits group id must not be blank");
            }
            this.groupId = groupId;
            return this;
        }

        /**
         * @param topic the permits topic, with exactly {@code P} partitions (default {@code relay.permits})
         * @return this builder
         */
        public Builder topic(String topic) {
            Objects.requireNonNull(topic, "topic");
            if (!TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
                throw new IllegalArgumentException("permits topic '" + topic + "' is not a valid Kafka topic name");
            }
            this.topic = topic;
            return this;
        }

        /**
         * @param clientId the consumer's client id, for the brokers' logs and quotas (default {@code relay-permits})
         * @return this builder
         */
        public Builder clientId(String clientId) {
            this.clientId = Objects.requireNonNull(clientId, "clientId");
            return this;
        }

        /**
         * @param permits {@code P}: the permits topic's partition count, 1 to 10,000
         * @return this builder
         */
        public Builder permits(int permits) {
            if (permits < 1 || permits > 10_000) {
                throw new IllegalArgumentException("source permits must be within [1, 10000] but was " + permits);
            }
            this.permits = permits;
            return this;
        }

        /**
         * @param create whether {@link #start} creates the permits topic when it is missing (default false)
         * @param replicationFactor its replication factor then, at least 1 (default 3)
         * @return this builder
         */
        public Builder createTopic(boolean create, int replicationFactor) {
            if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
                throw new IllegalArgumentException("replication factor must be at least 1 but was " + replicationFactor);
            }
            this.createTopic = create;
            this.replicationFactor = (short) replicationFactor;
            return this;
        }

        /**
         * @param lease the group's session timeout: how long the coordinator keeps a silent member's permits; within the
         *     broker's {@code group.min.session.timeout.ms} (6 s by default) and {@code group.max.session.timeout.ms}
         *     (default 10 s)
         * @return this builder
         */
        public Builder lease(Duration lease) {
            Objects.requireNonNull(lease, "lease");
            if (lease.compareTo(Duration.ofSeconds(1)) < 0 || lease.compareTo(Duration.ofMinutes(30)) > 0) {
                throw new IllegalArgumentException("the permit lease must be within [1 s, 30 min] but was " + lease);
            }
            this.lease = lease;
            return this;
        }

        /**
         * @param renewInterval how often the assigned partitions are committed (default: a fifth of the lease)
         * @return this builder
         */
        public Builder renewInterval(Duration renewInterval) {
            Objects.requireNonNull(renewInterval, "renewInterval");
            if (renewInterval.compareTo(Duration.ofMillis(10)) < 0) {
                throw new IllegalArgumentException("the renew interval must be at least 10 ms but was " + renewInterval);
            }
            this.renewInterval = renewInterval;
            return this;
        }

        /**
         * @param margin how long before a lease runs out this process fences itself (default: a fifth of the lease)
         * @return this builder
         */
        public Builder margin(Duration margin) {
            Objects.requireNonNull(margin, "margin");
            if (margin.isNegative()) {
                throw new IllegalArgumentException("the fence margin must not be negative but was " + margin);
            }
            this.margin = margin;
            return this;
        }

        /**
         * @param grace how long the engine may let the queries on a revoked permit finish before cancelling them
         *     (default 10 s)
         * @return this builder
         */
        public Builder revocationGrace(Duration grace) {
            Objects.requireNonNull(grace, "grace");
            if (grace.isNegative()) {
                throw new IllegalArgumentException("the revocation grace must not be negative but was " + grace);
            }
            this.revocationGrace = grace;
            return this;
        }

        /**
         * @param cancelTimeout how long after the grace a revoked permit waits for its cancelled queries to end before
         *     it is released anyway (default 5 s)
         * @return this builder
         */
        public Builder cancelTimeout(Duration cancelTimeout) {
            Objects.requireNonNull(cancelTimeout, "cancelTimeout");
            if (cancelTimeout.isNegative() || cancelTimeout.isZero()) {
                throw new IllegalArgumentException("the cancel timeout must be positive but was " + cancelTimeout);
            }
            this.cancelTimeout = cancelTimeout;
            return this;
        }

        /**
         * @param startTimeout how long {@link #start} waits for the topic and the first rebalance (default 60 s)
         * @return this builder
         */
        public Builder startTimeout(Duration startTimeout) {
            Objects.requireNonNull(startTimeout, "startTimeout");
            if (startTimeout.isNegative() || startTimeout.isZero()) {
                throw new IllegalArgumentException("the start timeout must be positive but was " + startTimeout);
            }
            this.startTimeout = startTimeout;
            return this;
        }

        /**
         * Adds a client property for the consumer and the admin client (security, timeouts, …). The properties the
         * permits rest on cannot be set: {@link #RESERVED}.
         *
         * @param key a Kafka client config key
         * @param value its value
         * @return this builder
         */
        public Builder clientProperty(String key, Object value) {
            Objects.requireNonNull(key, "client property key");
            Objects.requireNonNull(value, () -> "value of client property " + key);
            if (RESERVED.contains(key)) {
                throw new IllegalArgumentException("client property " + key + " is set by the permits (lease, renewal, "
                        + "cooperative assignment) and cannot be overridden");
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
         * @param threadFactory makes the consumer thread (default: a daemon thread named {@code relay-permits-consumer})
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * @param timer runs the fence checks; not the consumer's thread, not shut down by the permits (default: a
         *     daemon thread of their own)
         * @return this builder
         */
        public Builder timer(ScheduledExecutorService timer) {
            this.timer = Objects.requireNonNull(timer, "timer");
            return this;
        }

        /** Test hook: the leases' monotonic time. */
        Builder ticker(LongSupplier ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * @return the permits
         * @throws IllegalStateException if bootstrap servers or group id are missing, or the renew interval and margin
         *     leave less than two renewals per lease
         */
        public KafkaSourcePermits build() {
            if (bootstrapServers == null) {
                throw new IllegalStateException("bootstrapServers is required");
            }
            if (groupId == null) {
                throw new IllegalStateException("groupId is required (a group of its own, not the task queue's)");
            }
            Duration m = margin != null ? margin : lease.dividedBy(5);
            Duration r = renewInterval != null ? renewInterval : lease.dividedBy(5);
            if (m.compareTo(lease) >= 0) {
                throw new IllegalStateException("the fence margin " + m + " must be shorter than the lease " + lease);
            }
            if (r.multipliedBy(2).compareTo(lease.minus(m)) > 0) {
                throw new IllegalStateException("the renew interval " + r + " must fit twice in the lease " + lease
                        + " less the fence margin " + m + ", so that one failed renewal does not fence the permits");
            }
            return new KafkaSourcePermits(this, r, m);
        }
    }
}
