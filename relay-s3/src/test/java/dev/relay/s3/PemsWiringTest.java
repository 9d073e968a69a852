package dev.relay.s3;

import dev.relay.api.LaneSpec;
import dev.relay.api.Puller;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.api.Window;
import dev.relay.core.Relay;
import dev.relay.handoff.HandoffSink;
import dev.relay.handoff.HandoffSource;
import dev.relay.handoff.HandoffTopics;
import dev.relay.inmemory.InMemoryTaskQueue;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.JdbcPuller;
import dev.relay.jdbc.SourceQuery;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;

import javax.sql.DataSource;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's PeMS wiring, compiled and run: puller host (PostgreSQL standing in for Oracle) → relay →
 * {@link HandoffSink} → Kafka (an in-process broker) → {@link HandoffSource} → the uploader host's relay →
 * {@link S3ParquetSink} → the bucket the pipe loads (S3Mock). Windows of two districts and a config snapshot arrive
 * once each, under the old uploader's layout; and the README shows exactly this code.
 */
class PemsWiringTest {

    static final String SCHEMA = "relay_s3_wiring";
    static final List<String> LANES = List.of("realtime", "config", "backfill");

    static KafkaClusterTestKit cluster;
    static DataSource pg;

    @BeforeAll
    static void start() throws Exception {
        pg = Pg.freshSchema(SCHEMA);
        try (Connection c = pg.getConnection(); Statement s = c.createStatement()) {
            for (String d : List.of("D4", "D7")) {
                s.execute("CREATE TABLE vds30sec_" + d + " (\"SAMPLE_TIME\" TIMESTAMP NOT NULL, \"RECV_TIME\" TIMESTAMP NOT NULL,"
                        + " \"VDS_ID\" INTEGER NOT NULL, \"LOOP1_VOL\" INTEGER, \"LOOP1_OCC\" NUMERIC(6,4), \"LOOP1_SPD\" DOUBLE PRECISION)");
                s.execute("INSERT INTO vds30sec_" + d + " SELECT t, t + interval '7 seconds', v, (v + s) % 23, ((v + s) % 1000) / 10000.0,"
                        + " 40.0 + v % 35 FROM generate_series(0, 59) s, generate_series(716000, 716029) v,"
                        + " LATERAL (SELECT TIMESTAMP '2024-03-14 10:00:00' + s * interval '30 seconds' AS t) x");
            }
            s.execute("CREATE TABLE detector_config (\"DETECTOR_ID\" BIGINT, \"STATION_ID\" INTEGER, \"LANE\" SMALLINT, \"NAME\" VARCHAR(40))");
            s.execute("INSERT INTO detector_config SELECT i, 716000 + i / 4, i % 4, 'detector ' || i FROM generate_series(1, 250) i");
        }
        Path base = Path.of("target", "kafka-" + ProcessHandle.current().pid()).toAbsolutePath();
        Files.createDirectories(base);
        cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setBaseDirectory(base)
                .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "2")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.state.log.num.partitions", "2")
                .setConfigProp("auto.create.topics.enable", "false")
                .build();
        PrintStream out = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream())); // the formatter prints its metadata to stdout
        try {
            cluster.format();
        } finally {
            System.setOut(out);
        }
        cluster.startup();
        cluster.waitForReadyBrokers();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
            Path base = Path.of("target", "kafka-" + ProcessHandle.current().pid());
            if (Files.exists(base)) {
                try (Stream<Path> files = Files.walk(base)) {
                    files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
        Pg.dropSchema(SCHEMA);
    }

    @Test
    void pemsWiring_windowsAndASnapshotCrossKafka_landOnceUnderThePipesLayout() throws Exception {
        String kafka = cluster.bootstrapServers();
        // the operator's once-off setup: the hand-off topics of each lane, and the bucket
        HandoffTopics handoffTopics = HandoffTopics.builder().prefix("pems.handoff.").partitions(3).replicationFactor(1).build();
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka))) {
            handoffTopics.create(admin, LANES, Duration.ofSeconds(60));
        }
        S3Client s3 = S3Mock.shared().client();
        s3.createBucket(CreateBucketRequest.builder().bucket("caltrans-pems-prd-us-west-2-raw").build());
        // the puller host's task queue (KafkaTaskQueue in production) and its JdbcPuller (Oracle; here PostgreSQL)
        TaskQueue taskQueue = InMemoryTaskQueue.create();
        Puller oracle = JdbcPuller.builder(pg, Dialect.POSTGRESQL)
                .query(SourceQuery.window("vds30sec",
                                "SELECT * FROM vds30sec_${district} WHERE \"SAMPLE_TIME\" >= :start AND \"SAMPLE_TIME\" < :end")
                        .identifier("district", "D(3|4|5|6|7|8|10|11|12)").build())
                .query(SourceQuery.snapshot("detector_config", "SELECT * FROM detector_config ORDER BY \"DETECTOR_ID\"").build())
                .build();

        // pems-wiring:begin
        // puller host: the only one that reaches Oracle; hands each task's rows to Kafka in one transaction
        HandoffSink handoff = HandoffSink.builder().bootstrapServers(kafka).transactionalIdPrefix("pems-puller-1")
                .topics(handoffTopics).producers(2).build().start();
        Relay pullerHost = Relay.builder().queue(taskQueue).puller(oracle).sink(handoff)
                .sourcePermits(1)                                    // one Oracle query at a time
                .lane(LaneSpec.builder("realtime").weight(4).build())
                .lane(LaneSpec.builder("config").weight(8).build())
                .lane(LaneSpec.builder("backfill").weight(1).build())
                .build().start();

        // uploader host: reaches Kafka and S3, never Oracle; Snowpipe loads RAW.DB96.VDS30SEC from the bucket
        HandoffSource intake = HandoffSource.builder().bootstrapServers(kafka).groupId("pems-uploader")
                .topics(handoffTopics).build();
        S3ParquetSink bucket = S3ParquetSink.builder("caltrans-pems-prd-us-west-2-raw")
                .client(s3)                                          // or none: the SDK's default provider chain
                .layout("db96_export_staging_area/tables/VDS30SEC/district={param:district}/year={year}/month={month}/day={day}/{id}.parquet")
                .snapshotLayout("db96_export_staging_area/tables/{SOURCE}/date={date}/{id}-{file}.parquet")
                .maxRowsPerObject(1_000_000)                         // config snapshots: numbered files, one set per day
                .metaColumn("meta")                                  // the pipe's $1:"meta"
                .build();
        Relay uploaderHost = Relay.builder().queue(intake.queue()).puller(intake.puller()).sink(bucket)
                .sourcePermits(4)                                    // uploads at once
                .lane(LaneSpec.builder("realtime").weight(4).build())
                .lane(LaneSpec.builder("config").weight(8).build())
                .lane(LaneSpec.builder("backfill").weight(1).build())
                .build().start();
        // pems-wiring:end

        List<Task> tasks = new ArrayList<>();
        for (String d : List.of("D4", "D7")) {
            for (int w = 0; w < 3; w++) {
                tasks.add(Task.builder(w == 0 ? "backfill" : "realtime", "vds30sec")
                        .scope(Window.starting(LocalDateTime.of(2024, 3, 14, 10, 0).plusMinutes(10L * w), Duration.ofMinutes(10)))
                        .parameter("district", d).build());
            }
        }
        tasks.add(Task.snapshot("config", "detector_config", Snapshot.of(LocalDate.of(2024, 3, 14))));
        try {
            tasks.forEach(taskQueue::offer);
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (uploaderHost.snapshot().completed() < tasks.size() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(tasks.size(), pullerHost.snapshot().completed(), () -> "puller host: " + pullerHost.snapshot());
            assertEquals(tasks.size(), uploaderHost.snapshot().completed(), () -> "uploader host: " + uploaderHost.snapshot());
        } finally {
            pullerHost.shutdown(Duration.ofSeconds(30));
            uploaderHost.shutdown(Duration.ofSeconds(30));
            handoff.close();
            intake.close();
        }

        String b = "caltrans-pems-prd-us-west-2-raw";
        Set<String> expected = new TreeSet<>();
        for (Task t : tasks) {
            expected.add(bucket.objectKey(t, 0));
        }
        assertEquals(expected, new TreeSet<>(S3Mock.keys(s3, b, "")));
        assertTrue(expected.contains("db96_export_staging_area/tables/VDS30SEC/district=D7/year=2024/month=3/day=14/"
                + tasks.get(4).id() + ".parquet"), expected.toString());
        for (Task t : tasks.subList(0, 6)) {
            ParquetRead.File f = ParquetRead.read(S3Mock.get(s3, b, bucket.objectKey(t, 0)), false);
            assertEquals(20 * 30, f.rows().size(), "rows of " + t);
            String logical = f.info("SAMPLE_TIME").logical();
            assertTrue(logical.startsWith("TimestampType") && !ParquetRead.utc(logical), logical);
        }
        ParquetRead.File config = ParquetRead.read(S3Mock.get(s3, b, bucket.objectKey(tasks.get(6), 0)), false);
        assertEquals(250, config.rows().size());
        assertEquals(1L, config.rows().get(0)[0]);
        assertEquals("detector 250", config.rows().get(249)[config.column("NAME")]);
        s3.close();
    }

    @Test
    void readme_showsThePemsWiringAsCompiled() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/relay/s3/PemsWiringTest.java"));
        int from = source.indexOf("// pems-wiring:begin\n") + "// pems-wiring:begin\n".length();
        String code = source.substring(from, source.indexOf("        // pems-wiring:end", from)).stripIndent().strip();
        String readme = Files.readString(Path.of("../README.md"));
        assertTrue(normalize(readme).contains(normalize(code)),
                "README.md must contain the PeMS wiring exactly as compiled in PemsWiringTest:\n" + code);
    }

    private static String normalize(String s) {
        return s.lines().map(String::strip).filter(l -> !l.isEmpty()).reduce("", (x, y) -> x + "\n" + y);
    }
}
