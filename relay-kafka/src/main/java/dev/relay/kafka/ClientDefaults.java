package dev.relay.kafka;

import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * The client settings relay puts before a user's client properties (which override them) in the producers and
 * consumers it makes. Not in admin clients: an admin client whose only node is in a long reconnect backoff
 * re-bootstraps in a tight loop, one log line each time (Kafka 4.3); relay's admin clients live for one operation.
 * Not instantiable.
 */
final class ClientDefaults {

    /**
     * The longest wait between a client's attempts to connect to a broker that refused or dropped it ({@code
     * reconnect.backoff.max.ms}, Kafka's default 1 s). A client without credentials against a SASL listener, or one
     * whose broker is down, writes a few lines per attempt; at 10 s they are a few lines a minute instead of a few a
     * second, and a restarted broker is found again within 10 s.
     */
    static final int RECONNECT_BACKOFF_MAX_MS = 10_000;

    private ClientDefaults() {
    }

    /** @return the defaults, to be put in a client's properties before the user's */
    static Map<String, Object> defaults() {
        return Map.of(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, RECONNECT_BACKOFF_MAX_MS);
    }
}
