package dev.relay.kafka;

import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * relay-kafka's test broker helpers ({@link EmbeddedKafka}, package-private there) for relay-cli's tests: one
 * in-process KRaft broker per JVM, a setup producer that checks every send, and a whole-topic reader.
 */
public final class TestBroker {

    private TestBroker() {
    }

    /** @return the shared broker's bootstrap servers, starting it on first use */
    public static String bootstrapServers() {
        return EmbeddedKafka.bootstrapServers();
    }

    /**
     * @param what a name
     * @return a unique name for a test's topics and groups
     */
    public static String unique(String what) {
        return EmbeddedKafka.unique(what);
    }

    /** @return an admin client on the broker */
    public static Admin admin() {
        return EmbeddedKafka.admin(bootstrapServers());
    }

    /**
     * Sends records and waits for every acknowledgement; fails, naming what was lost, if one was not acknowledged.
     *
     * @param records the records
     */
    public static void sendAll(List<ProducerRecord<byte[], byte[]>> records) {
        try (EmbeddedKafka.SetupProducer producer = EmbeddedKafka.setupProducer(bootstrapServers())) {
            records.forEach(producer::send);
        }
    }

    /**
     * @param topic a topic
     * @return its records (read_committed), from the beginning to its end now
     */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        return EmbeddedKafka.readAll(bootstrapServers(), topic, Duration.ofSeconds(60));
    }
}
