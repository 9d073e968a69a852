package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * An adversarial search for a head-of-lane wait above {@link FairScheduler#startBound}: QuickTheories draws seeds,
 * {@link Workloads#adversarial} turns each into a scenario (1 to 8 permits, up to 24 lanes, heavy-tailed and lagging
 * costs, victims arriving right after other lanes start their most expensive tasks, caps, dedicated permits, rate
 * limits, pauses, limit changes), and {@link BoundHarness} checks every start against the bound evaluated at every
 * instant the item waited; for one scenario in three, also against the class comment's statement evaluated in
 * hindsight (actual remaining times and true-ups, true largest costs, smallest estimates). The seed of a failing
 * scenario is in the message.
 *
 * <p>{@code -Drelay.bound.examples=N} runs N scenarios instead of the default 200: {@code mvn -pl relay-core -am test
 * -Dtest=StartBoundPropertiesTest -Drelay.bound.examples=50000 -Dsurefire.failIfNoSpecifiedTests=false} (the search
 * of BENCHMARKS.md section 7 ran the same generator and checks on 50,000 seeds). {@code -Drelay.bound.replay=SEED}
 * replays one scenario and prints every
 * start, completion and bound that set a deadline.
 */
class StartBoundPropertiesTest {

    private static final int EXAMPLES = Integer.getInteger("relay.bound.examples", 200);

    private static double worstRatio;
    private static String worstCase = "none";
    private static double worstOvertaken;
    private static String worstOvertakenCase = "none";
    private static long heads;
    private static long measured;
    private static long unbounded;

    @Test
    void startBound_adversarialScenarios_noHeadWaitsBeyondItsBound() {
        qt().withExamples(EXAMPLES).withFixedSeed(18L).forAll(longs().all()).checkAssert(seed -> {
            BoundHarness.Scenario sc = Workloads.adversarial(seed);
            BoundHarness.Hindsight hindsight = null;
            if (Math.floorMod(seed, 3) == 0) { // one in three: also the statement itself, with the costs in hindsight
                long[] minEstimate = BoundHarness.run(sc, new SplittableRandom(seed ^ 0x5DEECE66DL), null).minEstimate;
                hindsight = new BoundHarness.Hindsight(sc.trueMax(), minEstimate);
            }
            BoundHarness.Result res = BoundHarness.run(sc, new SplittableRandom(seed ^ 0x5DEECE66DL), null, null, hindsight);
            if (!res.violations.isEmpty()) {
                throw new AssertionError(sc + ": " + res.violations);
            }
            synchronized (StartBoundPropertiesTest.class) {
                heads += res.heads;
                measured += res.measured.size();
                unbounded += res.unbounded;
                if (res.worstRatio > worstRatio) {
                    worstRatio = res.worstRatio;
                    worstCase = sc + ": " + res.worstCase;
                }
                if (res.worstOvertakenRatio > worstOvertaken) {
                    worstOvertaken = res.worstOvertakenRatio;
                    worstOvertakenCase = sc + ": " + res.worstOvertakenCase;
                }
            }
        });
    }

    @Test
    void replay_oneSeed_printsItsEvents() {
        String seed = System.getProperty("relay.bound.replay");
        assumeTrue(seed != null, "replays a scenario only with -Drelay.bound.replay=SEED");
        BoundHarness.Scenario sc = Workloads.adversarial(Long.parseLong(seed));
        System.out.println(sc);
        BoundHarness.trace = System.out;
        try {
            BoundHarness.Result res = BoundHarness.run(sc, new SplittableRandom(sc.seed ^ 0x5DEECE66DL), null);
            assertTrue(res.violations.isEmpty(), res.violations.toString());
        } finally {
            BoundHarness.trace = null;
        }
    }

    @AfterAll
    static void report() {
        System.out.printf("StartBoundPropertiesTest: %d scenarios, %d head waits (%d with a finite bound, %d unbounded at the"
                + " head); worst wait/bound %.6f in %s; among waits overtaken by other lanes %.6f in %s%n", EXAMPLES, heads,
                measured, unbounded, worstRatio, worstCase, worstOvertaken, worstOvertakenCase);
    }
}
