package dev.relay.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The README's quick start compiles and relays. */
class QuickStartTest {

    @Test
    void run_relaysThreeHoursOfSamples() throws Exception {
        assertEquals(360, QuickStart.run(), "three one-hour windows of 30-second samples of one station");
    }
}
