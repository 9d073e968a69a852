package dev.relay.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs each benchmark once, in this JVM (no fork), with one 100 ms warmup and one 100 ms measurement
 * iteration: checks that it runs and reports, not its speed.
 */
class BenchmarksSmokeTest {

    private static RunResult runOnce(ChainedOptionsBuilder options) throws RunnerException {
        return runOnce(options, 1);
    }

    private static RunResult runOnce(ChainedOptionsBuilder options, int warmups) throws RunnerException {
        Collection<RunResult> results = new Runner(options.forks(0).threads(1)
                .warmupIterations(warmups).warmupTime(TimeValue.milliseconds(100))
                .measurementIterations(1).measurementTime(TimeValue.milliseconds(100))
                .shouldFailOnError(true).verbosity(VerboseMode.SILENT).build()).run();
        assertEquals(1, results.size(), "one benchmark with one set of parameters");
        RunResult result = results.iterator().next();
        assertTrue(result.getPrimaryResult().getScore() > 0, () -> "no score: " + result.getPrimaryResult());
        return result;
    }

    @Test
    void decisionCost_fair_runs() throws RunnerException {
        runOnce(new OptionsBuilder().include(DecisionCostBenchmark.class.getName() + ".fair$").param("lanes", "16"));
    }

    @Test
    void engineThroughput_relay_runs() throws RunnerException {
        runOnce(new OptionsBuilder().include(EngineThroughputBenchmark.class.getName() + ".tasks$").param("impl", "relay")
                .param("threads", "2"));
    }

    @Test
    void fairnessUnderFlood_reportsSharesAndWaits() throws RunnerException {
        RunResult r = runOnce(new OptionsBuilder().include(FairnessUnderFloodBenchmark.class.getName() + ".flood$")
                .param("flood", "1000"));
        var secondary = r.getSecondaryResults();
        for (String counter : new String[] {"realtimeTasks", "backfillTasks", "shareRealtimePct", "shareMaxErrPct",
                "waitP99RealtimeUs", "waitMaxHourlyUs"}) {
            Result<?> c = secondary.get(counter);
            assertFalse(c == null, () -> "no aux counter " + counter + " in " + secondary.keySet());
        }
        assertTrue(secondary.get("shareRealtimePct").getScore() > 0, "realtime got no source time");
    }

    @Test
    void rowThroughput_h2_relay_runs() throws RunnerException {
        runOnce(new OptionsBuilder().include(RowThroughputBenchmark.class.getName() + ".copy$")
                .param("db", "h2").param("impl", "relay"));
    }

    @Test
    void rowThroughput_postgresql_plain_runs() throws RunnerException {
        if (!RowThroughputBenchmark.postgresReachable()) {
            String message = "PostgreSQL not reachable at " + RowThroughputBenchmark.postgresAddress();
            if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                throw new AssertionError(message + " (RELAY_REQUIRE_SERVICES=1, so this fails instead of skipping)");
            }
            Assumptions.abort(message);
        }
        runOnce(new OptionsBuilder().include(RowThroughputBenchmark.class.getName() + ".copy$")
                .param("db", "postgresql").param("impl", "plain"));
    }

    /** One single-shot iteration of 20,000 tasks, no warmup; skipped if the in-process broker cannot start. */
    @Test
    void kafkaThroughput_queue_runs() throws RunnerException {
        try {
            runOnce(new OptionsBuilder().include(KafkaThroughputBenchmark.class.getName() + ".tasks$")
                    .param("impl", "queue").param("partitions", "6"), 0);
        } catch (RunnerException e) {
            java.io.StringWriter trace = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(trace));
            Assumptions.assumeFalse(trace.toString().contains(KafkaThroughputBenchmark.BROKER_FAILED),
                    "the in-process Kafka broker could not start");
            throw e;
        }
    }

    /** One single-shot tick of 1,000 tasks in one batch; skipped if the in-process broker cannot start. */
    @Test
    void kafkaPlanningTick_batch_runs() throws RunnerException {
        try {
            runOnce(new OptionsBuilder().include(KafkaPlanningTickBenchmark.class.getName() + ".tick$")
                    .param("impl", "batch"), 0);
        } catch (RunnerException e) {
            java.io.StringWriter trace = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(trace));
            Assumptions.assumeFalse(trace.toString().contains(KafkaThroughputBenchmark.BROKER_FAILED),
                    "the in-process Kafka broker could not start");
            throw e;
        }
    }
}
