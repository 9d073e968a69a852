package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.relay.api.QueueException;
import dev.relay.api.Task;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the broker (a separate JVM) while tasks are offered and consumed, then a restart on the same
 * port and log directory: every offered task reaches the sink.
 */
class BrokerKillTest {

    @Test
    void brokerKilledAndRestarted_duringARun_nothingLost() throws Exception {
        int n = 300;
        long t0 = System.nanoTime();
        try (ProcessBroker broker = new ProcessBroker()) {
            broker.start();
            long started = System.nanoTime();
            String prefix = "kill.";
            KafkaTaskQueue q = KafkaTaskQueue.builder()
                    .bootstrapServers(broker.bootstrapServers())
                    .groupId("kill-group")
                    .topics(KafkaTopics.builder().prefix(prefix).partitions(3).replicationFactor(1).build())
                    .createTopics(true)
                    .prefetchPerLane(50)
                    .commitInterval(Duration.ofMillis(200))
                    .offerTimeout(Duration.ofSeconds(5))
                    .revocationTimeout(Duration.ofSeconds(5))
                    .clientProperty("session.timeout.ms", "10000")
                    .clientProperty("heartbeat.interval.ms", "1000")
                    .clientProperty("reconnect.backoff.max.ms", "1000")
                    .build();
            TestSink sink = new TestSink();
            Set<String> offered = ConcurrentHashMap.newKeySet();
            AtomicInteger offerFailures = new AtomicInteger();
            AtomicLong offeredCount = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            TestSink.Worker worker = sink.new Worker(q, Set.of("realtime", "config"));
            try {
                q.subscribe(Set.of("realtime", "config"));
                Thread offerer = new Thread(() -> {
                    for (int i = 0; i < n && !stop.get(); i++) {
                        Task t = TestSink.task(i % 5 == 0 ? "config" : "realtime", i);
                        while (!stop.get()) {
                            try {
                                q.offer(t); // at-least-once: a timed-out offer is offered again
                                offered.add(t.id());
                                offeredCount.incrementAndGet();
                                break;
                            } catch (QueueException e) {
                                offerFailures.incrementAndGet();
                            }
                        }
                        try {
                            Thread.sleep(10);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "offerer");
                offerer.start();
                TestSink.await(() -> offeredCount.get() >= n / 3, Duration.ofSeconds(60));
                long atKill = offeredCount.get();
                long killed = System.nanoTime();
                broker.kill();
                Thread.sleep(2000);
                broker.start();
                long restarted = System.nanoTime();
                offerer.join(180_000);
                TestSink.await(() -> sink.hasAll(offered), Duration.ofSeconds(120));
                long done = System.nanoTime();
                System.out.printf("[broker-kill] phases: broker start %d ms, run until kill %d ms, down + restart %d ms,"
                        + " restart until every task in the sink %d ms%n", (started - t0) / 1_000_000,
                        (killed - started) / 1_000_000, (restarted - killed) / 1_000_000, (done - restarted) / 1_000_000);
                stop.set(true);
                sink.print("broker-kill", offered.size(), offered);
                System.out.printf("[broker-kill] killed after %d offers; offers that failed and were repeated=%d%n",
                        atKill, offerFailures.get());
            } finally {
                stop.set(true);
                worker.close();
                q.close();
            }
            assertEquals(n, offered.size());
            assertEquals(0, sink.missing(offered), "every offered task reached the sink");
        }
    }
}
