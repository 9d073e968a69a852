package dev.relay.api;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.strings;

class SeriesKeyTest {

    @Test
    void canonical_sortsParametersAndEncodesValues() {
        SeriesKey k = SeriesKey.of("vds30sec", Map.of("district", "7", "a", "x;y=z"));
        assertEquals("vds30sec;a=x%3By%3Dz;district=7", k.canonical());
        assertEquals(k, SeriesKey.parse(k.canonical()));
        assertEquals("pems.config", SeriesKey.of("pems.config").canonical());
    }

    @Test
    void parse_roundTripsAnyParameterValue() {
        qt().withFixedSeed(1L).withExamples(500).forAll(strings().allPossible().ofLengthBetween(0, 40), strings().basicLatinAlphabet().ofLengthBetween(0, 10))
                .assuming((v1, v2) -> v1.codePoints().noneMatch(cp -> cp >= 0xD800 && cp <= 0xDFFF))
                .checkAssert((v1, v2) -> {
                    SeriesKey k = SeriesKey.of("src", Map.of("a", v1, "b", v2));
                    assertEquals(k, SeriesKey.parse(k.canonical()));
                });
    }

    @Test
    void of_task_takesSourceAndAllParameters_andTaskIdMatches() {
        Window w = Window.starting(LocalDateTime.parse("2024-03-14T10:00"), Duration.ofMinutes(10));
        Task t = Task.builder("realtime", "vds30sec").parameter("district", "7").scope(w).build();
        SeriesKey k = SeriesKey.of(t);
        assertEquals(SeriesKey.of("vds30sec", "district", "7"), k);
        assertEquals(t.id(), k.taskId(w));
        assertEquals(t.id(), k.task("backfill", w).id(), "the lane is not part of the id");
    }

    @Test
    void constructor_badNames_areRejectedNamingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SeriesKey.of("bad source"));
        assertTrue(e.getMessage().contains("bad source"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SeriesKey.of("src", "bad key", "1"));
        assertTrue(e.getMessage().contains("bad key"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SeriesKey.parse("src;novalue"));
        e = assertThrows(IllegalArgumentException.class, () -> SeriesKey.of("src", "k", "a\uD800b"));
        assertTrue(e.getMessage().contains("unpaired surrogate"), e.getMessage());
        TreeMap<String, String> params = new TreeMap<>();
        params.put("k", "v");
        SeriesKey k = new SeriesKey("src", params);
        params.put("k2", "v2");
        assertEquals(1, k.parameters().size(), "parameters are copied");
    }
}
