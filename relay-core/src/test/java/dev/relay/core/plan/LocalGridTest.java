package dev.relay.core.plan;

import dev.relay.api.Window;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;

import static dev.relay.core.plan.Pems.LA;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

class LocalGridTest {

    private final LocalGrid grid = LocalGrid.of(Duration.ofMinutes(10), LA);

    private static LocalDateTime t(String s) {
        return LocalDateTime.parse(s);
    }

    @Test
    void of_sizeNotDividingADay_isRejectedNamingTheSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LocalGrid.of(Duration.ofMinutes(7), LA));
        assertTrue(e.getMessage().contains("PT7M"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LocalGrid.of(Duration.ofMillis(1500), LA));
        assertThrows(IllegalArgumentException.class, () -> LocalGrid.of(Duration.ofDays(2), LA));
        assertThrows(IllegalArgumentException.class, () -> LocalGrid.of(Duration.ZERO, LA));
    }

    @Test
    void alignDown_and_alignUp_useLocalMidnight() {
        assertEquals(t("2024-03-10T02:30"), grid.alignDown(t("2024-03-10T02:39:59.999")));
        assertEquals(t("2024-03-10T02:40"), grid.alignUp(t("2024-03-10T02:30:00.001")));
        assertEquals(t("2024-03-10T02:30"), grid.alignUp(t("2024-03-10T02:30")));
        assertTrue(grid.isAligned(t("2024-03-10T23:50")));
        assertFalse(grid.isAligned(t("2024-03-10T23:55")));
        assertEquals(144, grid.count(t("2024-03-10T00:00"), t("2024-03-11T00:00")), "the spring day has 144 local windows too");
    }

    @Test
    void closeInstant_ordinaryWindow_isItsEnd() {
        assertEquals(Pems.la("2024-03-05T10:10"), grid.closeInstant(t("2024-03-05T10:00")));
    }

    @Test
    void closeInstant_springGapWindows_closeAtTheTransition() {
        Instant transition = Instant.parse("2024-03-10T10:00:00Z"); // 02:00 PST = 03:00 PDT
        assertEquals(transition, grid.closeInstant(t("2024-03-10T01:50")));
        for (String start : new String[] {"02:00", "02:10", "02:50"}) {
            assertEquals(transition.plusNanos(1), grid.closeInstant(t("2024-03-10T" + start)), start);
        }
        assertEquals(Instant.parse("2024-03-10T10:10:00Z"), grid.closeInstant(t("2024-03-10T03:00")));
    }

    @Test
    void closeInstant_autumnRepeatedHour_closesAfterTheSecondOccurrence() {
        // 2024-11-03: 01:00-02:00 happens at 08:00Z (PDT) and again at 09:00Z (PST)
        assertEquals(Instant.parse("2024-11-03T08:00:00Z"), grid.closeInstant(t("2024-11-03T00:50")));
        assertEquals(Instant.parse("2024-11-03T09:10:00Z"), grid.closeInstant(t("2024-11-03T01:00")));
        assertEquals(Instant.parse("2024-11-03T10:00:00Z"), grid.closeInstant(t("2024-11-03T01:50")));
        assertEquals(Instant.parse("2024-11-03T10:10:00Z"), grid.closeInstant(t("2024-11-03T02:00")));
    }

    @Test
    void closeInstant_isMonotoneAcrossBothDstDays() {
        for (String day : new String[] {"2024-03-10", "2024-11-03"}) {
            LocalDateTime s = t(day + "T00:00");
            Instant previous = grid.closeInstant(s);
            for (int i = 1; i < 144; i++) {
                Instant c = grid.closeInstant(s.plusMinutes(10L * i));
                assertFalse(c.isBefore(previous), day + " window " + i);
                previous = c;
            }
        }
    }

    @Test
    void firstStartClosingAfter_isTheBoundaryOfClosedWindows() {
        // any instant in 2024 and 2025 (both DST changes included), any of several window sizes
        long from = Instant.parse("2024-01-01T00:00:00Z").getEpochSecond();
        long to = Instant.parse("2026-01-01T00:00:00Z").getEpochSecond();
        int[] sizes = {30, 300, 600, 3600, 86_400};
        qt().withFixedSeed(20241103L).withExamples(3000)
                .forAll(longs().between(from, to), integers().between(0, sizes.length - 1))
                .checkAssert((second, sizeIndex) -> {
                    LocalGrid g = LocalGrid.of(Duration.ofSeconds(sizes[sizeIndex]), LA);
                    Instant x = Instant.ofEpochSecond(second);
                    LocalDateTime b = g.firstStartClosingAfter(x);
                    assertTrue(g.closeInstant(b).isAfter(x), () -> "boundary window " + b + " closed by " + x);
                    Window before = g.windowAt(b.minus(g.size()));
                    assertFalse(g.closeInstant(before).isAfter(x), () -> "window " + before + " not closed by " + x);
                });
    }
}
