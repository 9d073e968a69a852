package dev.relay.benchmarks;

import dev.relay.api.Column;
import dev.relay.api.Lease;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.handoff.HandoffSink;
import dev.relay.handoff.HandoffSource;
import dev.relay.handoff.HandoffTopics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
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
 * Rows per second through the two-host hand-off, against a raw producer → consumer moving the same bytes, through a
 * real broker ({@link KafkaClusterTestKit}, single node, in this JVM).
 *
 * <p>The rows are PeMS {@code VDS30SEC} rows (two timestamps without zone, the station id, 14 loops of volume,
 * occupancy and speed: 45 values), {@value #TASKS} tasks of {@value #ROWS_PER_TASK} rows. One operation
 * ({@link Mode#SingleShotTime}) moves all {@value #ROWS} rows; the score is the time per row, rows/s its inverse:
 * <ul>
 *   <li>{@code handoff}: the benchmark thread hands the tasks off through a {@link HandoffSink} (one transactional
 *       session per task: Avro chunks of 1 MB, manifest, commit) while a second thread, the uploader, leases them
 *       from a {@link HandoffSource}, streams each task's rows through its puller's cursor into a counting sink and
 *       completes the lease; the operation ends when the uploader has every row. No engine on either side (its cost
 *       is {@code EngineThroughputBenchmark}'s): this is the hand-off's own cost, encoding and decoding included;
 *   <li>{@code raw} (the baseline): the same chunk records' bytes (taken from a hand-off in the trial setup), sent by
 *       a plain {@link KafkaProducer} (acks=all, idempotent, the same linger and batch size) and received by a plain
 *       {@link KafkaConsumer} on a second thread; the operation ends when the consumer has every byte.
 * </ul>
 * Fresh topics per iteration; the uploader's group join and readers' connections are made in the iteration setup.
 *
 * <pre>
 *   java -jar relay-benchmarks/target/benchmarks.jar HandoffThroughputBenchmark
 * </pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 8)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@State(Scope.Benchmark)
public class HandoffThroughputBenchmark {

    /** Tasks per operation. */
    public static final int TASKS = 5;
    /** Rows per task: a 10-minute window of 1,000 stations of one district (20 samples each), in PeMS terms. */
    public static final int ROWS_PER_TASK = 20_000;
    /** Rows per operation. */
    public static final int ROWS = TASKS * ROWS_PER_TASK;
    static final String LANE = "backfill";
    /** The message of the exception thrown when the broker cannot start. */
    public static final String BROKER_FAILED = "could not start the in-process Kafka broker";

    static final RowSchema VDS = vdsSchema();

    @Param({"handoff", "raw"})
    public String impl;

    Path dir;
    KafkaClusterTestKit cluster;
    String servers;
    List<List<Row>> tasksRows;
    List<byte[]> chunkBytes;
    int iteration;

    // per iteration
    HandoffTopics topics;
    HandoffSink sink;
    HandoffSource source;
    KafkaProducer<byte[], byte[]> producer;
    KafkaConsumer<byte[], byte[]> consumer;
    String rawTopic;

    static RowSchema vdsSchema() {
        List<Column> cols = new ArrayList<>(List.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP), new Column("RECV_TIME", JDBCType.TIMESTAMP),
                new Column("VDS_ID", JDBCType.INTEGER)));
        for (int i = 1; i <= 14; i++) {
            cols.add(new Column("LOOP" + i + "_VOL", JDBCType.INTEGER));
            cols.add(new Column("LOOP" + i + "_OCC", JDBCType.DOUBLE));
            cols.add(new Column("LOOP" + i + "_SPD", JDBCType.DOUBLE));
        }
        return RowSchema.of(cols);
    }

    static List<Row> rows(int task) {
        SplittableRandom r = new SplittableRandom(task);
        List<Row> rows = new ArrayList<>(ROWS_PER_TASK);
        LocalDateTime t0 = LocalDateTime.of(2024, 3, 14, 10, 0).plusMinutes(10L * task);
        for (int i = 0; i < ROWS_PER_TASK; i++) {
            Object[] v = new Object[45];
            v[0] = t0.plusSeconds(30L * (i / 1_000));
            v[1] = t0.plusSeconds(30L * (i / 1_000) + 7);
            v[2] = 400_000 + i % 1_000;
            for (int k = 0; k < 14; k++) {
                boolean missing = r.nextInt(13) == 0;
                v[3 + 3 * k] = missing ? null : r.nextInt(23);
                v[4 + 3 * k] = missing ? null : r.nextInt(1000) / 10000.0;
                v[5 + 3 * k] = missing ? null : 40.0 + r.nextInt(35);
            }
            rows.add(Row.wrap(VDS, v));
        }
        return rows;
    }

    static Task task(int i) {
        return Task.builder(LANE, "vds30sec").scope(Window.starting(LocalDateTime.of(2024, 3, 14, 10, 0).plusMinutes(10L * i),
                Duration.ofMinutes(10))).parameter("district", "D4").build();
    }

    @Setup(Level.Trial)
    public void startBroker() throws Exception {
        dir = Files.createTempDirectory("relay-bench-handoff");
        try {
            cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setBaseDirectory(dir)
                    .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "2")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("transaction.state.log.num.partitions", "2")
                    .setConfigProp("auto.create.topics.enable", "false")
                    .build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (Exception | LinkageError e) {
            throw new IllegalStateException(BROKER_FAILED, e);
        }
        servers = cluster.bootstrapServers();
        tasksRows = new ArrayList<>();
        for (int i = 0; i < TASKS; i++) {
            tasksRows.add(rows(i));
        }
        // the baseline's bytes: the chunk records of one hand-off of the same tasks
        HandoffTopics scratch = topics("scratch");
        try (HandoffSink s = sink(scratch)) {
            handOffAll(s);
        }
        chunkBytes = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(scratch.dataTopic(LANE))) {
            if (fingerprint(r.value()) == dev.relay.handoff.HandoffFormat.chunkFingerprint()) {
                chunkBytes.add(r.value());
            }
        }
    }

    /** @return the schema fingerprint in a single-object record's header */
    private static long fingerprint(byte[] value) {
        long fp = 0;
        for (int i = 0; i < 8; i++) {
            fp |= (value[2 + i] & 0xffL) << (8 * i);
        }
        return fp;
    }

    HandoffTopics topics(String name) {
        HandoffTopics t = HandoffTopics.builder().prefix("bench-" + name + ".").partitions(1).build();
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers))) {
            t.create(admin, List.of(LANE), Duration.ofSeconds(60));
        }
        return t;
    }

    HandoffSink sink(HandoffTopics t) {
        return HandoffSink.builder().bootstrapServers(servers).transactionalIdPrefix("bench-" + iteration + "-" + t.prefix())
                .topics(t).producers(1).build().start();
    }

    void handOffAll(HandoffSink s) {
        for (int i = 0; i < TASKS; i++) {
            List<Row> rows = tasksRows.get(i);
            try (SinkSession session = s.open(task(i), VDS)) {
                for (int k = 0; k < rows.size(); k += 1_000) {
                    session.write(rows.subList(k, Math.min(rows.size(), k + 1_000)));
                }
                session.commit();
            }
        }
    }

    List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps(null))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            while (c.position(tp) < end) {
                c.poll(Duration.ofMillis(100)).forEach(out::add);
            }
        }
        return out;
    }

    Properties consumerProps(String group) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers);
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        }
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    @TearDown(Level.Trial)
    public void stopBroker() throws Exception {
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
    public void prepare() throws Exception {
        iteration++;
        if ("handoff".equals(impl)) {
            topics = topics("h" + iteration);
            sink = sink(topics);
            source = HandoffSource.builder().bootstrapServers(servers).groupId("bench-up-" + iteration).topics(topics)
                    .prefetchPerLane(TASKS).pollInterval(Duration.ofMillis(5)).build();
            source.queue().subscribe(Set.of(LANE));
            // warm the path: one small task through, so the group join and the reader's connection are not measured
            Task warm = Task.builder(LANE, "warmup").scope(Window.starting(LocalDateTime.of(2000, 1, 1, 0, 0), Duration.ofMinutes(1))).build();
            try (SinkSession s = sink.open(warm, VDS)) {
                s.write(tasksRows.get(0).subList(0, 10));
                s.commit();
            }
            if (upload(10, Duration.ofSeconds(60)) != 10) {
                throw new IllegalStateException("the warm-up task did not come through");
            }
        } else {
            rawTopic = "bench-raw-" + iteration;
            try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers))) {
                admin.createTopics(List.of(new NewTopic(rawTopic, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            }
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(1 << 20));
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            producer = new KafkaProducer<>(p);
            consumer = new KafkaConsumer<>(consumerProps("bench-raw-" + iteration));
            consumer.subscribe(List.of(rawTopic));
            producer.send(new ProducerRecord<>(rawTopic, new byte[] {1})).get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (consumer.poll(Duration.ofMillis(50)).isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the raw consumer received nothing in 60 s");
                }
            }
        }
    }

    @TearDown(Level.Iteration)
    public void close() {
        if (sink != null) {
            sink.close();
            sink = null;
        }
        if (source != null) {
            source.close();
            source = null;
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
        if (consumer != null) {
            consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
            consumer = null;
        }
    }

    /** @return rows moved, which must be {@value #ROWS} */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public long rows() throws Exception {
        long n = "handoff".equals(impl) ? viaHandoff() : raw();
        if (n != ROWS) {
            throw new IllegalStateException(impl + " moved " + n + " rows, not " + ROWS);
        }
        return n;
    }

    long viaHandoff() throws Exception {
        CompletableFuture<Long> uploaded = CompletableFuture.supplyAsync(() -> upload(ROWS, Duration.ofSeconds(120)));
        handOffAll(sink);
        return uploaded.get(150, TimeUnit.SECONDS);
    }

    /** The uploader: leases, streams and completes until {@code rows} rows came through. */
    long upload(long rows, Duration timeout) {
        long n = 0;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (n < rows) {
            List<Lease> leases = source.queue().poll(LANE, 4);
            if (leases.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("stalled after " + n + " rows");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(200_000); // not a spin: two cores are few
                continue;
            }
            for (Lease lease : leases) {
                try (RowCursor c = source.puller().open(lease.task())) {
                    for (List<Row> chunk = c.next(); !chunk.isEmpty(); chunk = c.next()) {
                        n += chunk.size();
                    }
                }
                lease.complete();
            }
        }
        return n;
    }

    long raw() throws Exception {
        long bytes = 0;
        for (byte[] b : chunkBytes) {
            bytes += b.length;
        }
        long expected = bytes;
        CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
            long got = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (got < expected) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the raw consumer stalled after " + got + " bytes");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(5))) {
                    got += r.value().length;
                }
            }
            consumer.commitSync();
            return got;
        });
        for (byte[] b : chunkBytes) {
            producer.send(new ProducerRecord<>(rawTopic, b));
        }
        producer.flush();
        return received.get(150, TimeUnit.SECONDS) == expected ? ROWS : -1;
    }
}
