package dev.relay.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.time.Duration;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;

class WindowTest {

    static final LocalDateTime T = LocalDateTime.of(2024, 3, 14, 10, 0);

    @Test
    void of_endNotAfterStart_failsNamingBoth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Window.of(T, T));
        assertTrue(e.getMessage().contains("2024-03-14T10:00"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Window.of(T, T.minusSeconds(1)));
    }

    @Test
    void starting_nonPositiveLength_fails() {
        assertThrows(IllegalArgumentException.class, () -> Window.starting(T, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> Window.starting(T, Duration.ofMinutes(-10)));
    }

    @Test
    void contains_isHalfOpen() {
        Window w = Window.starting(T, Duration.ofMinutes(10));
        assertTrue(w.contains(T));
        assertTrue(w.contains(T.plusMinutes(10).minusNanos(1)));
        assertFalse(w.contains(T.plusMinutes(10)), "the end belongs to the next window");
        assertFalse(w.contains(T.minusNanos(1)));
    }

    @Test
    void adjacentWindows_shareNoInstant_andCoverEveryInstant() {
        qt().withExamples(500).forAll(integers().between(0, 100_000), integers().between(1, 3600), integers().between(0, 7200))
                .checkAssert((offset, len, probe) -> {
                    Window a = Window.starting(T.plusSeconds(offset), Duration.ofSeconds(len));
                    Window b = Window.of(a.end(), a.end().plusSeconds(len));
                    LocalDateTime p = a.start().plusSeconds(probe % (2L * len)).plusNanos(probe % 3 == 0 ? 0 : 500);
                    assertEquals(1, (a.contains(p) ? 1 : 0) + (b.contains(p) ? 1 : 0), "instant " + p + " in " + a + " and " + b);
                    assertFalse(a.overlaps(b));
                });
    }

    @Test
    void parse_roundTripsToString_andRejectsGarbage() {
        Window w = Window.starting(T, Duration.ofMinutes(10));
        assertEquals(w, Window.parse(w.toString()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Window.parse("yesterday/today"));
        assertTrue(e.getMessage().contains("yesterday/today"));
        assertThrows(IllegalArgumentException.class, () -> Window.parse("2024-03-14T10:00"));
    }

    @Test
    void compareTo_ordersByStartThenEnd() {
        Window a = Window.starting(T, Duration.ofMinutes(10));
        Window b = Window.starting(T, Duration.ofMinutes(20));
        Window c = Window.starting(T.plusMinutes(1), Duration.ofMinutes(1));
        assertTrue(a.compareTo(b) < 0 && b.compareTo(c) < 0 && c.compareTo(a) > 0);
    }
}
