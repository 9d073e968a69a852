package dev.relay.handoff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Column;
import dev.relay.api.Lease;
import dev.relay.api.PullException;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkSession;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.CRC32C;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The hand-off through a real (in-process) broker, with the test playing the engine: the puller host's sink writes
 * tasks, the uploader host's queue leases them and its puller streams their rows.
 */
class HandoffTest {

    static final RowSchema VDS = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP), new Column("VDS_ID", JDBCType.INTEGER),
            new Column("SPEED", JDBCType.NUMERIC), new Column("NOTE", JDBCType.VARCHAR));

    static HandoffTopics topics(String prefix) {
        return HandoffTopics.builder().prefix(prefix).partitions(2).build();
    }

    static HandoffSink sink(HandoffTopics topics, int chunkBytes, SimpleMeterRegistry registry) {
        return HandoffSink.builder().bootstrapServers(TestKafka.bootstrapServers()).transactionalIdPrefix(TestKafka.unique("tx"))
                .topics(topics).producers(2).chunkBytes(chunkBytes).transactionTimeout(Duration.ofSeconds(20))
                .meterRegistry(registry).build();
    }

    static HandoffSource.Builder source(HandoffTopics topics, String group) {
        return HandoffSource.builder().bootstrapServers(TestKafka.bootstrapServers()).groupId(group).topics(topics)
                .commitInterval(Duration.ofMillis(50)).readTimeout(Duration.ofSeconds(20)).lagRefreshInterval(Duration.ofMillis(200))
                .clientProperty("session.timeout.ms", 6000).clientProperty("heartbeat.interval.ms", 500);
    }

    static List<Row> rows(int n, int seed) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(Row.of(VDS, LocalDateTime.of(2024, 11, 3, 1, 0).plusSeconds(30L * i), 700_000 + seed, BigDecimal.valueOf(i * 7 + seed, 2),
                    i % 5 == 0 ? null : "row " + i + " of " + seed));
        }
        return rows;
    }

    static void handOff(HandoffSink sink, Task task, List<Row> rows) {
        try (SinkSession s = sink.open(task, VDS)) {
            for (int i = 0; i < rows.size(); i += 100) {
                s.write(rows.subList(i, Math.min(rows.size(), i + 100)));
            }
            s.commit();
        }
    }

    static Task window(String lane, int district, int minute) {
        return Task.builder(lane, "vds30sec").scope(Window.starting(LocalDateTime.of(2024, 11, 3, 0, 0).plusMinutes(minute),
                Duration.ofMinutes(10))).parameter("district", "D" + district).build();
    }

    /** Plays the engine: leases, reads and completes (or dead-letters) until {@code n} leases ended. */
    static Map<String, List<Row>> load(HandoffSource source, Set<String> lanes, int n, List<String> failures) {
        Map<String, List<Row>> loaded = new HashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int ended = 0;
        while (ended < n) {
            assertTrue(System.nanoTime() < deadline, "only " + ended + " of " + n + " leases in 60 s");
            boolean any = false;
            for (String lane : lanes) {
                for (Lease lease : source.queue().poll(lane, 10)) {
                    any = true;
                    List<Row> rows = new ArrayList<>();
                    try (RowCursor c = source.puller().open(lease.task())) {
                        assertEquals(VDS, c.schema());
                        for (List<Row> chunk = c.next(); !chunk.isEmpty(); chunk = c.next()) {
                            rows.addAll(chunk);
                        }
                        loaded.put(lease.task().id(), rows);
                        lease.complete();
                    } catch (PullException e) {
                        assertFalse(e.retryable(), e.getMessage());
                        failures.add(e.getMessage());
                        lease.deadLetter(e.getMessage());
                    }
                    ended++;
                }
            }
            if (!any) {
                sleep(20);
            }
        }
        return loaded;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void handOff_tasksOfTwoLanes_loadedOnceWithEqualRowsAndLagFallsToZero() throws Exception {
        HandoffTopics topics = topics(TestKafka.unique("a") + ".");
        try (var admin = TestKafka.admin()) {
            topics.create(admin, List.of("realtime", "config"), Duration.ofSeconds(30));
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Map<String, List<Row>> expected = new HashMap<>();
        List<Manifest> loadedManifests = new CopyOnWriteArrayList<>();
        try (HandoffSink sink = sink(topics, 16 * 1024, registry).start()) {
            for (int i = 0; i < 6; i++) {
                Task t = window("realtime", 4, 10 * i);
                List<Row> rows = rows(i == 3 ? 3_000 : i * 40, i); // one multi-chunk task, one empty window
                handOff(sink, t, rows);
                expected.put(t.id(), rows);
            }
            Task config = Task.builder("config", "config").scope(Snapshot.of(LocalDate.of(2024, 11, 3)))
                    .parameter("table", "DETECTOR_CONFIG").build();
            handOff(sink, config, rows(250, 99));
            expected.put(config.id(), rows(250, 99));
            assertEquals(6.0, registry.get("relay.handoff.tasks").tag("lane", "realtime").functionCounter().count());
            assertEquals(250.0, registry.get("relay.handoff.rows").tag("lane", "config").functionCounter().count());
        }
        SimpleMeterRegistry up = new SimpleMeterRegistry();
        try (HandoffSource source = source(topics, TestKafka.unique("g")).meterRegistry(up)
                .listener(new UploadListener() {
                    @Override
                    public void loaded(Manifest manifest) {
                        loadedManifests.add(manifest);
                    }
                }).build()) {
            source.queue().subscribe(Set.of("realtime", "config"));
            List<String> failures = new ArrayList<>();
            Map<String, List<Row>> loaded = load(source, Set.of("realtime", "config"), 7, failures);
            assertEquals(List.of(), failures);
            assertEquals(expected.keySet(), loaded.keySet());
            expected.forEach((id, rows) -> RowCodecPropertyTest.assertSameRows(rows, loaded.get(id)));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (source.lag("realtime").tasks() + source.lag("config").tasks() > 0 || loadedManifests.size() < 7) {
                assertTrue(System.nanoTime() < deadline, "lag " + source.lag("realtime") + ", loaded " + loadedManifests.size());
                sleep(50);
            }
            assertEquals(Duration.ZERO, source.lag("realtime").dataAge());
            assertEquals(6.0, up.get("relay.upload.tasks").tag("lane", "realtime").functionCounter().count());
            assertEquals(0.0, up.get("relay.upload.lag.tasks").tag("lane", "config").gauge().value());
        }
    }

    @Test
    void abort_handOffRolledBack_neverLeasedWhileLaterTasksAre() throws Exception {
        HandoffTopics topics = topics(TestKafka.unique("b") + ".");
        try (var admin = TestKafka.admin()) {
            topics.create(admin, List.of("backfill"), Duration.ofSeconds(30));
        }
        Task aborted = window("backfill", 7, 0);
        Task kept = window("backfill", 7, 10);
        try (HandoffSink sink = sink(topics, 16 * 1024, new SimpleMeterRegistry())) {
            SinkSession s = sink.open(aborted, VDS);
            s.write(rows(2_000, 1)); // several chunks sent, then rolled back
            s.abort();
            s.close();
            handOff(sink, kept, rows(10, 2));
            assertEquals(1, sink.handedOff("backfill")[3], "aborted transactions");
        }
        // no manifest of the aborted hand-off is ever visible
        for (ConsumerRecord<byte[], byte[]> r : TestKafka.readAll(topics.tasksTopic("backfill"), "read_committed")) {
            assertEquals(kept.id(), HandoffFormat.decodeManifest(r.value()).task().id());
        }
        try (HandoffSource source = source(topics, TestKafka.unique("g")).build()) {
            source.queue().subscribe(Set.of("backfill"));
            Map<String, List<Row>> loaded = load(source, Set.of("backfill"), 1, new ArrayList<>());
            assertEquals(Set.of(kept.id()), loaded.keySet());
            sleep(300);
            assertEquals(List.of(), source.queue().poll("backfill", 10));
        }
    }

    @Test
    void malformedRecords_deadLetteredWithTheReason_andTheUploaderCarriesOn() throws Exception {
        String lane = "realtime";
        HandoffTopics topics = topics(TestKafka.unique("c") + ".");
        try (var admin = TestKafka.admin()) {
            topics.create(admin, List.of(lane), Duration.ofSeconds(30));
        }
        Task good = window(lane, 3, 0);
        Task badCount = window(lane, 3, 10);
        Task badBytes = window(lane, 3, 20);
        Task badVersion = window(lane, 3, 30);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TestKafka.unique("raw"));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(p)) {
            raw.initTransactions();
            raw.beginTransaction();
            // 1. bytes that are no record at all, straight into the tasks topic
            raw.send(new ProducerRecord<>(topics.tasksTopic(lane), "junk".getBytes(StandardCharsets.UTF_8),
                    new byte[] {0x00, 0x17, 0x2a, 0x7f, 0x01})).get();
            // 2. a manifest whose count disagrees with its chunks
            rawTask(raw, topics, badCount, rows(30, 5), (m, chunks) -> new Manifest(m.task(), m.delivery(), m.schema(),
                    m.rowCount() + 1, m.payloadBytes(), m.checksum(), m.dataTopic(), m.dataPartition(), m.chunkOffsets(), m.handedOffAt()),
                    chunk -> chunk);
            // 3. a manifest pointing at a chunk whose bytes are garbage (the checksum is computed over them, so only decoding fails)
            rawTask(raw, topics, badBytes, rows(30, 6), (m, chunks) -> m, chunk -> {
                byte[] b = chunk.clone();
                for (int i = HandoffFormat.HEADER + 40; i < b.length; i++) {
                    b[i] = (byte) 0xff;
                }
                return b;
            });
            // 4. a chunk of an unknown format version (another schema fingerprint)
            rawTask(raw, topics, badVersion, rows(30, 7), (m, chunks) -> m, chunk -> {
                byte[] b = chunk.clone();
                b[2] ^= 0x55;
                return b;
            });
            raw.commitTransaction();
        }
        try (HandoffSink sink = sink(topics, 16 * 1024, new SimpleMeterRegistry())) {
            handOff(sink, good, rows(40, 8));
        }
        List<String> deadLettered = new CopyOnWriteArrayList<>();
        Map<String, String> reasons = new ConcurrentHashMap<>();
        try (HandoffSource source = source(topics, TestKafka.unique("g")).listener(new UploadListener() {
            @Override
            public void deadLettered(String l, Manifest manifest, String reason) {
                deadLettered.add(reason);
                reasons.put(manifest == null ? "junk" : manifest.task().id(), reason);
            }
        }).build()) {
            source.queue().subscribe(Set.of(lane));
            List<String> failures = new ArrayList<>();
            Map<String, List<Row>> loaded = load(source, Set.of(lane), 4, failures);
            assertEquals(Set.of(good.id()), loaded.keySet(), "the good task still loads");
            RowCodecPropertyTest.assertSameRows(rows(40, 8), loaded.get(good.id()));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (deadLettered.size() < 4) {
                assertTrue(System.nanoTime() < deadline, "dead letters: " + deadLettered);
                sleep(50);
            }
        }
        assertTrue(reasons.get("junk").contains("not an Avro single-object record"), reasons.get("junk"));
        assertTrue(reasons.get(badCount.id()).contains("disagrees with its chunks"), reasons.get(badCount.id()));
        assertTrue(reasons.get(badBytes.id()).contains("does not decode"), reasons.get(badBytes.id()));
        assertTrue(reasons.get(badVersion.id()).contains("unknown format version"), reasons.get(badVersion.id()));
        List<ConsumerRecord<byte[], byte[]>> dlt = TestKafka.readAll(topics.deadLetterTopic(lane), "read_committed");
        assertEquals(4, dlt.size());
        for (ConsumerRecord<byte[], byte[]> r : dlt) {
            assertTrue(r.headers().lastHeader(IntakeLoop.HEADER_REASON) != null);
        }
    }

    interface ManifestEdit {
        Manifest edit(Manifest m, List<byte[]> chunks);
    }

    interface ChunkEdit {
        byte[] edit(byte[] chunk);
    }

    /** Writes a task's chunks and manifests with a raw transactional producer, edited on the way. */
    static void rawTask(KafkaProducer<byte[], byte[]> raw, HandoffTopics topics, Task task, List<Row> rows, ManifestEdit manifestEdit,
            ChunkEdit chunkEdit) throws Exception {
        ChunkWriter w = new ChunkWriter(task.id(), "raw-" + task.id(), 16 * 1024);
        List<byte[]> chunks = new ArrayList<>(w.add(rows));
        byte[] last = w.finish();
        if (last != null) {
            chunks.add(last);
        }
        List<Long> offsets = new ArrayList<>();
        CRC32C crc = new CRC32C();
        long bytes = 0;
        byte[] key = task.id().getBytes(StandardCharsets.UTF_8);
        for (byte[] c : chunks) {
            byte[] value = chunkEdit.edit(c);
            RecordMetadata md = raw.send(new ProducerRecord<>(topics.dataTopic(task.lane()), 0, key, value)).get();
            offsets.add(md.offset());
            crc.update(value);
            bytes += value.length;
        }
        Manifest m = new Manifest(task, "raw-" + task.id(), VDS, rows.size(), bytes, crc.getValue(), topics.dataTopic(task.lane()), 0,
                offsets, java.time.Instant.now());
        byte[] value = HandoffFormat.encodeManifest(manifestEdit.edit(m, chunks));
        raw.send(new ProducerRecord<>(topics.dataTopic(task.lane()), 0, key, value)).get();
        raw.send(new ProducerRecord<>(topics.tasksTopic(task.lane()), key, value)).get();
    }

    @Test
    void restart_uploaderResumesAfterWhatItLoaded_andNeverPastAnOutstandingTask() throws Exception {
        String lane = "backfill";
        HandoffTopics topics = HandoffTopics.builder().prefix(TestKafka.unique("d") + ".").partitions(1).build();
        try (var admin = TestKafka.admin()) {
            topics.create(admin, List.of(lane), Duration.ofSeconds(30));
        }
        List<Task> tasks = new ArrayList<>();
        try (HandoffSink sink = sink(topics, 16 * 1024, new SimpleMeterRegistry())) {
            for (int i = 0; i < 5; i++) {
                Task t = window(lane, 5, 10 * i);
                handOff(sink, t, rows(5, i));
                tasks.add(t);
            }
        }
        String group = TestKafka.unique("g");
        try (HandoffSource source = source(topics, group).build()) {
            source.queue().subscribe(Set.of(lane));
            List<Lease> leases = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (leases.size() < 5) {
                assertTrue(System.nanoTime() < deadline);
                leases.addAll(source.queue().poll(lane, 10));
                sleep(20);
            }
            // tasks 0, 1 and 3 load; 2 stays outstanding (its load has not committed), 4 is released
            for (int i : new int[] {0, 1, 3}) {
                leases.get(i).complete();
            }
            assertThrows(IllegalStateException.class, () -> leases.get(0).complete());
            sleep(500); // a few commit intervals
        } // closed with task 2 outstanding: its lease is lost
        try (HandoffSource again = source(topics, group).build()) {
            again.queue().subscribe(Set.of(lane));
            List<String> ids = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (ids.size() < 3) {
                assertTrue(System.nanoTime() < deadline, "got " + ids);
                for (Lease l : again.queue().poll(lane, 10)) {
                    ids.add(l.task().id());
                    l.complete();
                }
                sleep(20);
            }
            // re-delivered from the first outstanding task on: 2, 3 (completed above it: loaded again, idempotently), 4
            assertEquals(List.of(tasks.get(2).id(), tasks.get(3).id(), tasks.get(4).id()), ids);
        }
    }
}
