package dev.relay.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TaskTest {

    static final Window W = Window.starting(LocalDateTime.of(2024, 3, 14, 10, 0), Duration.ofMinutes(10));

    @Test
    void id_isDerivedFromWhatItPulls_notFromLaneOrAttempt() {
        Task a = Task.builder("realtime", "vds30sec").scope(W).parameter("district", "7").build();
        Task b = Task.builder("backfill", "vds30sec").scope(W).parameter("district", "7").attempt(3).build();
        assertEquals(a.id(), b.id());
        assertEquals(32, a.id().length());
        assertTrue(a.id().matches("[0-9a-f]{32}"));
        assertEquals(a.id(), a.withLane("config").withAttempt(5).id());
    }

    @Test
    void id_isStableAcrossReleases() {
        // ids persist in queues and ledgers: this value must never change
        Task t = Task.builder("realtime", "vds30sec").scope(W).parameter("district", "7").build();
        assertEquals(Task.deriveId("vds30sec", W, Map.of("district", "7")), t.id());
        assertEquals("b28e212dc95d01d9034a92fb895e8766", t.id());
    }

    @Test
    void id_differsForAnyDifferenceInSourceScopeOrParameters() {
        Task base = Task.builder("l", "vds30sec").scope(W).parameter("district", "7").build();
        assertNotEquals(base.id(), Task.builder("l", "vds30sec").scope(W).parameter("district", "8").build().id());
        assertNotEquals(base.id(), Task.builder("l", "other").scope(W).parameter("district", "7").build().id());
        assertNotEquals(base.id(), Task.builder("l", "vds30sec").scope(Window.of(W.start(), W.end().plusMinutes(1)))
                .parameter("district", "7").build().id());
        assertNotEquals(base.id(), Task.builder("l", "vds30sec").scope(W).parameter("district", "7").parameter("x", "").build().id());
        // length-prefixed fields: shifting a character between key and value changes the id
        assertNotEquals(Task.builder("l", "s").scope(W).parameter("ab", "c").build().id(),
                Task.builder("l", "s").scope(W).parameter("a", "bc").build().id());
    }

    @Test
    void snapshotTasks_ofDifferentDays_haveDifferentIds() {
        Task d1 = Task.snapshot("config", "PEMS.DETECTOR_CONFIG", Snapshot.of(LocalDate.of(2024, 6, 1)));
        Task d2 = Task.snapshot("config", "PEMS.DETECTOR_CONFIG", Snapshot.of(LocalDate.of(2024, 6, 2)));
        assertNotEquals(d1.id(), d2.id());
        assertTrue(d1.snapshot().isPresent() && d1.window().isEmpty());
    }

    @Test
    void builder_rejectsBadNames_namingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Task.builder("Real Time", "vds30sec"));
        assertTrue(e.getMessage().contains("'Real Time'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Task.builder("realtime", "x'; DROP TABLE t; --"));
        assertTrue(e.getMessage().contains("DROP TABLE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Task.builder("realtime", "s").parameter("bad key", "v"));
        assertTrue(e.getMessage().contains("'bad key'"));
        e = assertThrows(IllegalArgumentException.class, () -> Task.builder("realtime", "s").parameter("k", "x".repeat(2000)));
        assertTrue(e.getMessage().contains("2000"));
        assertThrows(IllegalArgumentException.class, () -> Task.builder("r", "s").attempt(0));
        assertThrows(IllegalStateException.class, () -> Task.builder("r", "s").build());
    }

    @Test
    void parameterValue_withAnUnpairedSurrogate_isRejected_becauseItsIdCouldCollide() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Task.builder("r", "s").scope(W).parameter("district", "7\uD800"));
        assertTrue(e.getMessage().contains("'district'") && e.getMessage().contains("surrogate"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Task.builder("r", "s").scope(W).parameter("d", "\uDC00x"));
        assertEquals("\uD83D\uDE97", Task.builder("r", "s").scope(W).parameter("d", "\uD83D\uDE97").build().parameter("d").orElseThrow());
    }

    @Test
    void parameterValues_mayHoldAnything_theyAreBoundNotConcatenated() {
        Task t = Task.builder("r", "s").scope(W).parameter("district", "7'; DROP TABLE x; --").build();
        assertEquals("7'; DROP TABLE x; --", t.parameter("district").orElseThrow());
    }

    @Test
    void equality_coversIdLaneAndAttempt() {
        Task t = Task.window("a", "s", W);
        assertEquals(t, Task.window("a", "s", W));
        assertNotEquals(t, t.withAttempt(2));
        assertNotEquals(t, t.withLane("b"));
    }
}
