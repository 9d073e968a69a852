package dev.relay.core.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.core.FairScheduler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The floor the pressure control keeps, {@code k + 1} for {@code k} lanes with dedicated permits, starves no lane
 * under {@link FairScheduler#limit(int)}: each lane with dedicated permits keeps one, and one stays in the shared
 * pool, which every lane's ring visits share (so a lane without dedicated permits has a finite start bound).
 */
class LimitFloorTest {

    record Item(String lane) {
    }

    final List<FairScheduler.Running<Item>> running = new ArrayList<>();
    final Map<String, FairScheduler.Lane<Item>> lanes = new HashMap<>();

    Map<String, Integer> startAll(FairScheduler<Item> s) {
        Map<String, Integer> started = new HashMap<>();
        while (s.next((lane, item, ticket) -> {
            started.merge(lane.name(), 1, Integer::sum);
            running.add(FairScheduler.Running.of(lane, ticket, 0));
        })) {
            // count
        }
        return started;
    }

    FairScheduler<Item> scheduler(int permits, List<LaneSpec> specs) {
        FairScheduler<Item> s = FairScheduler.builder().permits(permits).quantum(1).build();
        for (LaneSpec given : specs) {
            LaneSpec spec = given.toBuilder().maxTaskCost(100).build();
            FairScheduler.Lane<Item> lane = s.addLane(spec);
            lanes.put(spec.name(), lane);
            for (int i = 0; i < 10; i++) {
                s.enqueue(lane, new Item(spec.name()));
            }
        }
        return s;
    }

    @Test
    void limit_atTheFloor_keepsOnePermitPerDedicatedLaneAndOneShared() {
        FairScheduler<Item> s = scheduler(8, List.of(LaneSpec.builder("config").dedicatedPermits(3).build(),
                LaneSpec.builder("realtime").dedicatedPermits(1).build(), LaneSpec.of("backfill")));
        s.limit(3);
        assertEquals(1, s.sharedPermits());
        Map<String, Integer> started = startAll(s);
        assertEquals(3, started.values().stream().mapToInt(Integer::intValue).sum());
        assertTrue(started.get("config") >= 1 && started.get("realtime") >= 1, "each dedicated lane keeps one: " + started);
        assertTrue(s.startBound(lanes.get("backfill"), running) < FairScheduler.UNBOUNDED, "backfill has a bound");
    }

    @Test
    void limit_belowDedicatedPlusOne_keepsOneShared() {
        FairScheduler<Item> s = scheduler(8, List.of(LaneSpec.builder("config").dedicatedPermits(2).build(), LaneSpec.of("backfill")));
        s.limit(2); // Σ d = 2: without the kept permit "backfill" would get none
        assertEquals(1, s.sharedPermits());
        assertEquals(2, startAll(s).values().stream().mapToInt(Integer::intValue).sum());
        assertTrue(s.startBound(lanes.get("backfill"), running) < FairScheduler.UNBOUNDED, "backfill has a bound");
    }

    @Test
    void limit_whenEveryLaneHasDedicatedPermits_isUnchanged() {
        FairScheduler<Item> s = scheduler(4, List.of(LaneSpec.builder("a").dedicatedPermits(2).build(),
                LaneSpec.builder("b").dedicatedPermits(2).build()));
        s.limit(4);
        assertEquals(0, s.sharedPermits());
        assertEquals(Map.of("a", 2, "b", 2), startAll(s));
    }

    @Test
    void limit_aboveDedicatedPlusOne_isUnchanged() {
        FairScheduler<Item> s = scheduler(8, List.of(LaneSpec.builder("config").dedicatedPermits(2).build(), LaneSpec.of("backfill")));
        s.limit(5);
        assertEquals(3, s.sharedPermits());
        Map<String, Integer> started = startAll(s);
        assertEquals(5, started.values().stream().mapToInt(Integer::intValue).sum());
        assertTrue(started.get("config") >= 2, "config keeps its 2 dedicated permits: " + started);
    }
}
