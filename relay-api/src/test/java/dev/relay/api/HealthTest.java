package dev.relay.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthTest {

    static final Instant T = Instant.parse("2026-01-05T08:00:00Z");
    static final HealthIssue SUSPENDED = HealthIssue.degraded("config", HealthIssue.Kind.LANE_SUSPENDED, "suspended", T);
    static final HealthIssue AUTH = HealthIssue.down("kafka-consumer", HealthIssue.Kind.AUTHENTICATION_FAILED, "SASL failed", T);

    @Test
    void status_isUpWithoutIssues_elseTheWorstSeverity() {
        assertEquals(HealthStatus.UP, Health.up().status());
        assertSame(Health.up(), Health.of(List.of()));
        assertEquals(HealthStatus.DEGRADED, Health.of(List.of(SUSPENDED)).status());
        assertEquals(HealthStatus.DOWN, Health.of(List.of(SUSPENDED, AUTH)).status());
        assertEquals(HealthStatus.DOWN, Health.of(List.of(AUTH, SUSPENDED)).status());
    }

    @Test
    void plus_keepsBothListsInOrder() {
        Health h = Health.of(List.of(SUSPENDED)).plus(Health.of(List.of(AUTH)));
        assertEquals(List.of(SUSPENDED, AUTH), h.issues());
        assertEquals(List.of(AUTH), h.issuesOf("kafka-consumer"));
        assertSame(Health.up().plus(Health.up()), Health.up());
    }

    @Test
    void health_copiesItsIssues() {
        List<HealthIssue> list = new ArrayList<>(List.of(SUSPENDED));
        Health h = new Health(list);
        list.add(AUTH);
        assertEquals(List.of(SUSPENDED), h.issues());
    }

    @Test
    void issue_upSeverityOrBlankFields_failNamingWhy() {
        IllegalArgumentException up = assertThrows(IllegalArgumentException.class,
                () -> new HealthIssue("queue", HealthIssue.Kind.OTHER, HealthStatus.UP, "fine", T));
        assertTrue(up.getMessage().contains("never UP"), up.getMessage());
        IllegalArgumentException component = assertThrows(IllegalArgumentException.class,
                () -> HealthIssue.degraded(" ", HealthIssue.Kind.OTHER, "x", T));
        assertTrue(component.getMessage().contains("component"), component.getMessage());
        IllegalArgumentException message = assertThrows(IllegalArgumentException.class,
                () -> HealthIssue.degraded("queue", HealthIssue.Kind.OTHER, "", T));
        assertTrue(message.getMessage().contains("message"), message.getMessage());
        assertThrows(NullPointerException.class, () -> HealthIssue.degraded("queue", HealthIssue.Kind.OTHER, "x", null));
    }

    @Test
    void toString_showsTheStatusThenOneLinePerIssue() {
        String text = Health.of(List.of(AUTH)).toString();
        assertTrue(text.startsWith("DOWN"), text);
        assertTrue(text.contains("DOWN kafka-consumer AUTHENTICATION_FAILED since 2026-01-05T08:00:00Z: SASL failed"), text);
    }
}
