package dev.relay.core.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AimdRuleTest {

    final AimdRule rule = AimdRule.builder().tolerance(1.5).backoff(0.8).increase(1).build();

    @Test
    void next_slowPull_multipliesByBackoff() {
        assertEquals(8.0, rule.next(10, new LimitRule.Signal(1.6, false, true)), 1e-9);
        assertEquals(8.0, rule.next(10, new LimitRule.Signal(3.0, false, false)), 1e-9, "slow counts even below the limit");
    }

    @Test
    void next_sourceTimeout_multipliesByBackoffWithoutMeasurement() {
        assertEquals(4.0, rule.next(5, new LimitRule.Signal(Double.NaN, true, false)), 1e-9);
    }

    @Test
    void next_healthyAtLimit_addsIncrease() {
        assertEquals(6.0, rule.next(5, new LimitRule.Signal(1.0, false, true)), 1e-9);
        assertEquals(6.0, rule.next(5, new LimitRule.Signal(1.5, false, true)), 1e-9, "the tolerance itself is healthy");
    }

    @Test
    void next_healthyBelowLimit_keepsLimit() {
        assertEquals(5.0, rule.next(5, new LimitRule.Signal(1.0, false, false)), 1e-9);
    }

    @Test
    void next_unmeasured_keepsLimit() {
        assertEquals(5.0, rule.next(5, new LimitRule.Signal(Double.NaN, false, true)), 1e-9);
    }

    @Test
    void initial_isTheFloor() {
        assertEquals(2.0, rule.initial(2, 8), 1e-9);
        assertEquals(8.0, LimitRule.none().initial(2, 8), 1e-9);
        assertEquals(3.0, LimitRule.none().next(3, new LimitRule.Signal(9, true, true)), 1e-9);
    }

    @Test
    void builder_badValues_failNamingThem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AimdRule.builder().tolerance(1.0)).getMessage().contains("1.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AimdRule.builder().tolerance(Double.NaN)).getMessage().contains("NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AimdRule.builder().backoff(1.0)).getMessage().contains("backoff"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AimdRule.builder().backoff(0)).getMessage().contains("0.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AimdRule.builder().increase(-1)).getMessage().contains("-1"));
    }

    @Test
    void toString_namesTheParameters() {
        assertEquals("AIMD(tolerance 1.50, backoff 0.80, increase 1.00)", rule.toString());
    }
}
