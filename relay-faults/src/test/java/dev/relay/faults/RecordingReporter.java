package dev.relay.faults;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;

/**
 * A Kafka metrics reporter that remembers the {@code client.id} and kind of every client configured with it. A client
 * gets it only through the client properties a test gave relay ({@code metric.reporters}), so it proves which clients
 * received them. Threadsafe.
 */
public final class RecordingReporter implements MetricsReporter {

    /** client.id → producer, consumer and/or admin */
    static final Map<String, Set<String>> CLIENTS = new ConcurrentHashMap<>();

    @Override
    public void configure(Map<String, ?> configs) {
        Object id = configs.get(CommonClientConfigs.CLIENT_ID_CONFIG);
        String kind = configs.containsKey("key.serializer") ? "producer"
                : configs.containsKey("key.deserializer") ? "consumer" : "admin";
        CLIENTS.computeIfAbsent(String.valueOf(id), k -> ConcurrentHashMap.newKeySet()).add(kind);
    }

    /** @return the kinds of the clients whose id starts so */
    static Set<String> kinds(String idPrefix) {
        Set<String> out = ConcurrentHashMap.newKeySet();
        CLIENTS.forEach((id, kinds) -> {
            if (id.startsWith(idPrefix)) {
                out.addAll(kinds);
            }
        });
        return out;
    }

    @Override
    public void init(List<KafkaMetric> metrics) {
    }

    @Override
    public void metricChange(KafkaMetric metric) {
    }

    @Override
    public void metricRemoval(KafkaMetric metric) {
    }

    @Override
    public void close() {
    }
}
