package dev.relay.core.plan;

import dev.relay.api.SeriesKey;
import dev.relay.api.Window;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackfillManifestTest {

    private static final SeriesKey D4 = SeriesKey.of("vds30sec", "district", "4");
    private static final SeriesKey D7 = SeriesKey.of("vds30sec", "district", "7");

    @Test
    void add_windowEndingAtMidnight_touchesOnlyTheDayBefore() {
        BackfillManifest m = BackfillManifest.builder()
                .add(D7, Window.starting(LocalDateTime.parse("2024-03-14T23:50"), Duration.ofMinutes(10))).build();
        assertEquals(List.of(LocalDate.parse("2024-03-14")), List.copyOf(m.datesOf(D7)));
    }

    @Test
    void add_windowAcrossMidnight_touchesBothDays() {
        BackfillManifest m = BackfillManifest.builder()
                .add(D7, Window.of(LocalDateTime.parse("2024-03-14T23:00"), LocalDateTime.parse("2024-03-15T01:00"))).build();
        assertEquals(List.of(LocalDate.parse("2024-03-14"), LocalDate.parse("2024-03-15")), List.copyOf(m.datesOf(D7)));
    }

    @Test
    void toCsv_listsOneLinePerSeriesAndDate() {
        BackfillManifest m = BackfillManifest.of(Map.of(
                D7, List.of(Window.starting(LocalDateTime.parse("2024-03-14T10:00"), Duration.ofMinutes(10)),
                        Window.starting(LocalDateTime.parse("2024-03-14T11:00"), Duration.ofMinutes(10))),
                D4, List.of(Window.starting(LocalDateTime.parse("2024-03-02T00:00"), Duration.ofMinutes(10)))));
        assertEquals("source,parameters,date\n"
                + "vds30sec,district=4,2024-03-02\n"
                + "vds30sec,district=7,2024-03-14\n", m.toCsv());
        assertEquals("source,parameters,date\nconfig,,2024-03-02\n",
                BackfillManifest.builder().add(SeriesKey.of("config"), LocalDate.parse("2024-03-02")).build().toCsv());
    }

    @Test
    void merge_unitesTheDates() {
        BackfillManifest a = BackfillManifest.builder().add(D7, LocalDate.parse("2024-03-01")).build();
        BackfillManifest b = BackfillManifest.builder().add(D7, LocalDate.parse("2024-03-02")).add(D4, LocalDate.parse("2024-03-01")).build();
        BackfillManifest m = a.merge(b);
        assertEquals(2, m.datesOf(D7).size());
        assertEquals(2, m.allDates().size());
        assertEquals(m, b.merge(a));
        assertTrue(BackfillManifest.empty().isEmpty());
        assertEquals(BackfillManifest.empty(), BackfillManifest.builder().build());
    }
}
