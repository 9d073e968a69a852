package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.relay.api.LaneSpec;
import dev.relay.api.Lease;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The open-addressing table of active runs against a {@link HashMap} model, under random puts and removes. */
class IdTableTest {

    static final LaneRun LANE = new LaneRun(LaneSpec.of("a"), (t, s) -> null, null,
            FairScheduler.builder().build(), new IdTable());

    static TaskRun run(int i) {
        Task t = Task.window("a", "s", Window.starting(LocalDateTime.of(2024, 1, 1, 0, 0).plusMinutes(i), Duration.ofMinutes(1)));
        Lease lease = new Lease() {
            @Override
            public Task task() {
                return t;
            }

            @Override
            public Instant readySince() {
                return Instant.EPOCH;
            }

            @Override
            public void complete() {
            }

            @Override
            public void retry(Duration delay, String reason) {
            }

            @Override
            public void deadLetter(String reason) {
            }

            @Override
            public void release() {
            }
        };
        return new TaskRun(lease, LANE);
    }

    @Test
    void putIfAbsent_keepsTheFirstRunOfAnId_andRemoveOnlyRemovesThatRun() {
        IdTable table = new IdTable();
        TaskRun first = run(1);
        TaskRun second = run(1);
        assertNull(table.putIfAbsent(first));
        assertSame(first, table.putIfAbsent(second));
        assertFalse(table.remove(second), "not the active run");
        assertTrue(table.remove(first));
        assertEquals(0, table.size());
        assertNull(table.putIfAbsent(second));
    }

    @Test
    void randomPutsAndRemoves_matchAHashMap() {
        qt().withExamples(200).withFixedSeed(7L).forAll(longs().all()).checkAssert(seed -> {
            SplittableRandom random = new SplittableRandom(seed);
            int ids = 1 + random.nextInt(300);
            TaskRun[] runs = new TaskRun[ids];
            for (int i = 0; i < ids; i++) {
                runs[i] = run(i);
            }
            IdTable table = new IdTable();
            Map<String, TaskRun> model = new HashMap<>();
            for (int op = 0; op < 2_000; op++) {
                TaskRun r = runs[random.nextInt(ids)];
                if (random.nextInt(3) > 0) {
                    TaskRun got = table.putIfAbsent(r);
                    assertSame(model.putIfAbsent(r.task().id(), r), got);
                } else {
                    assertEquals(model.remove(r.task().id(), r), table.remove(r));
                }
                assertEquals(model.size(), table.size());
            }
            assertEquals(new HashSet<>(model.values()), new HashSet<>(table.values()));
        });
    }
}
