package dev.relay.kafka;

import dev.relay.api.Lease;
import dev.relay.api.LeaseLostException;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The idempotent test sink (task id → how many times a delivery reached it) and a worker that plays the
 * engine: polls lanes, writes each task to the sink, completes its lease.
 */
final class TestSink {

    final Map<String, Integer> writes = new ConcurrentHashMap<>();
    final AtomicLong lostLeases = new AtomicLong();

    static Task task(String lane, int i) {
        return Task.builder(lane, "D7.VDS30SEC")
                .scope(Window.starting(LocalDateTime.of(2024, 3, 14, 0, 0).plusMinutes(10L * i), Duration.ofMinutes(10)))
                .parameter("district", "7").build();
    }

    void write(Task t) {
        writes.merge(t.id(), 1, Integer::sum);
    }

    long duplicates() {
        return writes.values().stream().mapToLong(c -> c - 1).sum();
    }

    long missing(Collection<String> offered) {
        return offered.stream().filter(id -> !writes.containsKey(id)).count();
    }

    boolean hasAll(Collection<String> ids) {
        return writes.keySet().containsAll(ids);
    }

    static void await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    void print(String test, long offered, Collection<String> offeredIds) {
        long delivered = writes.values().stream().mapToLong(Integer::longValue).sum();
        System.out.printf("[%s] tasks offered=%d, deliveries to the sink=%d, distinct tasks in sink=%d,"
                + " duplicated before the sink=%d, lost=%d, leases lost on revocation=%d%n",
                test, offered, delivered, writes.size(), duplicates(), missing(offeredIds), lostLeases.get());
    }

    /** A worker thread: the engine's role, completing every lease after writing its task. */
    final class Worker implements AutoCloseable {
        private final KafkaTaskQueue queue;
        private final Set<String> lanes;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Worker(KafkaTaskQueue queue, Set<String> lanes) {
            this.queue = queue;
            this.lanes = lanes;
            this.thread = new Thread(this::run, "test-worker");
            thread.start();
        }

        private void run() {
            while (running.get()) {
                boolean any = false;
                for (String lane : lanes) {
                    List<Lease> leases = queue.poll(lane, 50);
                    for (Lease l : leases) {
                        any = true;
                        write(l.task());
                        try {
                            l.complete();
                        } catch (LeaseLostException e) {
                            lostLeases.incrementAndGet();
                        }
                    }
                }
                if (!any) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }

        @Override
        public void close() {
            running.set(false);
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
