package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.QueueException;
import dev.relay.api.Task;
import dev.relay.api.TasksNotAcceptedException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Offers against the shared in-process broker: concurrent first offers to fresh topics, batches, and which tasks
 * a failed batch names. The queues here never subscribe: a planner's queue only offers.
 */
class OfferTest {

    private static KafkaTaskQueue.Builder queue(String prefix) {
        return KafkaTaskQueue.builder().bootstrapServers(EmbeddedKafka.bootstrapServers()).groupId(prefix + "g")
                .topics(KafkaTopics.builder().prefix(prefix).partitions(3).replicationFactor(1).build());
    }

    private static Map<String, Integer> idsIn(String topic) {
        Map<String, Integer> ids = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : EmbeddedKafka.readAll(EmbeddedKafka.bootstrapServers(), topic, Duration.ofSeconds(30))) {
            ids.merge(new String(r.key(), StandardCharsets.UTF_8), 1, Integer::sum);
        }
        return ids;
    }

    /**
     * Regression (issue 14): concurrent offers right after topic creation stalled for 30 s and failed with
     * OUT_OF_ORDER_SEQUENCE_NUMBER. Every first offer now waits until the lane's partitions have serving leaders.
     */
    @Test
    void offer_sixteenConcurrentOfferersOnFreshTopics_allAcceptedOnce() throws Exception {
        String prefix = EmbeddedKafka.unique("fresh") + ".";
        int threads = 16;
        int perThread = 25;
        List<String> lanes = List.of("l0", "l1", "l2", "l3");
        Map<String, Set<String>> offered = new ConcurrentHashMap<>();
        try (KafkaTaskQueue q = queue(prefix).createTopics(true).offerTimeout(Duration.ofSeconds(60)).build()) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String lane = lanes.get(t % lanes.size()); // four offerers race on each fresh lane's first offer
                int base = t * perThread;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        Task task = TestSink.task(lane, base + i);
                        q.offer(task);
                        offered.computeIfAbsent(lane, k -> ConcurrentHashMap.newKeySet()).add(task.id());
                    }
                    return null;
                }));
            }
            long t0 = System.nanoTime();
            start.countDown();
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS); // an offer that failed fails the test here, with its cause
            }
            pool.shutdown();
            System.out.printf("[fresh] %d offerers x %d tasks on %d fresh lanes accepted in %d ms%n", threads, perThread,
                    lanes.size(), (System.nanoTime() - t0) / 1_000_000);
        }
        for (String lane : lanes) {
            Map<String, Integer> ids = idsIn(prefix + lane);
            assertEquals(offered.get(lane), ids.keySet(), "lane " + lane + " holds exactly what was offered");
            ids.forEach((id, n) -> assertEquals(1, n, id + " written " + n + " times"));
        }
    }

    @Test
    void offerAll_thousandTasks_allWrittenOnce() throws Exception {
        String prefix = EmbeddedKafka.unique("batch") + ".";
        List<Task> batch = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            batch.add(TestSink.task(i % 3 == 0 ? "backfill" : "realtime", i));
        }
        try (KafkaTaskQueue q = queue(prefix).createTopics(true).build()) {
            q.offerAll(List.of(TestSink.task("realtime", 100_000), TestSink.task("backfill", 100_000))); // topics first
            long t0 = System.nanoTime();
            q.offerAll(batch);
            System.out.printf("[batch] offerAll of %d tasks in %d ms%n", batch.size(), (System.nanoTime() - t0) / 1_000_000);
        }
        Map<String, Integer> ids = idsIn(prefix + "realtime");
        ids.putAll(idsIn(prefix + "backfill"));
        for (Task t : batch) {
            assertEquals(1, ids.getOrDefault(t.id(), 0), t.toString());
        }
    }

    @Test
    void offerAll_laneWithoutTopic_onAQueueThatDoesNotCreateTopics_failsNamingIt_andSendsNothing() throws Exception {
        String prefix = EmbeddedKafka.unique("unknown") + ".";
        KafkaTopics topics = KafkaTopics.builder().prefix(prefix).partitions(1).replicationFactor(1).build();
        try (Admin admin = EmbeddedKafka.admin(EmbeddedKafka.bootstrapServers())) {
            topics.create(admin, List.of("known"), Duration.ofSeconds(30));
        }
        try (KafkaTaskQueue q = queue(prefix).topics(topics).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> q.offerAll(List.of(TestSink.task("known", 1), TestSink.task("nolane", 2))));
            assertTrue(e.getMessage().contains("'nolane'") && e.getMessage().contains(prefix + "nolane"), e.getMessage());
            IllegalArgumentException single = assertThrows(IllegalArgumentException.class, () -> q.offer(TestSink.task("nolane", 3)));
            assertTrue(single.getMessage().contains("createTopics"), single.getMessage());
            q.offer(TestSink.task("known", 4));
        }
        assertEquals(Set.of(TestSink.task("known", 4).id()), idsIn(prefix + "known").keySet(), "nothing of the refused batch was sent");
    }

    @Test
    void offerAll_oneLanesTopicDeleted_namesExactlyItsTasks_andTheOthersAreWritten() throws Exception {
        String prefix = EmbeddedKafka.unique("gone") + ".";
        List<Task> stays = new ArrayList<>();
        List<Task> gone = new ArrayList<>();
        List<Task> batch = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Task t = TestSink.task(i % 4 == 1 ? "gone" : "stays", i);
            (t.lane().equals("gone") ? gone : stays).add(t);
            batch.add(t);
        }
        try (KafkaTaskQueue q = queue(prefix).createTopics(true).offerTimeout(Duration.ofSeconds(3)).build()) {
            q.offerAll(List.of(TestSink.task("stays", 1_000), TestSink.task("gone", 1_000))); // both lanes known
            try (Admin admin = EmbeddedKafka.admin(EmbeddedKafka.bootstrapServers())) {
                admin.deleteTopics(List.of(prefix + "gone")).all().get(30, TimeUnit.SECONDS);
            }
            TasksNotAcceptedException e = assertThrows(TasksNotAcceptedException.class, () -> q.offerAll(batch));
            System.out.printf("[gone] %s%n", e.getMessage());
            assertEquals(gone, e.notAccepted(), "exactly the deleted lane's tasks, in batch order");
            assertEquals(stays.size(), e.accepted());
            assertTrue(e.getCause() instanceof QueueException, String.valueOf(e.getCause()));
        }
        Set<String> written = new HashSet<>(idsIn(prefix + "stays").keySet());
        for (Task t : stays) {
            assertTrue(written.contains(t.id()), t + " was accepted, so it is in its topic");
        }
    }

    @Test
    void offerAll_closedQueue_namesEveryTask_notRetryable() {
        String prefix = EmbeddedKafka.unique("closed") + ".";
        KafkaTaskQueue q = queue(prefix).build();
        q.close();
        List<Task> batch = List.of(TestSink.task("a", 1), TestSink.task("a", 2));
        TasksNotAcceptedException e = assertThrows(TasksNotAcceptedException.class, () -> q.offerAll(batch));
        assertEquals(batch, e.notAccepted());
        assertTrue(!e.retryable());
        QueueException single = assertThrows(QueueException.class, () -> q.offer(TestSink.task("a", 3)));
        assertTrue(single.getMessage().contains("closed"), single.getMessage());
    }

    /** A task offered to a lane that this queue does not serve is reported, with its count (issue 13). */
    @Test
    void lanesWithTasks_namesALaneThisQueueDoesNotServe_withItsBacklog() throws Exception {
        String prefix = EmbeddedKafka.unique("unserved") + ".";
        try (KafkaTaskQueue q = queue(prefix).createTopics(true).lagRefreshInterval(Duration.ofMillis(200)).build()) {
            q.subscribe(Set.of("served"));
            q.offerAll(List.of(TestSink.task("elsewhere", 1), TestSink.task("elsewhere", 2), TestSink.task("elsewhere", 3)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            // the census settles while the served lane's consumer joins its group: wait for the answer, then check it
            while (!q.lanesWithTasks().map(s -> s.equals(Set.of("elsewhere"))).orElse(false) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(Set.of("elsewhere"), q.lanesWithTasks().orElseThrow());
            assertEquals(3, q.backlog("elsewhere"));
        }
    }
}
