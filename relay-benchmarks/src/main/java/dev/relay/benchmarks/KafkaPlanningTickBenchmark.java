package dev.relay.benchmarks;

import dev.relay.api.Lease;
import dev.relay.api.SeriesKey;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.core.plan.InMemoryCompletionLedger;
import dev.relay.core.plan.RealtimeTicker;
import dev.relay.kafka.KafkaTaskQueue;
import dev.relay.kafka.KafkaTopics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One planning tick of {@value #SERIES} tasks against a real broker (an in-process single-node KRaft cluster, as in
 * {@link KafkaThroughputBenchmark}): a {@link RealtimeTicker} over {@value #SERIES} series whose windows all
 * closed, offering into a {@link KafkaTaskQueue} whose lane topic (6 partitions) exists. The score is the time of
 * the whole tick, in milliseconds. The goal (issue 14): at most 1 s.
 * <ul>
 *   <li>{@code batch}: the ticker as it is, one {@link TaskQueue#offerAll} per tick (one send of the batch, one
 *       wait for all acknowledgements);</li>
 *   <li>{@code each} (the baseline, the planners before issue 14): the same queue behind a wrapper that only
 *       implements {@code offer}, so {@code offerAll}'s default offers the tasks one by one, waiting for each
 *       acknowledgement.</li>
 * </ul>
 *
 * <pre>
 *   java -jar relay-benchmarks/target/benchmarks.jar KafkaPlanningTickBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 8)
@Fork(1)
@State(Scope.Benchmark)
public class KafkaPlanningTickBenchmark {

    /** Series of the ticker, one closed window each: the tasks of one tick. */
    public static final int SERIES = 1_000;
    static final ZoneId LA = ZoneId.of("America/Los_Angeles");
    static final LocalDateTime START = LocalDateTime.of(2024, 3, 5, 10, 0);

    @Param({"batch", "each"})
    public String impl;

    Path dir;
    KafkaClusterTestKit cluster;
    KafkaTaskQueue queue;
    TaskQueue offering;
    List<SeriesKey> series;
    RealtimeTicker ticker;
    int iteration;

    @Setup(Level.Trial)
    public void startBroker() throws Exception {
        dir = Files.createTempDirectory("relay-bench-tick");
        try {
            cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setBaseDirectory(dir)
                    .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "4")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("auto.create.topics.enable", "false")
                    .build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (Exception | LinkageError e) {
            throw new IllegalStateException(KafkaThroughputBenchmark.BROKER_FAILED, e);
        }
        queue = KafkaTaskQueue.builder().bootstrapServers(cluster.bootstrapServers()).groupId("tick")
                .topics(KafkaTopics.builder().prefix("tick.").partitions(6).replicationFactor(1).build())
                .createTopics(true).build();
        queue.offer(Task.window("realtime", "warmup", dev.relay.api.Window.starting(START, Duration.ofMinutes(10))));
        offering = "batch".equals(impl) ? queue : new OneByOne(queue);
    }

    @TearDown(Level.Trial)
    public void stopBroker() throws Exception {
        if (queue != null) {
            queue.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (dir != null && Files.exists(dir)) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path f : paths.sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException e) {
                        // best effort
                    }
                }
            }
        }
    }

    /** A fresh ticker (fresh series names: distinct tasks) whose first tick offers one window per series. */
    @Setup(Level.Iteration)
    public void ticker() {
        iteration++;
        series = new ArrayList<>(SERIES);
        for (int i = 0; i < SERIES; i++) {
            series.add(SeriesKey.of("vds30sec", "district", "i" + iteration + "s" + i));
        }
        Clock at = Clock.fixed(START.plusMinutes(10).plusMinutes(5).atZone(LA).toInstant(), LA);
        ticker = RealtimeTicker.builder().series(series).windowSize(Duration.ofMinutes(10)).zone(LA).seriesStart(START)
                .lateness(Duration.ofMinutes(5)).queue(offering).ledger(new InMemoryCompletionLedger()).clock(at).build();
    }

    /** @return the tasks the tick offered, which must be {@value #SERIES} */
    @Benchmark
    public long tick() {
        long n = ticker.tick().total();
        if (n != SERIES) {
            throw new IllegalStateException("the tick offered " + n + " tasks, not " + SERIES);
        }
        return n;
    }

    /** The queue with only {@code offer}: {@code offerAll} falls back to the interface's one-by-one default. */
    static final class OneByOne implements TaskQueue {
        private final TaskQueue q;

        OneByOne(TaskQueue q) {
            this.q = q;
        }

        @Override
        public void offer(Task task) {
            q.offer(task);
        }

        @Override
        public void subscribe(Set<String> lanes) {
            q.subscribe(lanes);
        }

        @Override
        public List<Lease> poll(String lane, int max) {
            return q.poll(lane, max);
        }

        @Override
        public long backlog(String lane) {
            return q.backlog(lane);
        }

        @Override
        public void setAvailabilityListener(Runnable listener) {
            q.setAvailabilityListener(listener);
        }

        @Override
        public void close() {
            q.close();
        }
    }
}
