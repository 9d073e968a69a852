package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Lease;
import dev.relay.api.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Leases are ended from many threads at once, in every way (complete, release, retry): every task ends
 * completed exactly once, and no ending throws.
 */
class ConcurrentEndingsTest {

    @Test
    void leasesEndedFromManyThreads_everyTaskCompletesOnce() throws Exception {
        String prefix = EmbeddedKafka.unique("concurrent") + ".";
        KafkaTaskQueue q = KafkaTaskQueue.builder().bootstrapServers(EmbeddedKafka.bootstrapServers())
                .groupId(prefix + "g")
                .topics(KafkaTopics.builder().prefix(prefix).partitions(3).replicationFactor(1).build())
                .createTopics(true).prefetchPerLane(30).commitInterval(Duration.ofMillis(100)).build();
        int n = 600;
        Set<String> lanes = Set.of("realtime", "config");
        Map<String, Integer> completed = new ConcurrentHashMap<>();
        AtomicInteger released = new AtomicInteger();
        AtomicInteger retried = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> workers = new ArrayList<>();
        try {
            q.subscribe(lanes);
            for (int i = 0; i < n; i++) {
                q.offer(TestSink.task(i % 3 == 0 ? "config" : "realtime", i));
            }
            for (int w = 0; w < 4; w++) {
                Thread t = new Thread(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    while (!stop.get()) {
                        boolean any = false;
                        for (String lane : lanes) {
                            for (Lease l : q.poll(lane, 1 + r.nextInt(8))) {
                                any = true;
                                try {
                                    int dice = r.nextInt(10);
                                    Task task = l.task();
                                    if (dice == 0) {
                                        l.release();
                                        released.incrementAndGet();
                                    } else if (dice == 1 && task.attempt() == 1) {
                                        l.retry(Duration.ZERO, "flaky sink");
                                        retried.incrementAndGet();
                                    } else {
                                        l.complete();
                                        completed.merge(task.id(), 1, Integer::sum);
                                    }
                                } catch (RuntimeException e) {
                                    errors.incrementAndGet();
                                }
                            }
                        }
                        if (!any) {
                            try {
                                Thread.sleep(2);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }
                }, "ending-worker-" + w);
                t.start();
                workers.add(t);
            }
            TestSink.await(() -> completed.size() >= n, Duration.ofSeconds(120));
            Thread.sleep(1000); // anything more would be a repeat
        } finally {
            stop.set(true);
            for (Thread t : workers) {
                t.join(10_000);
            }
            q.close();
        }
        System.out.printf("[concurrent] tasks=%d, completed=%d, released then handed out again=%d, retried=%d,"
                + " ending errors=%d%n", n, completed.size(), released.get(), retried.get(), errors.get());
        assertEquals(0, errors.get());
        assertEquals(n, completed.size());
        completed.forEach((id, c) -> assertEquals(1, c, "task " + id + " completed " + c + " times"));
        assertTrue(released.get() > 0 && retried.get() > 0, "the test exercised release and retry");
    }
}
