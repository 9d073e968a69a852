package dev.relay.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.kafka.KafkaTaskQueue;
import dev.relay.kafka.KafkaTopics;
import dev.relay.kafka.TaskRecordCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A task that kills its relay process every time it runs (the puller halts the JVM, as {@code kill -9} from
 * inside the task would) ends in the dead-letter topic after the lane's maximum attempts, with a reason naming
 * them, and the lane's other tasks all complete — the crash count survives the crashes (issue 14).
 *
 * <p>The relay runs in a child JVM ({@link CrashLoopChild}) against a broker in a JVM of its own; the test
 * restarts the child whenever it dies, and counts the deaths. No PostgreSQL needed.
 */
class PoisonCrashLoopTest {

    private static Path work;
    private static BrokerProcess broker;

    @BeforeAll
    static void startBroker() throws Exception {
        work = Files.createTempDirectory("relay-crashloop");
        broker = new BrokerProcess(work.resolve("broker"));
        broker.start();
    }

    @AfterAll
    static void stopBroker() throws IOException {
        if (broker != null) {
            broker.close();
        }
        if (work != null) {
            try (Stream<Path> files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    void taskThatKillsTheProcessEveryTime_isDeadLetteredAfterTheLanesAttempts_othersComplete() throws Exception {
        crashLoop("classic");
    }

    /** The same on the share-group backend: the broker's delivery count survives the crashes. */
    @Test
    void shareGroups_taskThatKillsTheProcessEveryTime_isDeadLetteredAfterTheLanesAttempts_othersComplete() throws Exception {
        crashLoop("share");
    }

    private void crashLoop(String backend) throws Exception {
        String prefix = "crash-" + backend + "-" + UUID.randomUUID().toString().substring(0, 6) + ".";
        String group = prefix + "g";
        Path dir = Files.createDirectories(work.resolve(prefix + "run"));
        Path done = Files.createDirectories(dir.resolve("done"));
        Path stop = dir.resolve("stop");
        KafkaTopics topics = CrashLoopChild.topics(prefix);
        // the poison first, then eleven healthy tasks: in the first life every one of them is a bystander
        List<Task> tasks = new ArrayList<>();
        LocalDate day = LocalDate.of(2024, 11, 1);
        tasks.add(Task.builder(CrashLoopChild.LANE, "config").scope(Snapshot.of(day)).parameter("table", "CONTROLLER_CONFIG_LOG")
                .parameter("kind", "poison").build());
        for (int i = 0; i < 11; i++) {
            tasks.add(Task.builder(CrashLoopChild.LANE, "config").scope(Snapshot.of(day.plusDays(i + 1)))
                    .parameter("table", "DETECTOR_CONFIG").parameter("kind", "healthy").build());
        }
        Task poison = tasks.get(0);
        try (KafkaTaskQueue planner = KafkaTaskQueue.builder().bootstrapServers(broker.bootstrapServers()).groupId(group + "-planner")
                .topics(topics).createTopics(true).build()) {
            planner.offerAll(tasks);
        }
        Set<String> healthy = new HashSet<>();
        tasks.subList(1, tasks.size()).forEach(t -> healthy.add(t.id()));

        long t0 = System.nanoTime();
        int starts = 0;
        int deaths = 0;
        Map<String, String> dead = Map.of();
        Process child = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
            while (System.nanoTime() < deadline) {
                if (child == null || !child.isAlive()) {
                    if (child != null) {
                        deaths++;
                        assertEquals(137, child.exitValue(), "the child died of the poison; log: " + dir.resolve("child.log"));
                    }
                    child = start(backend, prefix, group, done, stop, dir);
                    starts++;
                }
                dead = deadLetters(topics.deadLetterTopic(CrashLoopChild.LANE));
                if (dead.containsKey(poison.id()) && completed(done).containsAll(healthy)) {
                    break;
                }
                Thread.sleep(200);
            }
            Files.writeString(stop, "stop");
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not stop");
        } finally {
            if (child != null && child.isAlive()) {
                child.destroyForcibly();
            }
        }
        Set<String> completed = completed(done);
        System.out.printf("[crash-loop %s] %d tasks (1 poison); child started %d times, killed by the poison %d times;"
                + " dead letters %s; healthy completed %d/%d; %d ms%n", backend, tasks.size(), starts, deaths, dead,
                healthy.stream().filter(completed::contains).count(), healthy.size(), (System.nanoTime() - t0) / 1_000_000);
        assertEquals(Set.of(poison.id()), dead.keySet(), "the poison, and only it, is dead-lettered");
        String reason = dead.get(poison.id());
        assertTrue(reason.contains("attempt " + (CrashLoopChild.MAX_ATTEMPTS + 1)) && reason.contains(CrashLoopChild.MAX_ATTEMPTS + " attempts"),
                "the reason names the attempts: " + reason);
        assertEquals(CrashLoopChild.MAX_ATTEMPTS, deaths, "the poison ran exactly the lane's attempts, each killing the process");
        assertTrue(completed.containsAll(healthy), "every healthy task completed");
        assertTrue(!completed.contains(poison.id()));
    }

    private static Process start(String backend, String prefix, String group, Path done, Path stop, Path dir) throws IOException {
        return new ProcessBuilder(Jvm.command("256m", CrashLoopChild.class.getName(), List.of(broker.bootstrapServers(), prefix,
                group, backend, done.toString(), stop.toString(), Long.toString(ProcessHandle.current().pid()))))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("child.log").toFile()))
                .start();
    }

    private static Set<String> completed(Path done) throws IOException {
        try (Stream<Path> files = Files.list(done)) {
            Set<String> ids = new HashSet<>();
            files.forEach(f -> ids.add(f.getFileName().toString()));
            return ids;
        }
    }

    /** @return task id → dead-letter reason, from the dead-letter topic */
    private static Map<String, String> deadLetters(String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Map<String, String> out = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            c.partitionsFor(topic, Duration.ofSeconds(10)).forEach(pi -> parts.add(new TopicPartition(topic, pi.partition())));
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(10));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                    Header h = r.headers().lastHeader(TaskRecordCodec.HEADER_DLT_REASON);
                    out.put(new String(r.key(), StandardCharsets.UTF_8), h == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }
}
