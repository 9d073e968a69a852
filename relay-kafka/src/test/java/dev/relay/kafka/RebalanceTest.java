package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A second instance joins the group while the first holds leases: the first commits what completed during
 * the revocation, its leases still open after the revocation timeout are lost and handed out again, and both
 * instances keep their lane buffers within the prefetch bound after the rebalance.
 */
class RebalanceTest {

    private static final int PREFETCH = 20;

    private static KafkaTaskQueue queue(String prefix, String group) {
        return KafkaTaskQueue.builder()
                .bootstrapServers(EmbeddedKafka.bootstrapServers())
                .groupId(group)
                .topics(KafkaTopics.builder().prefix(prefix).partitions(4).replicationFactor(1).build())
                .createTopics(true)
                .prefetchPerLane(PREFETCH)
                .commitInterval(Duration.ofMillis(200))
                .revocationTimeout(Duration.ofSeconds(2))
                .clientProperty("session.timeout.ms", "6000")
                .clientProperty("heartbeat.interval.ms", "300")
                .build();
    }

    @Test
    void secondInstanceJoins_openLeasesAreLostAndRedelivered_completedOnesAreNot() throws Exception {
        String prefix = EmbeddedKafka.unique("rebalance") + ".";
        String group = prefix + "g";
        int n = 400;
        TestSink sink = new TestSink();
        Set<String> offered = new LinkedHashSet<>();
        KafkaTaskQueue a = queue(prefix, group);
        KafkaTaskQueue b = null;
        TestSink.Worker wa = null;
        TestSink.Worker wb = null;
        try {
            a.subscribe(Set.of("backfill"));
            for (int i = 0; i < n; i++) {
                Task t = TestSink.task("backfill", i);
                a.offer(t);
                offered.add(t.id());
            }
            List<Lease> held = new ArrayList<>();
            TestSink.await(() -> {
                held.addAll(a.poll("backfill", 40 - held.size()));
                return held.size() >= 40;
            }, Duration.ofSeconds(60));
            assertEquals(40, held.size());

            b = queue(prefix, group);
            b.subscribe(Set.of("backfill"));
            List<Lease> finished = held.subList(0, 20);
            List<Lease> abandoned = held.subList(20, 40);
            for (Lease l : finished) { // finished while the rebalance starts: committed, never repeated
                sink.write(l.task());
                l.complete();
            }
            // the rebalance is over when b hands something out
            KafkaTaskQueue bq = b;
            List<Lease> first = new ArrayList<>();
            TestSink.await(() -> {
                first.addAll(bq.poll("backfill", 1));
                return !first.isEmpty();
            }, Duration.ofSeconds(60));
            assertEquals(1, first.size(), "b got no partition");
            sink.write(first.get(0).task());
            first.get(0).complete();
            for (Lease l : abandoned) {
                assertThrows(LeaseLostException.class, l::complete, "a lease of a revoked partition");
            }
            // pause state re-applied after the rebalance: neither instance buffers beyond its bound
            int maxA = 0;
            int maxB = 0;
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < until) {
                maxA = Math.max(maxA, a.buffered("backfill"));
                maxB = Math.max(maxB, b.buffered("backfill"));
                Thread.sleep(10);
            }
            wa = sink.new Worker(a, Set.of("backfill"));
            wb = sink.new Worker(b, Set.of("backfill"));
            TestSink.await(() -> sink.hasAll(offered), Duration.ofSeconds(60));
            sink.print("rebalance", n, offered);
            System.out.printf("[rebalance] leases held by a at the rebalance=40 (completed 20, abandoned 20);"
                    + " buffered after the rebalance max a=%d b=%d (bound %d)%n", maxA, maxB, PREFETCH);
            assertEquals(0, sink.missing(offered));
            for (Lease l : finished) {
                assertEquals(1, sink.writes.get(l.task().id()), "a task completed during the revocation came back");
            }
            for (Lease l : abandoned) {
                assertTrue(sink.writes.containsKey(l.task().id()), "an abandoned lease's task was not handed out again");
            }
            assertTrue(maxA <= PREFETCH && maxB <= PREFETCH, "buffered " + maxA + "/" + maxB);
        } finally {
            if (wa != null) {
                wa.close();
            }
            if (wb != null) {
                wb.close();
            }
            a.close();
            if (b != null) {
                b.close();
            }
        }
    }
}
