package dev.relay.handoff;

import dev.relay.api.Names;
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
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The hand-off's topic layout: per lane a data topic (chunks and manifests), a tasks topic (the manifests of
 * committed hand-offs, which the uploader's queue consumes) and a dead-letter topic (manifests of tasks the uploader
 * could not load, with the reason). Per-lane topics keep the lanes apart on the uploader host too: a backfill flood
 * in one lane's data topic never sits in front of another lane's tasks.
 *
 * <p>Names: {@code <prefix>handoff.<lane>.data}, {@code .tasks}, {@code .dead}. Data and tasks topics must keep records
 * at least as long as the longest outage of the uploader host ({@link Builder#longestOutage}); {@link #create}
 * checks existing topics.
 *
 * <p>Immutable and threadsafe.
 */
public final class HandoffTopics {

    private static final String INFIX = "handoff.";
    private static final String DATA = ".data";
    private static final String TASKS = ".tasks";
    private static final String DEAD = ".dead";

    private final String prefix;
    private final int partitions;
    private final short replicationFactor;
    private final Duration retention;
    private final Duration longestOutage;
    private final Map<String, String> topicConfigs;

    private HandoffTopics(Builder b) {
        this.prefix = b.prefix;
        this.partitions = b.partitions;
        this.replicationFactor = b.replicationFactor;
        this.retention = b.retention;
        this.longestOutage = b.longestOutage;
        this.topicConfigs = Map.copyOf(b.topicConfigs);
    }

    /** @return a builder with prefix {@code relay.}, 3 partitions, replication 1, retention 30 days, outage 21 days */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the topic name prefix */
    public String prefix() {
        return prefix;
    }

    /** @return partitions of each topic created */
    public int partitions() {
        return partitions;
    }

    /**
     * @param lane a lane
     * @return its data topic
     */
    public String dataTopic(String lane) {
        return prefix + INFIX + Names.requireLane(lane) + DATA;
    }

    /**
     * @param lane a lane
     * @return its tasks topic (manifests of committed hand-offs)
     */
    public String tasksTopic(String lane) {
        return prefix + INFIX + Names.requireLane(lane) + TASKS;
    }

    /**
     * @param lane a lane
     * @return its dead-letter topic
     */
    public String deadLetterTopic(String lane) {
        return prefix + INFIX + Names.requireLane(lane) + DEAD;
    }

    /**
     * @param topic a topic name
     * @return the lane whose tasks topic it is
     */
    public Optional<String> laneOfTasksTopic(String topic) {
        String head = prefix + INFIX;
        if (!topic.startsWith(head) || !topic.endsWith(TASKS)) {
            return Optional.empty();
        }
        String lane = topic.substring(head.length(), topic.length() - TASKS.length());
        return Names.LANE.matcher(lane).matches() ? Optional.of(lane) : Optional.empty();
    }

    /**
     * Creates the missing topics of the lanes and checks the retention of existing ones.
     *
     * @param admin an admin client
     * @param lanes the lanes
     * @param timeout how long to wait for the cluster
     * @return the topics created
     * @throws IllegalStateException if a topic could not be created, or an existing data or tasks topic keeps records
     *     for less than the longest outage
     */
    public Set<String> create(Admin admin, Collection<String> lanes, Duration timeout) {
        Set<String> created = new LinkedHashSet<>();
        List<NewTopic> wanted = new ArrayList<>();
        for (String lane : lanes) {
            wanted.add(newTopic(dataTopic(lane)));
            wanted.add(newTopic(tasksTopic(lane)));
            wanted.add(newTopic(deadLetterTopic(lane)));
        }
        try {
            Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = wanted.stream().filter(t -> !existing.contains(t.name())).toList();
            if (!missing.isEmpty()) {
                for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> e : admin.createTopics(missing).values().entrySet()) {
                    try {
                        e.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                        created.add(e.getKey());
                    } catch (ExecutionException ex) {
                        if (!(ex.getCause() instanceof TopicExistsException)) {
                            throw new IllegalStateException("could not create topic '" + e.getKey() + "': "
                                    + ex.getCause().getMessage(), ex.getCause());
                        }
                    }
                }
            }
            List<ConfigResource> check = new ArrayList<>();
            for (String lane : lanes) {
                for (String t : List.of(dataTopic(lane), tasksTopic(lane))) {
                    if (existing.contains(t)) {
                        check.add(new ConfigResource(ConfigResource.Type.TOPIC, t));
                    }
                }
            }
            if (!check.isEmpty()) {
                Map<ConfigResource, Config> configs = admin.describeConfigs(check).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                for (Map.Entry<ConfigResource, Config> e : configs.entrySet()) {
                    ConfigEntry entry = e.getValue().get(TopicConfig.RETENTION_MS_CONFIG);
                    long ms = entry == null || entry.value() == null ? -1 : Long.parseLong(entry.value());
                    if (ms >= 0 && ms < longestOutage.toMillis()) {
                        throw new IllegalStateException("topic '" + e.getKey().name() + "' keeps records for "
                                + Duration.ofMillis(ms) + ", less than the longest expected outage " + longestOutage
                                + ": handed-off rows would be deleted before the uploader loads them");
                    }
                }
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not list, create or describe the hand-off topics of lanes " + lanes + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("timed out after " + timeout + " creating the hand-off topics of lanes " + lanes, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the hand-off topics of lanes " + lanes, e);
        }
        return created;
    }

    private NewTopic newTopic(String name) {
        Map<String, String> configs = new HashMap<>(topicConfigs);
        configs.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(retention.toMillis()));
        return new NewTopic(name, partitions, replicationFactor).configs(configs);
    }

    @Override
    public String toString() {
        return "HandoffTopics[prefix=" + prefix + ", partitions=" + partitions + ", replicationFactor=" + replicationFactor
                + ", retention=" + retention + ", longestOutage=" + longestOutage + "]";
    }

    /** Builds {@link HandoffTopics}. Not threadsafe; {@link #build()} copies the settings. */
    public static final class Builder {
        private String prefix = "relay.";
        private int partitions = 3;
        private short replicationFactor = 1;
        private Duration retention = Duration.ofDays(30);
        private Duration longestOutage = Duration.ofDays(21);
        private final Map<String, String> topicConfigs = new HashMap<>();

        private Builder() {
        }

        /**
         * @param prefix prepended to every topic name: letters, digits, '.', '_' and '-', at most 100 characters
         * @return this builder
         */
        public Builder prefix(String prefix) {
            Objects.requireNonNull(prefix, "prefix");
            if (!prefix.matches("[A-Za-z0-9._-]{0,100}")) {
                throw new IllegalArgumentException("topic prefix '" + prefix + "' may hold only letters, digits, '.', '_'"
                        + " and '-', at most 100 of them");
            }
            this.prefix = prefix;
            return this;
        }

        /**
         * @param partitions partitions of each topic created: 1 to 10,000. More partitions let more uploader processes
         *     share a lane and spread the puller host's concurrent hand-offs
         * @return this builder
         */
        public Builder partitions(int partitions) {
            if (partitions < 1 || partitions > 10_000) {
                throw new IllegalArgumentException("partitions must be within [1, 10000] but was " + partitions);
            }
            this.partitions = partitions;
            return this;
        }

        /**
         * @param replicationFactor replicas of each topic created: 1 to 32 (3 in production)
         * @return this builder
         */
        public Builder replicationFactor(int replicationFactor) {
            if (replicationFactor < 1 || replicationFactor > 32) {
                throw new IllegalArgumentException("replicationFactor must be within [1, 32] but was " + replicationFactor);
            }
            this.replicationFactor = (short) replicationFactor;
            return this;
        }

        /**
         * @param retention how long the topics keep records; positive and at least the longest outage
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
         * @param longestOutage the longest outage of the uploader host the hand-off must survive; positive
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
         * @param key a topic config for the topics created, e.g. {@code min.insync.replicas}; not {@code retention.ms}
         * @param value its value
         * @return this builder
         */
        public Builder topicConfig(String key, String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, () -> "value of topic config '" + key + "'");
            if (key.equals(TopicConfig.RETENTION_MS_CONFIG)) {
                throw new IllegalArgumentException("set retention through retention(Duration), not topicConfig");
            }
            topicConfigs.put(key, value);
            return this;
        }

        /**
         * @return the layout
         * @throws IllegalStateException if the retention is shorter than the longest outage
         */
        public HandoffTopics build() {
            if (retention.compareTo(longestOutage) < 0) {
                throw new IllegalStateException("retention " + retention + " is shorter than the longest expected outage "
                        + longestOutage + ": handed-off rows would be deleted before the uploader loads them");
            }
            return new HandoffTopics(this);
        }
    }
}
