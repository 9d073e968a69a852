package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Health;
import dev.relay.api.HealthIssue;
import dev.relay.api.HealthStatus;
import dev.relay.api.QueueException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;

/** The classification of client failures, the capped backoff and the health issues of issue 19, on a fixed clock. */
class ClientHealthTest {

    static final String SECRET = "s3cr3t-pw";
    static final Map<String, Object> SASL = Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512",
            "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"relay\" password=\""
                    + SECRET + "\";");

    /** A clock the test moves. */
    static final class Manual extends Clock {
        long millis = 1_000_000;

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @Test
    void classify_findsTheKindInTheCauseChain() {
        assertEquals(ClientFailures.Kind.AUTHENTICATION, ClientFailures.classify(new QueueException("x",
                new ExecutionException(new SaslAuthenticationException("Authentication failed: Invalid username or password")))));
        assertEquals(ClientFailures.Kind.AUTHORIZATION, ClientFailures.classify(new TopicAuthorizationException(Set.of("t"))));
        assertEquals(ClientFailures.Kind.AUTHORIZATION, ClientFailures.classify(new GroupAuthorizationException("g")));
        assertEquals(ClientFailures.Kind.UNREACHABLE, ClientFailures.classify(new QueueException("timed out",
                new java.util.concurrent.TimeoutException())));
        assertEquals(ClientFailures.Kind.UNREACHABLE, ClientFailures.classify(new TimeoutException("node assignment")));
        assertEquals(ClientFailures.Kind.OTHER, ClientFailures.classify(new UnknownTopicOrPartitionException("t")));
        assertTrue(ClientFailures.Kind.AUTHORIZATION.fatal() && !ClientFailures.Kind.UNREACHABLE.fatal());
    }

    @Test
    void failed_backsOffDoublingUpToTheCap_successEndsIt() {
        Manual clock = new Manual();
        ClientHealth h = new ClientHealth("group g", "kafka1:9093", SASL, clock, Duration.ofSeconds(1), Duration.ofSeconds(30),
                Duration.ofSeconds(60));
        long start = clock.millis;
        long[] waits = new long[7];
        for (int i = 0; i < waits.length; i++) {
            h.failed(ClientHealth.Client.CONSUMER, new GroupAuthorizationException("Not authorized to access group: g"));
            waits[i] = h.retryAt(ClientHealth.Client.CONSUMER) - clock.millis;
            clock.millis += 100;
        }
        assertEquals("[1000, 2000, 4000, 8000, 16000, 30000, 30000]", java.util.Arrays.toString(waits));
        ClientHealth.Problem p = h.problem(ClientHealth.Client.CONSUMER);
        assertEquals(7, p.failures());
        assertEquals(Instant.ofEpochMilli(start), p.since(), "since the first failure");
        assertTrue(h.fatal(ClientHealth.Client.CONSUMER));

        h.succeeded(ClientHealth.Client.CONSUMER);
        assertNull(h.problem(ClientHealth.Client.CONSUMER));
        assertEquals(0, h.retryAt(ClientHealth.Client.CONSUMER));
        assertEquals(Health.up(), h.health());
    }

    @Test
    void health_namesClientKindCauseAndFix_neverTheSecret() {
        Manual clock = new Manual();
        ClientHealth h = new ClientHealth("group g", "kafka1:9093", SASL, clock, Duration.ofSeconds(1), Duration.ofSeconds(30),
                Duration.ofSeconds(60));
        h.failed(ClientHealth.Client.ADMIN, new SaslAuthenticationException("Authentication failed during authentication"
                + " due to invalid credentials with SASL mechanism SCRAM-SHA-512"));
        h.failed(ClientHealth.Client.PRODUCER, new TopicAuthorizationException(Set.of("pems.realtime")));
        Health health = h.health();
        assertEquals(HealthStatus.DOWN, health.status(), "the admin client cannot subscribe lanes");
        HealthIssue admin = health.issuesOf("kafka-admin").get(0);
        assertEquals(HealthIssue.Kind.AUTHENTICATION_FAILED, admin.kind());
        assertTrue(admin.message().contains("kafka1:9093") && admin.message().contains("sasl.jaas.config")
                && admin.message().contains("SCRAM-SHA-512"), admin.message());
        HealthIssue producer = health.issuesOf("kafka-producer").get(0);
        assertEquals(HealthIssue.Kind.AUTHORIZATION_FAILED, producer.kind());
        assertEquals(HealthStatus.DEGRADED, producer.severity());
        assertTrue(producer.message().contains("pems.realtime") && producer.message().contains("ACL"), producer.message());
        assertFalse(health.toString().contains(SECRET), health.toString());
    }

    @Test
    void hint_noAnswerWithoutSecurityProtocol_namesTheLikelyCauseAndTheAddress() {
        String hint = ClientFailures.hint(ClientFailures.Kind.UNREACHABLE, "kafka1:9093", Map.of());
        assertTrue(hint.contains("kafka1:9093") && hint.contains("security.protocol PLAINTEXT")
                && hint.contains("without credentials"), hint);
        String secured = ClientFailures.hint(ClientFailures.Kind.UNREACHABLE, "kafka1:9093", SASL);
        assertTrue(secured.contains("SASL_SSL") && !secured.contains(SECRET), secured);
    }
}
