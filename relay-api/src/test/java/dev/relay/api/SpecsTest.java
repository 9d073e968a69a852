package dev.relay.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.JDBCType;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SpecsTest {

    @Test
    void laneSpec_defaults() {
        LaneSpec l = LaneSpec.of("realtime");
        assertEquals(1, l.weight());
        assertEquals(0, l.dedicatedPermits());
        assertEquals(Integer.MAX_VALUE, l.maxInFlight());
        assertTrue(l.ratePerSecond().isEmpty());
        assertEquals(LaneSpec.DEFAULT_BUFFER, l.buffer());
        assertEquals(RetryPolicy.DEFAULT, l.retryPolicy());
    }

    @Test
    void laneSpec_rejectsBadValues_namingTheLaneAndValue() {
        LaneSpec.Builder b = LaneSpec.builder("config");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.weight(0)), "'config'", "0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.weight(10_001)), "10001");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.dedicatedPermits(-1)), "-1");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.maxInFlight(0)), "0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.rateLimit(0, 1)), "0.0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.rateLimit(Double.NaN, 1)), "NaN");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.rateLimit(1, 0)), "burst");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> b.buffer(0)), "0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> LaneSpec.builder("UPPER")), "'UPPER'");
        assertMessage(assertThrows(IllegalStateException.class,
                () -> LaneSpec.builder("x").maxInFlight(1).dedicatedPermits(2).build()), "2", "1");
    }

    @Test
    void laneSpec_toBuilder_derivesAChangedCopy() {
        LaneSpec a = LaneSpec.builder("a").weight(3).dedicatedPermits(1).rateLimit(2.0, 4).build();
        LaneSpec b = a.toBuilder().weight(5).build();
        assertEquals(5, b.weight());
        assertEquals(1, b.dedicatedPermits());
        assertEquals(2.0, b.ratePerSecond().getAsDouble());
        assertEquals(3, a.weight(), "the original never changes");
    }

    @Test
    void retryPolicy_delaysGrowAndAreCapped_andJitterStaysInItsBand() {
        RetryPolicy p = RetryPolicy.builder().initialDelay(Duration.ofSeconds(1)).multiplier(2).maxDelay(Duration.ofSeconds(10))
                .jitter(0.2).maxAttempts(6).build();
        assertEquals(Duration.ofSeconds(1), p.delayAfter(1, 0.5));
        assertEquals(Duration.ofSeconds(4), p.delayAfter(3, 0.5));
        assertEquals(Duration.ofSeconds(10), p.delayAfter(10, 0.5));
        assertEquals(Duration.ofMillis(800), p.delayAfter(1, 0.0));
        assertTrue(p.delayAfter(1, 0.999).toMillis() <= 1200);
        assertTrue(p.canRetry(5));
        assertFalse(p.canRetry(6));
    }

    @Test
    void retryPolicy_rejectsBadValues() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().maxAttempts(0)), "0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().multiplier(0.5)), "0.5");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().jitter(1.5)), "1.5");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().initialDelay(Duration.ofSeconds(-1))), "-1");
        assertMessage(assertThrows(IllegalStateException.class,
                () -> RetryPolicy.builder().initialDelay(Duration.ofMinutes(10)).maxDelay(Duration.ofMinutes(1)).build()), "PT1M");
    }

    @Test
    void rows_checkTheirShape() {
        RowSchema s = RowSchema.of(new Column("VDS_ID", JDBCType.INTEGER), new Column("SAMPLE_TIME", JDBCType.TIMESTAMP));
        Row r = Row.of(s, 7, null);
        assertEquals(7, r.get("vds_id"));
        assertEquals(1, s.indexOf("sample_time"));
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Row.of(s, 1)), "1 values", "2 columns");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> r.get("nope")), "'nope'");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> RowSchema.of(new Column("A", JDBCType.INTEGER), new Column("a", JDBCType.INTEGER))), "duplicate");
        assertThrows(IllegalArgumentException.class, () -> RowSchema.of(java.util.List.of()));
    }

    @Test
    void exceptions_sayWhetherToRetry() {
        assertTrue(new PullException("x", null).retryable());
        assertFalse(new InvalidTaskException("x").retryable());
        assertFalse(new SinkException("x", null, false).retryable());
        assertTrue(new LeaseLostException("x").retryable());
    }

    @Test
    void names_renderControlCharactersVisibly() {
        assertEquals("a\\u000ab", Names.printable("a\nb"));
        assertTrue(Names.printable("x".repeat(500)).contains("500 chars"));
    }

    static void assertMessage(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' lacks '" + p + "'");
        }
    }
}
