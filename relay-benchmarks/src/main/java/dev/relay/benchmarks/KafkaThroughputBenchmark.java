package dev.relay.benchmarks;

import dev.relay.api.Lease;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.kafka.KafkaTaskQueue;
import dev.relay.kafka.KafkaTopics;
import dev.relay.kafka.TaskRecordCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tasks per second taken from Kafka and acknowledged, through a real broker: a single-node KRaft cluster
 * ({@link KafkaClusterTestKit}, combined broker + controller, in this JVM, log directories under a temporary
 * directory) started by the trial setup.
 *
 * <p>Each iteration gets a fresh lane (topic {@code bench.p<partitions>.<lane>}, 1 or 6 partitions: the
 * {@code partitions} parameter) and a fresh consumer group. The iteration's setup produces {@value #TASKS} task records into it (encoded by
 * {@link TaskRecordCodec}, as {@link KafkaTaskQueue#offer} writes them, but sent asynchronously), then
 * creates the consumer, lets it join the group and waits until the first records have reached it, so the
 * group join is not measured. The one operation of the iteration ({@link Mode#SingleShotTime}) then takes
 * all {@value #TASKS} tasks and acknowledges them; the score is the time per task, tasks/s being its
 * inverse:
 * <ul>
 *   <li>{@code queue}: {@link KafkaTaskQueue} (prefetch {@value #MAX_POLL} per lane, commit interval 1 s, its
 *       own consumer thread) polled by the benchmark thread with {@code poll(lane, }{@value #MAX_POLL}{@code )},
 *       each lease {@linkplain Lease#complete() completed}; when a poll finds nothing, the benchmark thread parks
 *       until the queue's availability listener calls (as the engine waits for it), at most 1 ms; when all are
 *       completed,
 *       {@link KafkaTaskQueue#flush} commits the offsets synchronously. No engine: the relay's scheduler and
 *       workers are measured in {@code EngineThroughputBenchmark}; this is the backend's own cost;</li>
 *   <li>{@code raw} (the baseline): a plain {@link KafkaConsumer} (same group protocol, isolation
 *       {@code read_committed}, auto-commit off, {@code max.poll.records} {@value #MAX_POLL}) in a
 *       {@code poll} loop, decoding every record with {@link TaskRecordCodec} and calling
 *       {@code commitAsync()} after each poll, then {@code commitSync()} at the end.</li>
 * </ul>
 * The queue, unlike the raw loop, tracks each record's offset, hands out leases and commits only the
 * contiguous completed prefix; that is the work it is charged for.
 *
 * <pre>
 *   java -jar relay-benchmarks/target/benchmarks.jar KafkaThroughputBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4)
@Measurement(iterations = 10)
@Fork(1)
@State(Scope.Benchmark)
public class KafkaThroughputBenchmark {

    /** Tasks produced per iteration and consumed by its one operation. */
    public static final int TASKS = 20_000;
    static final int MAX_POLL = 500;
    static final String PREFIX = "bench.";
    /** The message of the exception thrown when the broker cannot start (the smoke test then skips). */
    public static final String BROKER_FAILED = "could not start the in-process Kafka broker";

    @Param({"queue", "raw"})
    public String impl;

    /** Partitions of the lane topic: the throughput goal holds at 1 and at 6 per lane. */
    @Param({"1", "6"})
    public int partitions;

    /**
     * The queue's {@code pollInterval} (its default, 50 ms, is what the reported run used): a diagnostic, run
     * with {@code -p impl=queue -p pollIntervalMs=5}. Unused by {@code raw}.
     */
    @Param({"50"})
    public int pollIntervalMs;

    Path dir;
    KafkaClusterTestKit cluster;
    String servers;
    KafkaProducer<byte[], byte[]> producer;
    KafkaTopics topics;
    int iteration;

    String lane;
    KafkaTaskQueue queue;
    KafkaConsumer<byte[], byte[]> consumer;
    ConsumerRecords<byte[], byte[]> first;

    @Setup(Level.Trial)
    public void startBroker() throws Exception {
        dir = Files.createTempDirectory("relay-bench-kafka");
        try {
            cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    .setBaseDirectory(dir)
                    .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .setConfigProp("group.min.session.timeout.ms", "1000")
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "4")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("transaction.state.log.num.partitions", "4")
                    .setConfigProp("auto.create.topics.enable", "false")
                    .build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (Exception | LinkageError e) {
            throw new IllegalStateException(BROKER_FAILED, e);
        }
        KafkaClusterTestKit c = cluster;
        servers = c.bootstrapServers();
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        // a fresh topic's partitions may not have their leader yet: plain retries, one request in flight
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        producer = new KafkaProducer<>(p);
    }

    @TearDown(Level.Trial)
    public void stopBroker() throws Exception {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
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

    @Setup(Level.Iteration)
    public void produce() throws Exception {
        iteration++;
        lane = "lane" + iteration;
        topics = KafkaTopics.builder().prefix(PREFIX + "p" + partitions + ".").partitions(partitions).replicationFactor(1).build();
        String group = "group-" + impl + "-" + iteration;
        // the queue creates the lane's topics (lane, retry, dead letter) on subscribe; the raw consumer reads
        // the same kind of topic, created the same way
        queue = KafkaTaskQueue.builder().bootstrapServers(servers)
                .groupId("raw".equals(impl) ? group + "-topics" : group).topics(topics).createTopics(true)
                .prefetchPerLane(MAX_POLL).commitInterval(Duration.ofSeconds(1))
                .pollInterval(Duration.ofMillis(pollIntervalMs)).build();
        queue.subscribe(Set.of(lane));
        if ("raw".equals(impl)) {
            queue.close();
            queue = null;
        }
        String topic = topics.laneTopic(lane);
        long leaders = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (producer.partitionsFor(topic).stream().anyMatch(pi -> pi.leader() == null || pi.leader().isEmpty())) {
            if (System.nanoTime() > leaders) {
                throw new IllegalStateException("no leaders for " + topic + " in 30 s");
            }
            Thread.sleep(10);
        }
        Thread.sleep(200); // the metadata the producer sees can lead the broker's own state by a little
        LocalDateTime start = LocalDateTime.of(2024, 1, 1, 0, 0);
        List<Future<RecordMetadata>> sent = new ArrayList<>(TASKS);
        for (int i = 0; i < TASKS; i++) {
            LocalDateTime s = start.plusSeconds(30L * i);
            Task task = Task.window(lane, "vds30sec", Window.of(s, s.plusSeconds(30)));
            sent.add(producer.send(new ProducerRecord<>(topic, task.id().getBytes(StandardCharsets.UTF_8),
                    TaskRecordCodec.encode(task))));
        }
        producer.flush();
        for (Future<RecordMetadata> f : sent) {
            f.get();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        if (queue != null) {
            while (queue.buffered(lane) == 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the queue received nothing in 60 s");
                }
                Thread.sleep(1);
            }
        } else {
            Properties p = new Properties();
            p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_POLL);
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
            consumer = new KafkaConsumer<>(p);
            consumer.subscribe(List.of(topic));
            do {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the consumer received nothing in 60 s");
                }
                first = consumer.poll(Duration.ofMillis(100));
            } while (first.isEmpty());
        }
    }

    @TearDown(Level.Iteration)
    public void close() {
        if (queue != null) {
            queue.close();
            queue = null;
        }
        if (consumer != null) {
            consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
            consumer = null;
        }
        first = null;
    }

    /** @return tasks taken and acknowledged, which must be {@value #TASKS} */
    @Benchmark
    @OperationsPerInvocation(TASKS)
    public long tasks() {
        long n = "queue".equals(impl) ? viaQueue() : raw();
        if (n != TASKS) {
            throw new IllegalStateException(impl + " took " + n + " tasks, not " + TASKS);
        }
        return n;
    }

    long viaQueue() {
        long done = 0;
        long stall = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Thread me = Thread.currentThread();
        queue.setAvailabilityListener(() -> LockSupport.unpark(me));
        while (done < TASKS) {
            List<Lease> leases = queue.poll(lane, MAX_POLL);
            if (leases.isEmpty()) {
                if (System.nanoTime() > stall) {
                    throw new IllegalStateException("stalled after " + done + " tasks");
                }
                // as the engine does: wait for the availability listener (bounded, in case a signal raced)
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                continue;
            }
            for (Lease lease : leases) {
                if (lease.task() == null) {
                    throw new IllegalStateException("no task");
                }
                lease.complete();
            }
            done += leases.size();
            stall = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        }
        if (!queue.flush(Duration.ofSeconds(30))) {
            throw new IllegalStateException("the queue did not commit");
        }
        return done;
    }

    long raw() {
        long done = 0;
        ConsumerRecords<byte[], byte[]> records = first;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            for (var record : records) {
                if (TaskRecordCodec.decode(record.value()) == null) {
                    throw new IllegalStateException("no task");
                }
                done++;
            }
            if (!records.isEmpty()) {
                consumer.commitAsync();
            }
            if (done >= TASKS || System.nanoTime() > deadline) {
                break;
            }
            records = consumer.poll(Duration.ofMillis(100));
        }
        consumer.commitSync();
        return done;
    }
}
