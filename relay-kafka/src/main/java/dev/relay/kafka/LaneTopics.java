package dev.relay.kafka;

import dev.relay.api.QueueException;
import java.time.Duration;
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
import org.apache.kafka.clients.admin.AdminClientConfig;
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
    private final ClientHealth health;
    private final Set<String> known = ConcurrentHashMap.newKeySet();
    private final Object lock = new Object();

    LaneTopics(QueueConfig config, ClientHealth health) {
        this.config = config;
        this.health = health;
    }

    /**
     * Makes sure the lanes' topics exist and are ready: creates them when the queue creates topics, else
     * checks that the lane topics exist.
     *
     * @param lanes lane names, already checked by {@link KafkaTopics#requireLane}
     * @throws IllegalArgumentException naming a lane whose topic does not exist on a queue that does not create
     *         topics
     * @throws QueueException if the cluster could not be asked or the topics did not become ready in time (the
     *         message says the likely cause: credentials, ACLs, or no answer from the bootstrap address), or at once,
     *         without asking, while the admin client backs off after such a failure
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
            ClientHealth.Problem p = health.problem(ClientHealth.Client.ADMIN);
            if (p != null && p.kind() != ClientFailures.Kind.OTHER && config.clock().millis() < p.retryAt()) {
                throw new QueueException("the topics of lanes " + missing + " cannot be checked yet: the Kafka admin client "
                        + p.message(), null, true);
            }
            Admin admin = Admin.create(adminProperties(config));
            try {
                if (config.createTopics()) {
                    config.topics().create(admin, missing, config.adminTimeout());
                } else {
                    requireExisting(admin, missing);
                }
            } catch (QueueException e) {
                ClientFailures.Kind kind = health.failed(ClientHealth.Client.ADMIN, e);
                String hint = ClientFailures.hint(kind, config.bootstrapServers(), config.clientProperties());
                throw hint.isEmpty() ? e : new QueueException(e.getMessage() + " — " + hint, e, true);
            } finally {
                // without a timeout, close waits for calls that timed out here until the client's own API timeout
                admin.close(Duration.ZERO);
            }
            health.succeeded(ClientHealth.Client.ADMIN);
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

    /**
     * @return the admin client's properties: API and request timeouts within the admin timeout, then the client
     *         properties, then bootstrap and client id
     */
    static Map<String, Object> adminProperties(QueueConfig config) {
        Map<String, Object> props = new HashMap<>();
        // not ClientDefaults' long reconnect backoff: an admin client whose only node backs off re-bootstraps in a tight
        // loop (one log line each time); this one lives for one check only
        long timeout = config.adminTimeout().toMillis();
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout));
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(30_000, timeout));
        props.putAll(config.clientProperties());
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, config.clientId() + "-admin");
        return props;
    }
}
