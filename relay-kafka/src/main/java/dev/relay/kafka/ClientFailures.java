package dev.relay.kafka;

import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

/**
 * Sorts the failures of Kafka clients into what an operator must do about them, and words them. The kinds that a
 * retry in a tight loop cannot heal — the credentials are refused, an ACL is missing, the client is misconfigured —
 * are {@linkplain Kind#fatal() fatal}: the queue then stops the client, reports the failure in its health, logs it
 * once per interval and tries again only after a capped backoff (an ACL granted later, or a password rotated back,
 * heals it without a restart). A timeout with no answer at all gets the likely causes and the bootstrap address.
 *
 * <p>Stateless; threadsafe.
 */
final class ClientFailures {

    /** What kind of failure a throwable is. */
    enum Kind {
        /** The broker refused the client's credentials (SASL, TLS handshake), or the client sent none to a listener that needs them. */
        AUTHENTICATION,
        /** The client is authenticated but lacks an ACL (topic, group, cluster, transactional id). */
        AUTHORIZATION,
        /** The client's configuration does not work with this cluster (unsupported version or setting). */
        MISCONFIGURED,
        /** No answer in time: the cluster is unreachable, or the client cannot speak to its listener. */
        UNREACHABLE,
        /** Anything else: transient as far as relay can tell. */
        OTHER;

        /** @return whether retrying at once cannot heal it (it needs a person, or at least a backoff) */
        boolean fatal() {
            return this == AUTHENTICATION || this == AUTHORIZATION || this == MISCONFIGURED;
        }
    }

    private ClientFailures() {
    }

    /**
     * @param t a failure (its causes are searched)
     * @return its kind
     */
    static Kind classify(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof AuthenticationException) {
                return Kind.AUTHENTICATION;
            }
            if (c instanceof AuthorizationException) {
                return Kind.AUTHORIZATION;
            }
            if (c instanceof UnsupportedVersionException || c instanceof InvalidConfigurationException
                    || c instanceof ConfigException) {
                return Kind.MISCONFIGURED;
            }
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof TimeoutException || c instanceof org.apache.kafka.common.errors.TimeoutException) {
                return Kind.UNREACHABLE;
            }
        }
        return Kind.OTHER;
    }

    /**
     * @param t a failure
     * @return the message of its most telling cause (the authentication or authorization failure, else the first with
     *         a message), with its type; never the client's settings
     */
    static String cause(Throwable t) {
        Throwable best = null;
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof AuthenticationException || c instanceof AuthorizationException) {
                best = c;
                break;
            }
            if (best == null && c.getMessage() != null) {
                best = c;
            }
        }
        if (best == null) {
            best = t;
        }
        return best.getClass().getSimpleName() + (best.getMessage() == null ? "" : ": " + best.getMessage());
    }

    /**
     * The likely causes of a failure of this kind, for a message: what to check, with the bootstrap address and the
     * security protocol in use. Names settings, never their values (except the protocol and mechanism).
     *
     * @param kind the kind
     * @param bootstrapServers the cluster's address
     * @param clientProperties the client properties the queue was given
     * @return a sentence, or an empty string for {@link Kind#OTHER}
     */
    static String hint(Kind kind, String bootstrapServers, Map<String, ?> clientProperties) {
        Object protocol = clientProperties.get(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG);
        String proto = protocol == null ? "PLAINTEXT" : protocol.toString();
        Object mechanism = clientProperties.get(SaslConfigs.SASL_MECHANISM);
        return switch (kind) {
            case AUTHENTICATION -> "the cluster at " + bootstrapServers + " refused the client's credentials (security.protocol "
                    + proto + (mechanism == null ? "" : ", sasl.mechanism " + mechanism) + "): check the user and password in"
                    + " sasl.jaas.config, or the TLS key store";
            case AUTHORIZATION -> "the cluster at " + bootstrapServers + " authenticated the client but an ACL is missing: see"
                    + " the ACLs relay needs in the README's \"Secured clusters\" (topics by prefix, the group, Create if it"
                    + " creates topics, IdempotentWrite or Write for the producer)";
            case MISCONFIGURED -> "the client's settings do not work with the cluster at " + bootstrapServers;
            case UNREACHABLE -> "no answer from the cluster at " + bootstrapServers + ": " + (protocol == null
                    ? "the client uses security.protocol PLAINTEXT, without credentials; if the listener requires SASL or"
                            + " TLS it closes such connections without a word: set security.protocol, sasl.mechanism and"
                            + " sasl.jaas.config (README, \"Secured clusters\"); else check that the brokers are reachable"
                    : "check that the brokers are reachable and that the listener speaks security.protocol " + proto);
            case OTHER -> "";
        };
    }
}
