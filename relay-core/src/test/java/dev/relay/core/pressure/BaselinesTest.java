package dev.relay.core.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BaselinesTest {

    static final Instant T0 = Instant.parse("2024-06-01T00:00:00Z");

    @Test
    void baseline_noSample_isNaN() {
        assertTrue(Double.isNaN(new Baselines(Duration.ofHours(1)).baseline("q", T0)));
    }

    @Test
    void baseline_isTheMinimumWithinTheWindow() {
        Baselines b = new Baselines(Duration.ofHours(8));
        b.add("q", T0, 3.0);
        b.add("q", T0.plusSeconds(60), 2.0);
        b.add("q", T0.plus(Duration.ofHours(2)), 5.0);
        assertEquals(2.0, b.baseline("q", T0.plus(Duration.ofHours(3))), 1e-12);
    }

    @Test
    void baseline_olderThanTheWindow_isForgotten() {
        Baselines b = new Baselines(Duration.ofHours(8));
        b.add("q", T0, 1.0);
        b.add("q", T0.plus(Duration.ofHours(6)), 4.0);
        assertEquals(1.0, b.baseline("q", T0.plus(Duration.ofHours(6))), 1e-12);
        // the first bucket ages out within the window's last eighth
        assertEquals(4.0, b.baseline("q", T0.plus(Duration.ofHours(8))), 1e-12);
        assertTrue(Double.isNaN(b.baseline("q", T0.plus(Duration.ofHours(15)))), "all forgotten");
    }

    @Test
    void baseline_isPerSource() {
        Baselines b = new Baselines(Duration.ofHours(1));
        b.add("vds30sec", T0, 0.5);
        b.add("PEMS.DETECTOR_CONFIG_LOG", T0, 9.0);
        assertEquals(0.5, b.baseline("vds30sec", T0), 1e-12);
        assertEquals(9.0, b.baseline("PEMS.DETECTOR_CONFIG_LOG", T0), 1e-12);
        assertEquals(Map.of("PEMS.DETECTOR_CONFIG_LOG", 9.0, "vds30sec", 0.5), b.all(T0));
    }

    @Test
    void add_manySources_keepsTheMostRecentlyUsed() {
        Baselines b = new Baselines(Duration.ofHours(1));
        for (int i = 0; i <= Baselines.MAX_SOURCES; i++) {
            b.add("q" + i, T0, i);
        }
        assertTrue(Double.isNaN(b.baseline("q0", T0)), "the least recently used source is forgotten");
        assertEquals(Baselines.MAX_SOURCES, b.all(T0).size());
    }
}
