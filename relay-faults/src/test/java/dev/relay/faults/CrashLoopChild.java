package dev.relay.faults;

import dev.relay.api.Column;
import dev.relay.api.LaneSpec;
import dev.relay.api.RetryPolicy;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.TaskQueue;
import dev.relay.core.Relay;
import dev.relay.kafka.KafkaShareTaskQueue;
import dev.relay.kafka.KafkaTaskQueue;
import dev.relay.kafka.KafkaTopics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.JDBCType;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A relay in a JVM of its own for {@link PoisonCrashLoopTest}: a Kafka queue (classic or share group), one lane
 * with {@value #MAX_ATTEMPTS} attempts, one source permit, a puller that halts the JVM (as {@code kill -9} from
 * inside the task would) for every task whose parameter {@code kind} is {@code poison}, and a sink that records
 * each completed task as a file named by its id.
 *
 * <p>Arguments: bootstrap servers, topic prefix, group, backend ({@code classic} or {@code share}), the
 * directory of completed tasks, the stop file, the suite's pid. Exits 0 when the stop file appears.
 */
public final class CrashLoopChild {

    /** The lane of the test. */
    static final String LANE = "config";
    /** The lane's attempts. */
    static final int MAX_ATTEMPTS = 3;

    private CrashLoopChild() {
    }

    static KafkaTopics topics(String prefix) {
        return KafkaTopics.builder().prefix(prefix).partitions(3).replicationFactor(1).build();
    }

    public static void main(String[] args) throws Exception {
        String servers = args[0];
        String prefix = args[1];
        String group = args[2];
        boolean share = "share".equals(args[3]);
        Path done = Path.of(args[4]);
        Path stop = Path.of(args[5]);
        long parent = Long.parseLong(args[6]);
        TaskQueue queue = share
                // one record acquired at a time: the broker charges a crash to every record the consumer held
                ? KafkaShareTaskQueue.builder().bootstrapServers(servers).groupId(group).topics(topics(prefix))
                        .prefetchPerLane(1).consumersPerLane(1)
                        .groupConfig("share.record.lock.duration.ms", "3000")
                        .groupConfig("share.session.timeout.ms", "3000")
                        .groupConfig("share.heartbeat.interval.ms", "300")
                        .build()
                : KafkaTaskQueue.builder().bootstrapServers(servers).groupId(group).topics(topics(prefix))
                        .prefetchPerLane(8).commitInterval(Duration.ofMillis(200)).revocationTimeout(Duration.ofSeconds(5))
                        .probationTimeout(Duration.ofSeconds(2))
                        // static membership: a restarted child takes its partitions back at once
                        .clientProperty("group.instance.id", group + "-child")
                        .clientProperty("session.timeout.ms", "6000").clientProperty("heartbeat.interval.ms", "500")
                        .build();
        RowSchema schema = RowSchema.of(new Column("N", JDBCType.INTEGER));
        Relay relay = Relay.builder().queue(queue).sourcePermits(1)
                .puller(task -> {
                    if ("poison".equals(task.parameter("kind").orElse(""))) {
                        System.out.println("poison " + task.id() + " attempt " + task.attempt() + ": halting the JVM");
                        System.out.flush();
                        Runtime.getRuntime().halt(137);
                    }
                    return RowCursor.of(schema, List.of(Row.of(schema, 1)), 100);
                })
                .sink((Task task, RowSchema s) -> new SinkSession() {
                    @Override
                    public void write(List<Row> rows) {
                    }

                    @Override
                    public void commit() {
                        try {
                            Files.writeString(done.resolve(task.id()), Integer.toString(task.attempt()), StandardCharsets.UTF_8,
                                    StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.SYNC);
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }

                    @Override
                    public void abort() {
                    }

                    @Override
                    public void close() {
                    }
                })
                .lane(LaneSpec.builder(LANE).retryPolicy(RetryPolicy.builder().maxAttempts(MAX_ATTEMPTS)
                        .initialDelay(Duration.ofMillis(100)).maxDelay(Duration.ofMillis(200)).build()).build())
                .idlePollInterval(Duration.ofMillis(50))
                .build();
        queue.subscribe(Set.of(LANE));
        relay.start();
        while (!Files.exists(stop)) {
            if (!ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false)) {
                Runtime.getRuntime().halt(3);
            }
            Thread.sleep(50);
        }
        relay.shutdown(Duration.ofSeconds(10));
        queue.close();
        System.exit(0);
    }
}
