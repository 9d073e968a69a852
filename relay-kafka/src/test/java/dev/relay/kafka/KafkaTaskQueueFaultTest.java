package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.Task;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * Crashes, take-overs and bad records against the shared in-process broker. Each test prints its counts
 * (offered, delivered, duplicated before the sink, lost).
 */
class KafkaTaskQueueFaultTest {

    private static KafkaTaskQueue queue(String prefix, String group, int partitions, int prefetch) {
        return KafkaTaskQueue.builder()
                .bootstrapServers(EmbeddedKafka.bootstrapServers())
                .groupId(group)
                .topics(KafkaTopics.builder().prefix(prefix).partitions(partitions).replicationFactor(1).build())
                .createTopics(true)
                .prefetchPerLane(prefetch)
                .commitInterval(Duration.ofMillis(200))
                .revocationTimeout(Duration.ofSeconds(3))
                .lagRefreshInterval(Duration.ofMillis(300))
                .clientProperty("session.timeout.ms", "6000")
                .clientProperty("heartbeat.interval.ms", "500")
                .build();
    }

    @Test
    void restartAfterCrash_redeliversExactlyTheUncompleted() throws Exception {
        String prefix = EmbeddedKafka.unique("redeliver") + ".";
        String group = prefix + "g";
        // the records open at the crash come back one at a time (probation: a crash is counted for them), so the
        // test keeps their number moderate
        int n = 120;
        Set<String> offered = new LinkedHashSet<>();
        Set<String> completed = new HashSet<>();
        Set<String> open = new HashSet<>();
        KafkaTaskQueue first = queue(prefix, group, 3, 1000);
        try {
            first.subscribe(Set.of("backfill"));
            for (int i = 0; i < n; i++) {
                Task t = TestSink.task("backfill", i);
                first.offer(t);
                offered.add(t.id());
            }
            List<Lease> leases = new ArrayList<>();
            TestSink.await(() -> {
                leases.addAll(first.poll("backfill", 100));
                return leases.size() >= n;
            }, Duration.ofSeconds(60));
            assertEquals(n, leases.size());
            Random random = new Random(375);
            java.util.Collections.shuffle(leases, random); // complete in an arbitrary order
            for (Lease l : leases) {
                if (random.nextInt(10) < 6) {
                    l.complete();
                    completed.add(l.task().id());
                } else {
                    open.add(l.task().id());
                }
            }
            assertTrue(first.flush(Duration.ofSeconds(10)));
        } finally {
            first.crash(true);
        }
        KafkaTaskQueue second = queue(prefix, group, 3, 1000);
        Map<String, Integer> again = new HashMap<>();
        Set<Integer> attempts = new HashSet<>();
        try {
            second.subscribe(Set.of("backfill"));
            TestSink.await(() -> {
                second.poll("backfill", 100).forEach(l -> {
                    again.merge(l.task().id(), 1, Integer::sum);
                    attempts.add(l.task().attempt());
                    l.complete();
                });
                return again.size() >= open.size();
            }, Duration.ofSeconds(120));
            // keep polling a little: nothing else may come
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < until) {
                second.poll("backfill", 100).forEach(l -> {
                    again.merge(l.task().id(), 1, Integer::sum);
                    l.complete();
                });
                Thread.sleep(20);
            }
        } finally {
            second.close();
        }
        Set<String> redeliveredCompleted = new HashSet<>(again.keySet());
        redeliveredCompleted.retainAll(completed);
        System.out.printf("[restart] offered=%d, completed before the crash=%d, open at the crash=%d,"
                + " re-delivered=%d (of them completed before=%d), lost=%d%n", n, completed.size(), open.size(),
                again.size(), redeliveredCompleted.size(), open.stream().filter(id -> !again.containsKey(id)).count());
        assertEquals(open, again.keySet(), "exactly the uncompleted tasks come back");
        again.forEach((id, c) -> assertEquals(1, c, id));
        assertEquals(Set.of(2), attempts, "the crash is counted: they were handed out when it happened");
    }

    @Test
    void malformedAndUnknownVersionRecords_goToTheDeadLetterTopic_andTheConsumerCarriesOn() throws Exception {
        String prefix = EmbeddedKafka.unique("poison") + ".";
        KafkaTopics topics = KafkaTopics.builder().prefix(prefix).partitions(2).replicationFactor(1).build();
        KafkaTaskQueue q = queue(prefix, prefix + "g", 2, 100);
        TestSink sink = new TestSink();
        Set<String> offered = new LinkedHashSet<>();
        Map<String, String> bad = new HashMap<>(); // key → expected reason fragment
        TestSink.Worker worker = sink.new Worker(q, Set.of("config"));
        try {
            q.subscribe(Set.of("config"));
            try (EmbeddedKafka.SetupProducer p = EmbeddedKafka.setupProducer(EmbeddedKafka.bootstrapServers())) {
                for (int i = 0; i < 120; i++) {
                    Task t = TestSink.task("config", i);
                    offered.add(t.id());
                    p.send(new ProducerRecord<>(topics.laneTopic("config"), t.id().getBytes(StandardCharsets.UTF_8),
                            TaskRecordCodec.encode(t)));
                    if (i % 20 == 5) {
                        String key = "garbage-" + i;
                        bad.put(key, "malformed");
                        p.send(new ProducerRecord<>(topics.laneTopic("config"), key.getBytes(StandardCharsets.UTF_8),
                                ("CONTROLLER_CONFIG_LOG crashed " + i).getBytes(StandardCharsets.UTF_8)));
                    }
                    if (i % 30 == 7) {
                        String key = "future-" + i;
                        bad.put(key, "unknown schema version 2");
                        byte[] v = TaskRecordCodec.encode(TestSink.task("config", 10_000 + i));
                        v[1] = 2;
                        p.send(new ProducerRecord<>(topics.laneTopic("config"), key.getBytes(StandardCharsets.UTF_8), v));
                    }
                    if (i % 40 == 9) {
                        String key = "forged-" + i;
                        bad.put(key, "id mismatch");
                        byte[] v = TaskRecordCodec.encode(TestSink.task("config", 20_000 + i));
                        v[4] = (byte) (v[4] == 'a' ? 'b' : 'a');
                        p.send(new ProducerRecord<>(topics.laneTopic("config"), key.getBytes(StandardCharsets.UTF_8), v));
                    }
                }
                // a retry record without its not-before header
                String key = "headless-retry";
                bad.put(key, "malformed retry record");
                p.send(new ProducerRecord<>(topics.retryTopic("config"), null, null, key.getBytes(StandardCharsets.UTF_8),
                        TaskRecordCodec.encode(TestSink.task("config", 30_000)), new RecordHeaders()));
            }
            TestSink.await(() -> sink.hasAll(offered), Duration.ofSeconds(60));
        } finally {
            worker.close();
            q.close();
        }
        Map<String, String> dead = new HashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (dead.size() < bad.size() && System.nanoTime() < deadline) {
            dead.clear();
            for (ConsumerRecord<byte[], byte[]> r : EmbeddedKafka.readAll(EmbeddedKafka.bootstrapServers(),
                    topics.deadLetterTopic("config"), Duration.ofSeconds(10))) {
                Header h = r.headers().lastHeader(TaskRecordCodec.HEADER_DLT_REASON);
                String k = new String(r.key(), StandardCharsets.UTF_8);
                assertTrue(dead.put(k, new String(h.value(), StandardCharsets.UTF_8)) == null, "dead-lettered twice: " + k);
            }
        }
        sink.print("malformed", offered.size(), offered);
        System.out.printf("[malformed] bad records written=%d, dead letters=%d%n", bad.size(), dead.size());
        assertEquals(bad.keySet(), dead.keySet(), "the dead-letter topic holds exactly the bad records");
        bad.forEach((k, reason) -> assertTrue(dead.get(k).contains(reason), k + ": " + dead.get(k)));
        assertEquals(0, sink.missing(offered));
        assertEquals(offered.size(), sink.writes.size(), "no bad record reached the sink");
    }

    @Test
    void instanceKilledMidTask_otherInstanceTakesOver_nothingLost() throws Exception {
        String prefix = EmbeddedKafka.unique("takeover") + ".";
        String group = prefix + "g";
        int n = 400;
        TestSink sink = new TestSink();
        Set<String> offered = new LinkedHashSet<>();
        KafkaTaskQueue a = queue(prefix, group, 4, 50);
        KafkaTaskQueue b = queue(prefix, group, 4, 50);
        a.subscribe(Set.of("realtime"));
        b.subscribe(Set.of("realtime"));
        TestSink.Worker worker = sink.new Worker(b, Set.of("realtime"));
        try {
            for (int i = 0; i < n / 2; i++) {
                Task t = TestSink.task("realtime", i);
                a.offer(t);
                offered.add(t.id());
            }
            // instance a works normally for a while ...
            List<Lease> held = new ArrayList<>();
            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int done = 0;
            while (held.size() < 10 && System.nanoTime() < until) {
                for (Lease l : a.poll("realtime", 5)) {
                    sink.write(l.task());
                    if (done++ < 40) {
                        l.complete();
                    } else {
                        held.add(l); // ... and dies mid-task: written to the sink, never completed
                    }
                }
                Thread.sleep(5);
            }
            assertTrue(held.size() >= 1, "instance a got no partition");
            a.crash(false); // kill -9: no commit, no leave-group; the group notices after the session timeout
            assertThrows(LeaseLostException.class, () -> held.get(0).complete());
            for (int i = n / 2; i < n; i++) {
                Task t = TestSink.task("realtime", i);
                b.offer(t);
                offered.add(t.id());
            }
            TestSink.await(() -> sink.hasAll(offered), Duration.ofSeconds(90));
        } finally {
            worker.close();
            a.close();
            b.close();
        }
        sink.print("takeover", offered.size(), offered);
        assertEquals(0, sink.missing(offered), "every task reached the sink");
    }

    @Test
    void retryWaitingInItsTopic_survivesARestart_andComesBackOnceAfterItsTime() throws Exception {
        String prefix = EmbeddedKafka.unique("retry") + ".";
        String group = prefix + "g";
        Task poison = TestSink.task("config", 1);
        Task healthy = TestSink.task("config", 2);
        java.time.Instant notBefore;
        KafkaTaskQueue first = queue(prefix, group, 1, 100);
        try {
            first.subscribe(Set.of("config"));
            first.offer(poison);
            first.offer(healthy);
            List<Lease> got = new ArrayList<>();
            TestSink.await(() -> {
                got.addAll(first.poll("config", 2));
                return got.size() >= 2;
            }, Duration.ofSeconds(60));
            assertEquals(2, got.size());
            notBefore = java.time.Instant.now().plusSeconds(3);
            for (Lease l : got) {
                if (l.task().id().equals(poison.id())) {
                    l.retry(Duration.ofSeconds(3), "sink down");
                } else {
                    l.complete();
                }
            }
            assertTrue(first.flush(Duration.ofSeconds(10)), "commit after the retry record was acknowledged");
        } finally {
            first.crash(true);
        }
        KafkaTaskQueue second = queue(prefix, group, 1, 100);
        List<Task> after = new ArrayList<>();
        List<java.time.Instant> handedOutAt = new ArrayList<>();
        try {
            second.subscribe(Set.of("config"));
            TestSink.await(() -> {
                for (Lease l : second.poll("config", 10)) {
                    after.add(l.task());
                    handedOutAt.add(java.time.Instant.now());
                    l.complete();
                }
                return !after.isEmpty();
            }, Duration.ofSeconds(60));
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < until) { // nothing else may come
                for (Lease l : second.poll("config", 10)) {
                    after.add(l.task());
                    l.complete();
                }
                Thread.sleep(20);
            }
        } finally {
            second.close();
        }
        System.out.printf("[retry-restart] handed out after the restart: %s%n", after);
        assertEquals(1, after.size(), "only the retry comes back: the original and the completed task were committed");
        assertEquals(poison.id(), after.get(0).id());
        assertEquals(2, after.get(0).attempt());
        assertTrue(!handedOutAt.get(0).isBefore(notBefore.minusMillis(50)), "the retry was held until its time");
    }
}
