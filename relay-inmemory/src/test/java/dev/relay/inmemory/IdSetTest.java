package dev.relay.inmemory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The open-addressing id set against a {@link HashSet} model, under random adds and removes. */
class IdSetTest {

    @Test
    void randomAddsAndRemoves_matchAHashSet() {
        qt().withExamples(200).withFixedSeed(11L).forAll(longs().all()).checkAssert(seed -> {
            SplittableRandom random = new SplittableRandom(seed);
            int ids = 1 + random.nextInt(500);
            IdSet set = new IdSet();
            Set<String> model = new HashSet<>();
            for (int op = 0; op < 3_000; op++) {
                String id = "task-" + random.nextInt(ids);
                switch (random.nextInt(3)) {
                    case 0 -> assertEquals(model.add(id), set.add(id));
                    case 1 -> assertEquals(model.remove(id), set.remove(id));
                    default -> assertEquals(model.contains(id), set.contains(id));
                }
                assertEquals(model.size(), set.size());
            }
            for (int i = 0; i < ids; i++) {
                assertEquals(model.contains("task-" + i), set.contains("task-" + i));
            }
        });
    }
}
