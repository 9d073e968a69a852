package dev.relay.core;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BoundReplayTest {
    @Test
    void replay() throws Exception {
        long seed = Long.getLong("seed", -372L);
        BoundHarness.Scenario sc = Workloads.adversarial(seed);
        try (java.io.PrintStream out = new java.io.PrintStream("/tmp/bt/trace.txt")) {
            BoundHarness.trace = out;
            out.println(sc);
            BoundHarness.Result res = BoundHarness.run(sc, new SplittableRandom(seed ^ 0x5DEECE66DL), null);
            out.println(res.violations);
        } finally {
            BoundHarness.trace = null;
        }
    }
}
