package dev.relay.kafka;

import dev.relay.api.Names;
import dev.relay.api.QueueException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The topic layout of the Kafka backend, and the admin operations that create and check it.
 *
 * <h2>Layout</h2>
 * For a lane {@code L} and the prefix {@code P} (default {@code relay.}):
 * <ul>
 *   <li>{@code P}{@code L} — the lane's tasks;
 *   <li>{@code P}{@code L}{@code .retry} — tasks waiting for a retry, each with a not-before time. Per lane,
 *       so that one lane's retry storm never delays another lane's retries;
 *   <li>{@code P}{@code L}{@code .dlt} — the lane's dead letters, with the reason in headers.
 * </ul>
 * Lane names never contain a '.', so the suffixes cannot collide with another lane's topic. Kafka maps '.'
 * and '_' to the same metric name, so a lane named {@code x_retry} or {@code x_dlt} would collide with lane
 * {@code x}'s topics in the broker's metrics; {@link #requireLane} rejects such names.
 *
 * <p>Retention: lane and retry topics keep records for {@link #retention()}, which must be at least the
 * {@linkplain Builder#longestOutage longest outage} the relay is expected to recover from — otherwise a long
 * outage silently deletes tasks that were never run (the old relay's 30-minute retention did exactly that).
 * Dead-letter topics keep records for {@link #deadLetterRetention()} (default: forever), since someone must
 * look at them.
 *
 * <p>Instances are immutable and threadsafe; build one with {@link #builder()}.
 */
public final class KafkaTopics {

    /** How often {@link #awaitReady} asks the cluster again. */
    static final long READY_POLL_MILLIS = 50;

    /** Suffix of a lane's retry topic. */
    public static final String RETRY_SUFFIX = ".retry";
    /** Suffix of a lane's dead-letter topic. */
    public static final String DEAD_LETTER_SUFFIX = ".dlt";

    private final String prefix;
    private final int partitions;
    private final short replicationFactor;
    private final Duration retention;
    private final Duration deadLetterRetention;
    private final Duration longestOutage;
    private final Map<String, String> topicConfigs;

    private KafkaTopics(Builder b) {
        this.prefix = b.prefix;
        this.partitions = b.partitions;
        this.replicationFactor = b.replicationFactor;
        this.retention = b.retention;
        this.deadLetterRetention = b.deadLetterRetention;
        this.longestOutage = b.longestOutage;
        this.topicConfigs = Map.copyOf(b.topicConfigs);
    }

    /**
     * @return a builder with prefix {@code relay.}, 6 partitions, replication factor 3, retention 30 days,
     *         longest outage 21 days, dead letters kept forever
     */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the topic name prefix */
    public String prefix() {
        return prefix;
    }

    /** @return partitions of each lane and retry topic created */
    public int partitions() {
        return partitions;
    }

    /** @return replication factor of the topics created */
    public short replicationFactor() {
        return replicationFactor;
    }

    /** @return retention of lane and retry topics */
    public Duration retention() {
        return retention;
    }

    /** @return retention of dead-letter topics; negative means forever */
    public Duration deadLetterRetention() {
        return deadLetterRetention;
    }

    /** @return the longest outage the layout is meant to survive */
    public Duration longestOutage() {
        return longestOutage;
    }

    /**
     * @param lane a lane
     * @return the topic of the lane's tasks
     */
    public String laneTopic(String lane) {
        return prefix + requireLane(lane);
    }

    /**
     * @param lane a lane
     * @return the lane's retry topic
     */
    public String retryTopic(String lane) {
        return prefix + requireLane(lane) + RETRY_SUFFIX;
    }

    /**
     * @param lane a lane
     * @return the lane's dead-letter topic
     */
    public String deadLetterTopic(String lane) {
        return prefix + requireLane(lane) + DEAD_LETTER_SUFFIX;
    }

    /**
     * @param lane a lane
     * @return the lane, its tasks', retry and dead-letter topic names
     */
    public List<String> topicsOf(String lane) {
        return List.of(laneTopic(lane), retryTopic(lane), deadLetterTopic(lane));
    }

    /**
     * The lane whose lane or retry topic this is.
     *
     * @param topic a topic name
     * @return the lane, or empty if the topic is not a lane or retry topic of this layout
     */
    public Optional<String> laneOf(String topic) {
        if (!topic.startsWith(prefix)) {
            return Optional.empty();
        }
        String rest = topic.substring(prefix.length());
        if (rest.endsWith(RETRY_SUFFIX)) {
            rest = rest.substring(0, rest.length() - RETRY_SUFFIX.length());
        }
        return Names.LANE.matcher(rest).matches() ? Optional.of(rest) : Optional.empty();
    }

    /**
     * @param topic a topic name
     * @return whether it is a retry topic of this layout
     */
    public boolean isRetryTopic(String topic) {
        return topic.startsWith(prefix) && topic.endsWith(RETRY_SUFFIX) && laneOf(topic).isPresent();
    }

    /**
     * Checks a lane name for this backend: {@link Names#requireLane} and no {@code _retry}/{@code _dlt}
     * ending (see the class comment).
     *
     * @param lane a lane name
     * @return the name
     * @throws IllegalArgumentException naming the lane if it is not acceptable
     */
    public static String requireLane(String lane) {
        Names.requireLane(lane);
        if (lane.endsWith("_retry") || lane.endsWith("_dlt")) {
            throw new IllegalArgumentException("lane name '" + lane + "' ends in _retry or _dlt: its topic would collide"
                    + " in Kafka's metric names with the retry or dead-letter topic of lane '"
                    + lane.substring(0, lane.lastIndexOf('_')) + "'");
        }
        return lane;
    }

    /**
     * Creates the topics of the lanes that do not exist yet, checks that the lane and retry topics that
     * existed keep records at least for the longest outage, and waits until every partition of the lanes'
     * topics is ready: it has a leader and that leader answers for it (a {@code ListOffsets} request
     * succeeds). A producer that sends to a partition whose leader is not serving it yet gets
     * {@code NOT_LEADER_OR_FOLLOWER}, and an idempotent producer with several batches in flight can then loop
     * on {@code OUT_OF_ORDER_SEQUENCE_NUMBER}; after this method returns, the first send goes to a serving
     * leader.
     *
     * @param admin an admin client
     * @param lanes the lanes
     * @param timeout how long to wait for the cluster, for the creation and again for the readiness
     * @return the topics created
     * @throws QueueException if a topic could not be created or did not become ready in time (naming it), or
     *         an existing one keeps records for less than the longest outage (not retryable)
     */
    public Set<String> create(Admin admin, Collection<String> lanes, Duration timeout) {
        Set<String> created = new LinkedHashSet<>();
        List<NewTopic> wanted = new ArrayList<>();
        for (String lane : lanes) {
            wanted.add(newTopic(laneTopic(lane), retention));
            wanted.add(newTopic(retryTopic(lane), retention));
            wanted.add(newTopic(deadLetterTopic(lane), deadLetterRetention));
        }
        try {
            Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (NewTopic t : wanted) {
                if (!existing.contains(t.name())) {
                    missing.add(t);
                }
            }
            if (!missing.isEmpty()) {
                Map<String, org.apache.kafka.common.KafkaFuture<Void>> results = admin.createTopics(missing).values();
                for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> e : results.entrySet()) {
                    try {
                        e.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                        created.add(e.getKey());
                    } catch (ExecutionException ex) {
                        if (!(ex.getCause() instanceof TopicExistsException)) {
                            throw new QueueException("could not create topic '" + e.getKey() + "': "
                                    + ex.getCause().getMessage(), ex.getCause());
                        }
                    }
                }
            }
            // freshly created topics have the retention we gave them; check the ones that already existed
            List<String> preexisting = new ArrayList<>();
            for (String lane : lanes) {
                if (existing.contains(laneTopic(lane)) || existing.contains(retryTopic(lane))) {
                    preexisting.add(lane);
                }
            }
            if (!preexisting.isEmpty()) {
                checkRetention(admin, preexisting, timeout);
            }
            List<String> names = new ArrayList<>();
            for (NewTopic t : wanted) {
                names.add(t.name());
            }
            awaitReady(admin, names, timeout);
        } catch (ExecutionException e) {
            throw new QueueException("could not list or create topics of lanes " + lanes + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new QueueException("timed out after " + timeout + " creating topics of lanes " + lanes, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueException("interrupted while creating topics of lanes " + lanes, e);
        }
        return created;
    }

    /**
     * Waits until every partition of the topics has a leader that serves it: {@code describeTopics} shows a
     * leader, and a {@code ListOffsets} request for the partition's end offset succeeds (it fails while the
     * leader has not yet taken the partition over). Asks again every 50 ms until the timeout.
     *
     * @param admin an admin client
     * @param topics the topics, which must exist
     * @param timeout how long to wait
     * @throws QueueException naming the topics not ready in time, with the last error
     */
    public static void awaitReady(Admin admin, Collection<String> topics, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        Set<String> waiting = new LinkedHashSet<>(topics);
        while (true) {
            try {
                long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                Map<String, TopicDescription> described = admin.describeTopics(waiting).allTopicNames()
                        .get(left, TimeUnit.MILLISECONDS);
                Map<TopicPartition, OffsetSpec> probe = new HashMap<>();
                List<String> leaderless = new ArrayList<>();
                for (TopicDescription d : described.values()) {
                    for (TopicPartitionInfo pi : d.partitions()) {
                        if (pi.leader() == null || pi.leader().isEmpty()) {
                            leaderless.add(d.name() + "-" + pi.partition());
                        }
                        probe.put(new TopicPartition(d.name(), pi.partition()), OffsetSpec.latest());
                    }
                }
                if (leaderless.isEmpty()) {
                    left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                    admin.listOffsets(probe).all().get(left, TimeUnit.MILLISECONDS);
                    return;
                }
                last = new IllegalStateException("no leader yet for " + leaderless);
            } catch (ExecutionException e) {
                last = e.getCause() instanceof Exception ex ? ex : e;
            } catch (TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QueueException("interrupted while waiting for topics " + waiting + " to become ready", e);
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new QueueException("topics " + waiting + " were not ready within " + timeout + " (every partition"
                        + " needs a leader that serves it): " + (last == null ? "timed out" : last.getMessage()), last);
            }
            try {
                Thread.sleep(READY_POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QueueException("interrupted while waiting for topics " + waiting + " to become ready", e);
            }
        }
    }

    /**
     * Checks that the lane and retry topics of the lanes keep records at least for the longest outage.
     *
     * @param admin an admin client
     * @param lanes the lanes
     * @param timeout how long to wait for the cluster
     * @throws QueueException naming the topic and both durations if one keeps records for too short a time
     */
    public void checkRetention(Admin admin, Collection<String> lanes, Duration timeout) {
        List<ConfigResource> resources = new ArrayList<>();
        for (String lane : lanes) {
            resources.add(new ConfigResource(ConfigResource.Type.TOPIC, laneTopic(lane)));
            resources.add(new ConfigResource(ConfigResource.Type.TOPIC, retryTopic(lane)));
        }
        Map<ConfigResource, Config> configs;
        try {
            configs = admin.describeConfigs(resources).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new QueueException("could not describe topics of lanes " + lanes + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new QueueException("timed out after " + timeout + " describing topics of lanes " + lanes, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueException("interrupted while describing topics of lanes " + lanes, e);
        }
        for (Map.Entry<ConfigResource, Config> e : configs.entrySet()) {
            ConfigEntry entry = e.getValue().get(TopicConfig.RETENTION_MS_CONFIG);
            if (entry == null || entry.value() == null) {
                continue;
            }
            long ms = Long.parseLong(entry.value());
            if (ms >= 0 && ms < longestOutage.toMillis()) {
                throw new QueueException("topic '" + e.getKey().name() + "' keeps records for " + Duration.ofMillis(ms)
                        + ", less than the longest expected outage " + longestOutage
                        + ": tasks would be deleted before a recovering relay reads them", null, false);
            }
        }
    }

    private NewTopic newTopic(String name, Duration keep) {
        Map<String, String> configs = new HashMap<>(topicConfigs);
        configs.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(keep.isNegative() ? -1 : keep.toMillis()));
        return new NewTopic(name, partitions, replicationFactor).configs(configs);
    }

    @Override
    public String toString() {
        return "KafkaTopics[prefix=" + prefix + ", partitions=" + partitions + ", replicationFactor=" + replicationFactor
                + ", retention=" + retention + ", longestOutage=" + longestOutage + ", deadLetterRetention="
                + (deadLetterRetention.isNegative() ? "forever" : deadLetterRetention) + "]";
    }

    /**
     * Builds {@link KafkaTopics}. Not threadsafe; {@link #build()} copies the settings, so a builder may be
     * reused.
     */
    public static final class Builder {
        private String prefix = "relay.";
        private int partitions = 6;
        private short replicationFactor = 3;
        private Duration retention = Duration.ofDays(30);
        private Duration deadLetterRetention = Duration.ofMillis(-1);
        private Duration longestOutage = Duration.ofDays(21);
        private final Map<String, String> topicConfigs = new HashMap<>();

        private Builder() {
        }

        /**
         * @param prefix the topic name prefix: legal topic characters ([a-zA-Z0-9._-]), may be empty
         * @return this builder
         */
        public Builder prefix(String prefix) {
            Objects.requireNonNull(prefix, "prefix");
            if (!prefix.matches("[a-zA-Z0-9._-]{0,120}")) {
                throw new IllegalArgumentException("topic prefix '" + Names.printable(prefix)
                        + "' must match [a-zA-Z0-9._-]{0,120}");
            }
            this.prefix = prefix;
            return this;
        }

        /**
         * @param partitions partitions of each topic created; at least 1. More partitions let more relay
         *        instances share a lane.
         * @return this builder
         */
        public Builder partitions(int partitions) {
            if (partitions < 1) {
                throw new IllegalArgumentException("partitions must be at least 1 but was " + partitions);
            }
            this.partitions = partitions;
            return this;
        }

        /**
         * @param replicationFactor replication factor of the topics created; at least 1 (3 in production)
         * @return this builder
         */
        public Builder replicationFactor(int replicationFactor) {
            if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
                throw new IllegalArgumentException("replicationFactor must be in 1.." + Short.MAX_VALUE + " but was "
                        + replicationFactor);
            }
            this.replicationFactor = (short) replicationFactor;
            return this;
        }

        /**
         * @param retention how long lane and retry topics keep records; positive, at least the longest outage
         * @return this builder
         */
        public Builder retention(Duration retention) {
            Objects.requireNonNull(retention, "retention");
            if (retention.isNegative() || retention.isZero()) {
                throw new IllegalArgumentException("retention must be positive but was " + retention);
            }
            this.retention = retention;
            return this;
        }

        /**
         * @param longestOutage the longest outage the relay must recover from without losing tasks; positive
         * @return this builder
         */
        public Builder longestOutage(Duration longestOutage) {
            Objects.requireNonNull(longestOutage, "longestOutage");
            if (longestOutage.isNegative() || longestOutage.isZero()) {
                throw new IllegalArgumentException("longestOutage must be positive but was " + longestOutage);
            }
            this.longestOutage = longestOutage;
            return this;
        }

        /**
         * @param deadLetterRetention how long dead-letter topics keep records; positive, or null for forever
         * @return this builder
         */
        public Builder deadLetterRetention(Duration deadLetterRetention) {
            if (deadLetterRetention == null) {
                this.deadLetterRetention = Duration.ofMillis(-1);
                return this;
            }
            if (deadLetterRetention.isNegative() || deadLetterRetention.isZero()) {
                throw new IllegalArgumentException("deadLetterRetention must be positive (or null for forever) but was "
                        + deadLetterRetention);
            }
            this.deadLetterRetention = deadLetterRetention;
            return this;
        }

        /**
         * @param key a topic config, e.g. {@code min.insync.replicas}; not {@code retention.ms}
         * @param value its value
         * @return this builder
         */
        public Builder topicConfig(String key, String value) {
            Objects.requireNonNull(key, "topic config key");
            Objects.requireNonNull(value, () -> "value of topic config " + key);
            if (key.equals(TopicConfig.RETENTION_MS_CONFIG)) {
                throw new IllegalArgumentException("set retention through retention(Duration), not topicConfig");
            }
            topicConfigs.put(key, value);
            return this;
        }

        /**
         * @return the layout
         * @throws IllegalStateException if the retention is shorter than the longest outage, or the dead-letter
         *         retention is shorter than the retention
         */
        public KafkaTopics build() {
            if (retention.compareTo(longestOutage) < 0) {
                throw new IllegalStateException("retention " + retention + " is shorter than the longest expected outage "
                        + longestOutage + ": tasks would be deleted before a recovering relay reads them");
            }
            if (!deadLetterRetention.isNegative() && deadLetterRetention.compareTo(retention) < 0) {
                throw new IllegalStateException("deadLetterRetention " + deadLetterRetention
                        + " is shorter than the retention " + retention);
            }
            return new KafkaTopics(this);
        }
    }
}
