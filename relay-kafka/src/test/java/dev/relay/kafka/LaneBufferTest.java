package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Lease;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The room signal of a lane buffer: the owner is woken when the engine drained the lane's load — ready plus the
 * deliveries still waiting for their arming commit — to the low-water mark.
 */
class LaneBufferTest {

    private static final TopicPartition TP = new TopicPartition("t.lane", 0);
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2024-01-01T00:00:00Z"), ZoneOffset.UTC);

    private static List<Delivery> deliveries(long from, int n) {
        List<Delivery> out = new ArrayList<>(n);
        LocalDateTime start = LocalDateTime.of(2024, 1, 1, 0, 0);
        for (int i = 0; i < n; i++) {
            LocalDateTime s = start.plusSeconds(30L * (from + i));
            Task task = Task.window("lane", "s", Window.of(s, s.plusSeconds(30)));
            out.add(new Delivery(TP, from + i, 1, task, CLOCK.instant(), null));
        }
        return out;
    }

    private static List<Lease> take(LaneBuffer lb, int max) {
        return lb.take(max, d -> new KafkaLease(d, e -> { }, CLOCK));
    }

    /**
     * The case the benchmark found (BENCHMARKS.md section 4): the lane is full of deliveries whose arming commit is
     * in flight when the owner asks for room; they are published, and the engine takes them all at once. The owner
     * must be woken then, not at its next poll timeout.
     */
    @Test
    void aLaneFullOfArmingDeliveriesWakesTheOwnerWhenTheEngineDrainsThem() {
        AtomicInteger wakes = new AtomicInteger();
        LaneBuffer lb = new LaneBuffer("lane", wakes::incrementAndGet);
        lb.publish(List.of(), List.of(), 0, 500, 500, 0, true); // 500 arming, none ready
        assertFalse(lb.wantRoom(250), "a lane whose load is 500 is above the low-water mark");
        lb.publish(List.of(), deliveries(0, 500), 0, 0, 0, 0, true); // the arming commit was acknowledged
        assertEquals(0, wakes.get());
        assertEquals(500, take(lb, 500).size());
        assertEquals(1, wakes.get(), "draining the lane wakes the owner once");
        lb.publish(List.of(), deliveries(500, 10), 0, 0, 0, 0, true);
        take(lb, 10);
        assertEquals(1, wakes.get(), "one wake-up per request");
    }

    @Test
    void pendingDeliveriesKeepTheLoadAboveTheMarkUntilTheyAreTaken() {
        AtomicInteger wakes = new AtomicInteger();
        LaneBuffer lb = new LaneBuffer("lane", wakes::incrementAndGet);
        lb.publish(List.of(), deliveries(0, 200), 0, 300, 300, 0, true); // 200 ready, 300 arming
        assertFalse(lb.wantRoom(250));
        take(lb, 200);
        assertEquals(0, wakes.get(), "300 still arming: load 300 is above 250");
        lb.publish(List.of(), deliveries(200, 300), 0, 0, 0, 0, true);
        take(lb, 49);
        assertEquals(0, wakes.get(), "load 251");
        take(lb, 1);
        assertEquals(1, wakes.get(), "load 250: at the mark");
    }

    @Test
    void aLaneAlreadyAtTheMarkAsksForNoWakeUp() {
        AtomicInteger wakes = new AtomicInteger();
        LaneBuffer lb = new LaneBuffer("lane", wakes::incrementAndGet);
        lb.publish(List.of(), deliveries(0, 100), 0, 50, 50, 0, true);
        assertTrue(lb.wantRoom(250), "load 150: refill now");
        take(lb, 100);
        assertEquals(0, wakes.get());
    }
}
