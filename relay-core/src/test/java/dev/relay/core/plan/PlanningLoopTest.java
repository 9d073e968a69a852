package dev.relay.core.plan;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.relay.core.plan.RealtimeTickerTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PlanningLoopTest {

    @Test
    void run_aFailingStep_isCountedAndTheOthersStillRun() {
        List<String> ran = new ArrayList<>();
        PlanningLoop loop = PlanningLoop.builder()
                .step("realtime", () -> ran.add("realtime"))
                .step("config", () -> {
                    throw new IllegalStateException("ledger down (test)");
                })
                .step("backfill", () -> ran.add("backfill"))
                .build();
        loop.run();
        loop.run();
        assertEquals(List.of("realtime", "backfill", "realtime", "backfill"), ran);
        assertEquals(2, loop.failures("config"));
        assertEquals(0, loop.failures("realtime"));
    }

    @Test
    void build_badSteps_failNamingThem() {
        assertMessage(() -> PlanningLoop.builder().build(), "at least one step");
        assertMessage(() -> PlanningLoop.builder().step("a", () -> { }).step("a", () -> { }), "'a'");
        assertMessage(() -> PlanningLoop.builder().step("a", () -> { }).build().failures("b"), "'b'");
    }
}
