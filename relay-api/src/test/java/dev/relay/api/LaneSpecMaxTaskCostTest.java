package dev.relay.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** {@link LaneSpec#maxTaskCost()}: the declared maximum cost of one task, on which the starvation bound relies. */
class LaneSpecMaxTaskCostTest {

    @Test
    void maxTaskCost_notDeclared_isEmpty() {
        assertEquals(OptionalLong.empty(), LaneSpec.of("backfill").maxTaskCost());
    }

    @Test
    void maxTaskCost_declared_isKeptByToBuilderAndTakesPartInEquality() {
        LaneSpec a = LaneSpec.builder("backfill").maxTaskCost(22_000_000_000L).build();
        assertEquals(OptionalLong.of(22_000_000_000L), a.maxTaskCost());
        assertEquals(a, a.toBuilder().build());
        assertEquals(a.hashCode(), a.toBuilder().build().hashCode());
        assertNotEquals(a, a.toBuilder().maxTaskCost(1).build());
        assertTrue(a.toString().contains("maxTaskCost=22000000000"), a.toString());
    }

    @Test
    void maxTaskTime_declaresNanosecondsOfSourceTime() {
        assertEquals(OptionalLong.of(90_000_000_000L), LaneSpec.builder("config").maxTaskTime(Duration.ofSeconds(90)).build().maxTaskCost());
    }

    @Test
    void maxTaskCost_notPositive_isRejectedNamingTheLaneAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LaneSpec.builder("config").maxTaskCost(0));
        assertTrue(e.getMessage().contains("'config'") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LaneSpec.builder("config").maxTaskTime(Duration.ofSeconds(-1)));
        assertTrue(e.getMessage().contains("PT-1S"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LaneSpec.builder("config").maxTaskTime(Duration.ofSeconds(Long.MAX_VALUE)));
        assertTrue(e.getMessage().contains("too long"), e.getMessage());
    }
}
