package dev.relay.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import picocli.CommandLine.Option;

/** How to reach the Kafka cluster: shared by the commands that use it. Not threadsafe (one command's options). */
final class KafkaOptions {

    @Option(names = "--bootstrap-servers", required = true, paramLabel = "HOST:PORT[,…]",
            description = "the Kafka cluster, e.g. kafka1:9092,kafka2:9092")
    String bootstrapServers;

    @Option(names = "--client-property", paramLabel = "KEY=VALUE",
            description = "a Kafka client setting (security.protocol, sasl.*, ssl.*, …); repeatable. A secret is better "
                    + "given with --client-property-env")
    Map<String, String> clientProperties = new LinkedHashMap<>();

    @Option(names = "--client-property-env", paramLabel = "KEY=ENV_VAR",
            description = "a Kafka client setting read from an environment variable (for secrets, e.g. "
                    + "sasl.jaas.config=KAFKA_JAAS); repeatable")
    Map<String, String> clientPropertiesFromEnv = new LinkedHashMap<>();

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "PT30S", converter = Converters.PositiveDuration.class,
            description = "how long to wait for the cluster, ISO-8601 (default: ${DEFAULT-VALUE})")
    Duration timeout;

    /**
     * @param usage reports a bad option
     * @return the client configuration
     */
    Map<String, Object> clientConfig(Converters.Usage usage) {
        Map<String, Object> config = new LinkedHashMap<>(clientProperties);
        clientPropertiesFromEnv.forEach((key, variable) -> {
            String value = System.getenv(variable);
            if (value == null) {
                throw usage.error("--client-property-env " + key + "=" + variable + ": the environment variable " + variable
                        + " is not set");
            }
            config.put(key, value);
        });
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.putIfAbsent(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        config.putIfAbsent(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        return config;
    }
}
