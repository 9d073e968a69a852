package dev.relay.benchmarks;

import dev.relay.api.LaneSpec;
import dev.relay.api.Lease;
import dev.relay.api.Task;
import dev.relay.core.Relay;
import dev.relay.core.RelayListener;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * Tasks per second through the whole in-memory relay with no-op work, end to end — offer to the
 * {@link InMemoryTaskQueue}, intake and scheduling on the control thread, a no-op pull and a no-op sink on a
 * worker, completion of the lease — against baselines measured in the same run with the same number of worker
 * threads:
 * <ul>
 *   <li>{@code relay}: the {@link Relay} with {@code threads} source permits and a worker
 *       {@link ThreadPoolExecutor} of {@code threads} threads; its control turns run on whichever thread submits them
 *       (the default {@code ControlExecutor}), and a worker that finishes a task runs the next one itself;
 *   <li>{@code tpe}: the same {@link ThreadPoolExecutor} running the same no-op work ({@link NoOp#work}) for each
 *       task — the baseline: no queue, no scheduler, no permits, no acknowledgement;
 *   <li>{@code tpeQueue}: the same pool where each task offers to, polls from and completes a lease of the same
 *       {@link InMemoryTaskQueue} around the no-op work — the queue's share of the relay's cost, without the
 *       scheduler and the control thread;
 * </ul>
 * One invocation offers {@value #BATCH} distinct tasks over {@code lanes} lanes and waits until all are
 * acknowledged ({@link RelayListener#completed}, called after the lease completed), so the score is
 * acknowledged tasks per second. Run it with one benchmark thread (the default), which offers and waits.
 *
 * <p>Goals (issue 13), at 2 and at 8 threads: {@code relay} ≥ 1.0× {@code tpeQueue} (the fair engine around the
 * queue costs nothing), ≥ 0.5× {@code tpe}, and at most 200 bytes allocated per task ({@code gc.alloc.rate.norm}
 * under {@code -prof gc}: one operation is one task).
 *
 * <p>Run (add {@code -prof stack} or {@code -prof jfr} with {@code -p impl=relay} to see where the time goes):
 * <pre>
 *   java -jar relay-benchmarks/target/benchmarks.jar EngineThroughputBenchmark -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(Scope.Benchmark)
public class EngineThroughputBenchmark {

    /** Tasks per invocation. */
    static final int BATCH = 1_000;

    /** What runs the tasks: the relay or a baseline. */
    @Param({"relay", "tpe", "tpeQueue"})
    public String impl;

    /** Worker threads, and the relay's source permits. */
    @Param({"2", "8"})
    public int threads;

    /** Lanes the tasks are spread over (all of weight 1). */
    @Param({"3"})
    public int lanes;

    /**
     * The relay's source permits per worker thread: 1 is the like-for-like setting; more lets the relay queue
     * tasks in the worker pool as the baseline does (a diagnostic of the per-permit round trip, not a fair
     * configuration: permits bound the load on the source).
     */
    @Param({"1"})
    public int permitsPerThread;

    private Task[] tasks;
    /**
     * Counts the acknowledgements of the batch in flight. A latch per batch rather than a semaphore: a semaphore's
     * every release wakes the waiting benchmark thread, a cost of the harness that would land on the engines.
     */
    private volatile CountDownLatch acked = new CountDownLatch(0);
    private Engine engine;

    /** Something that runs a batch of tasks to their acknowledgement. */
    private interface Engine {
        void run(Task[] tasks) throws InterruptedException;

        void close() throws InterruptedException;
    }

    /** Builds the tasks and the engine under test. */
    @Setup(Level.Trial)
    public void setUp() {
        tasks = NoOp.tasks(BATCH, lanes);
        engine = switch (impl) {
            case "relay" -> new RelayEngine();
            case "tpe" -> new PoolEngine();
            case "tpeQueue" -> new PoolQueueEngine();
            default -> throw new IllegalArgumentException("unknown impl '" + impl + "'; use relay, tpe or tpeQueue");
        };
    }

    /** Stops the engine. */
    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        engine.close();
    }

    /**
     * Offers {@value #BATCH} tasks and waits for all of them to be acknowledged.
     *
     * @throws InterruptedException if interrupted
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void tasks() throws InterruptedException {
        engine.run(tasks);
    }

    static ThreadPoolExecutor pool(int threads, String name) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), tf);
    }

    static void stop(ThreadPoolExecutor pool) throws InterruptedException {
        pool.shutdown();
        if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
            pool.shutdownNow();
        }
    }

    private final class RelayEngine implements Engine {
        final InMemoryTaskQueue queue = InMemoryTaskQueue.create();
        final ThreadPoolExecutor workers = pool(threads, "relay-worker");
        final Relay relay;

        RelayEngine() {
            Relay.Builder b = Relay.builder().queue(queue).puller(NoOp.PULLER).sink(NoOp.SINK)
                    .sourcePermits(threads * permitsPerThread)
                    .workers(workers).listener(new RelayListener() {
                        @Override
                        public void completed(Task task, Instant at, Duration service, long rows) {
                            acked.countDown();
                        }
                    });
            for (int i = 0; i < lanes; i++) {
                b.lane(LaneSpec.of(NoOp.lane(i)));
            }
            relay = b.build().start();
        }

        @Override
        public void run(Task[] tasks) throws InterruptedException {
            CountDownLatch batch = new CountDownLatch(tasks.length);
            acked = batch;
            for (Task t : tasks) {
                queue.offer(t);
            }
            batch.await();
        }

        @Override
        public void close() throws InterruptedException {
            relay.shutdown(Duration.ofSeconds(10));
            stop(workers);
            queue.close();
        }
    }

    private final class PoolEngine implements Engine {
        final ThreadPoolExecutor workers = pool(threads, "tpe-worker");

        @Override
        public void run(Task[] tasks) throws InterruptedException {
            CountDownLatch batch = new CountDownLatch(tasks.length);
            acked = batch;
            for (Task t : tasks) {
                workers.execute(() -> {
                    NoOp.work(t);
                    batch.countDown();
                });
            }
            batch.await();
        }

        @Override
        public void close() throws InterruptedException {
            stop(workers);
        }
    }

    private final class PoolQueueEngine implements Engine {
        final InMemoryTaskQueue queue = InMemoryTaskQueue.create();
        final ThreadPoolExecutor workers = pool(threads, "tpe-queue-worker");

        @Override
        public void run(Task[] tasks) throws InterruptedException {
            CountDownLatch batch = new CountDownLatch(tasks.length);
            acked = batch;
            for (Task t : tasks) {
                queue.offer(t);
                String lane = t.lane();
                workers.execute(() -> {
                    List<Lease> leases = queue.poll(lane, 1);
                    Lease lease = leases.get(0);
                    NoOp.work(lease.task());
                    lease.complete();
                    batch.countDown();
                });
            }
            batch.await();
        }

        @Override
        public void close() throws InterruptedException {
            stop(workers);
            queue.close();
        }
    }
}
