package dev.relay.kafka;

/**
 * The JVM's shared in-process broker ({@link EmbeddedKafka}) for the tests of {@code dev.relay.kafka.permits}, which
 * live in a package of their own.
 */
public final class PermitsTestBroker {

    private PermitsTestBroker() {
    }

    /** @return the shared broker's bootstrap servers, starting it on first use */
    public static String bootstrapServers() {
        return EmbeddedKafka.bootstrapServers();
    }
}
