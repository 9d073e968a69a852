package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Lease;
import dev.relay.api.Task;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * A backfill lane with 200,000 records of lag (two weeks of outage) while the realtime lane keeps flowing:
 * the backfill lane's buffer never exceeds its prefetch bound, and every realtime task is handed out while the
 * backfill lag is still there.
 */
class BoundedPrefetchTest {

    private static final int LAG = 200_000;
    private static final int PREFETCH = 100;

    @Test
    void laneWithHugeLag_staysWithinItsPrefetchBound_whileAnotherLaneFlows() throws Exception {
        String servers = EmbeddedKafka.bootstrapServers();
        String prefix = EmbeddedKafka.unique("bounded") + ".";
        KafkaTopics topics = KafkaTopics.builder().prefix(prefix).partitions(2).replicationFactor(1).build();
        KafkaTaskQueue q = KafkaTaskQueue.builder().bootstrapServers(servers).groupId(prefix + "g").topics(topics)
                .createTopics(true).prefetchPerLane(PREFETCH).lagRefreshInterval(Duration.ofMillis(300)).build();
        try {
            q.subscribe(Set.of("backfill", "realtime"));
            long t0 = System.nanoTime();
            // 2,000 distinct windows written 100 times each: the lag is what matters, and encoding 200,000
            // distinct tasks would only cost test time
            byte[][] values = new byte[2000][];
            for (int i = 0; i < values.length; i++) {
                values[i] = TaskRecordCodec.encode(TestSink.task("backfill", i));
            }
            try (EmbeddedKafka.SetupProducer p = EmbeddedKafka.setupProducer(servers)) {
                for (int i = 0; i < LAG; i++) {
                    p.send(new ProducerRecord<>(topics.laneTopic("backfill"), i % 2, null, values[i % values.length]));
                }
            }
            System.out.printf("[bounded] produced %d backfill records in %d ms%n", LAG, (System.nanoTime() - t0) / 1_000_000);

            int realtime = 100;
            Map<String, Instant> offeredAt = new ConcurrentHashMap<>();
            Map<String, Long> latencyMs = new ConcurrentHashMap<>();
            AtomicLong backfillDone = new AtomicLong();
            int maxBuffered = 0;
            Thread offerer = new Thread(() -> {
                for (int i = 0; i < realtime; i++) {
                    Task t = TestSink.task("realtime", i);
                    offeredAt.put(t.id(), Instant.now());
                    q.offer(t);
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            offerer.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (latencyMs.size() < realtime && System.nanoTime() < deadline) {
                for (Lease l : q.poll("realtime", 50)) {
                    latencyMs.put(l.task().id(), Duration.between(offeredAt.get(l.task().id()), Instant.now()).toMillis());
                    l.complete();
                }
                for (Lease l : q.poll("backfill", 2)) { // the backfill lane is served slowly
                    l.complete();
                    backfillDone.incrementAndGet();
                }
                maxBuffered = Math.max(maxBuffered, q.buffered("backfill"));
                Thread.sleep(5);
            }
            offerer.join();
            // the lag of a paused partition is refreshed periodically: let it catch up with what completed. Every
            // record is counted exactly once (ready, held, arming, delayed or not yet fetched), so the backlog is
            // exactly what was not completed: the setup checked that every one of the LAG records was written
            long expected = LAG - backfillDone.get();
            long backlog = q.backlog("backfill");
            long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (backlog != expected && System.nanoTime() < settle) {
                Thread.sleep(100);
                backlog = q.backlog("backfill");
            }
            long maxLatency = latencyMs.values().stream().mapToLong(Long::longValue).max().orElse(-1);
            System.out.printf("[bounded] realtime tasks delivered=%d/%d (max offer-to-lease %d ms) while backfill"
                    + " completed %d; backfill buffered max=%d (bound %d), backfill backlog now=%d%n",
                    latencyMs.size(), realtime, maxLatency, backfillDone.get(), maxBuffered, PREFETCH, backlog);
            assertEquals(realtime, latencyMs.size(), "every realtime task was handed out");
            assertTrue(maxBuffered <= PREFETCH, "backfill buffered " + maxBuffered + " > " + PREFETCH);
            assertTrue(backfillDone.get() > 0, "the backfill lane was served too");
            assertEquals(expected, backlog, "the backlog counts every record not completed, once");
        } finally {
            q.close();
        }
    }
}
