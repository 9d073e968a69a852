package dev.relay.kafka;

import dev.relay.api.QueueException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Which lanes a queue may offer to, and the topics behind them. A lane is known once its topics are ready:
 * created by this queue ({@code createTopics}) and waited for until every partition has a serving leader, or
 * found to exist. An offer to a lane whose topic does not exist, on a queue that does not create topics,
 * fails at once with an error naming the lane and the topic, instead of blocking for {@code max.block.ms}
 * inside the producer.
 *
 * <p>Threadsafe: checks of new lanes are serialized (so that concurrent first offers to a fresh lane all wait
 * for its topics to be ready); a known lane costs one set lookup.
 */
final class LaneTopics {

    private final QueueConfig config;
    private final Set<String> known = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();

    LaneTopics(QueueConfig config) {
        this.config = config;
    }

    /**
     * Makes sure the lanes' topics exist and are ready: creates them when the queue creates topics, else
     * checks that the lane topics exist.
     *
     * @param lanes lane names, already checked by {@link KafkaTopics#requireLane}
     * @throws IllegalArgumentException naming a lane whose topic does not exist on a queue that does not create
     *         topics
     * @throws QueueException if the cluster could not be asked or the topics did not become ready in time
     */
    void ensure(Collection<String> lanes) {
        if (known.containsAll(lanes)) {
            return;
        }
        synchronized (lock) {
            List<String> missing = new ArrayList<>();
            for (String lane : lanes) {
                if (!known.contains(lane)) {
                    missing.add(lane);
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            try (Admin admin = Admin.create(adminProperties())) {
                if (config.createTopics()) {
                    config.topics().create(admin, missing, config.adminTimeout());
                } else {
                    requireExisting(admin, missing);
                }
            }
            known.addAll(missing);
        }
    }

    private void requireExisting(Admin admin, List<String> lanes) {
        List<String> topics = new ArrayList<>();
        for (String lane : lanes) {
            topics.add(config.topics().laneTopic(lane));
        }
        try {
            admin.describeTopics(topics).allTopicNames().get(config.adminTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                List<String> absent = new ArrayList<>();
                try {
                    Set<String> names = admin.listTopics().names().get(config.adminTimeout().toMillis(),
                            TimeUnit.MILLISECONDS);
                    for (String lane : lanes) {
                        if (!names.contains(config.topics().laneTopic(lane))) {
                            absent.add("lane '" + lane + "' (topic '" + config.topics().laneTopic(lane) + "')");
                        }
                    }
                } catch (ExecutionException | TimeoutException | InterruptedException ignored) {
                    if (ignored instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                    }
                    absent.add("lanes " + lanes);
                }
                throw new IllegalArgumentException("unknown " + String.join(", ", absent) + ": the topic does not exist"
                        + " and this queue does not create topics (createTopics is off); create the lane's topics with"
                        + " KafkaTopics.create or turn createTopics on");
            }
            throw new QueueException("could not check the topics of lanes " + lanes + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new QueueException("timed out after " + config.adminTimeout() + " checking the topics of lanes " + lanes, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueException("interrupted while checking the topics of lanes " + lanes, e);
        }
    }

    private Map<String, Object> adminProperties() {
        Map<String, Object> props = new HashMap<>(config.clientProperties());
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, config.clientId() + "-admin");
        return props;
    }
}
