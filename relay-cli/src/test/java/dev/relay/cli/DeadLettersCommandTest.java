package dev.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.kafka.KafkaTopics;
import dev.relay.kafka.TaskRecordCodec;
import dev.relay.kafka.TestBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code deadletters list | replay | purge}: against a real broker (relay-kafka's in-process KRaft broker) for what
 * they do, without one for help and bad arguments.
 */
class DeadLettersCommandTest {

    private static final String BAD = "deadletters replay --bootstrap-servers 127.0.0.1:1 --lane config";

    private static Task task(String lane, int i, int attempt) {
        return Task.builder(lane, "vds30sec").scope(Window.starting(LocalDateTime.of(2024, 3, 14, 0, 0).plusMinutes(10L * i),
                Duration.ofMinutes(10))).parameter("district", "D7").attempt(attempt).build();
    }

    /** A dead letter with the headers the queues write, to partition 0. */
    private static ProducerRecord<byte[], byte[]> deadLetter(String topic, String key, byte[] value, String reason, Instant at) {
        RecordHeaders h = new RecordHeaders();
        h.add(TaskRecordCodec.HEADER_DLT_REASON, reason.getBytes(StandardCharsets.UTF_8));
        h.add(TaskRecordCodec.HEADER_DLT_TIME, at.toString().getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(topic, 0, null, key.getBytes(StandardCharsets.UTF_8), value, h);
    }

    private static String[] args(String command, String prefix, String... more) {
        List<String> out = new ArrayList<>(List.of("deadletters", command, "--bootstrap-servers", TestBroker.bootstrapServers(),
                "--prefix", prefix));
        out.addAll(List.of(more));
        return out.toArray(String[]::new);
    }

    @Test
    void listReplayPurge_againstABroker_doWhatTheySayAndNameWhatIsUnknown() throws Exception {
        String prefix = TestBroker.unique("dlcli") + ".";
        KafkaTopics topics = KafkaTopics.builder().prefix(prefix).partitions(1).replicationFactor(1).build();
        try (Admin admin = TestBroker.admin()) {
            topics.create(admin, List.of("config", "backfill"), Duration.ofSeconds(60));
        }
        Task a = task("config", 1, 4);
        Task b = task("config", 2, 1);
        Task c = task("config", 3, 2);
        Instant t = Instant.parse("2024-03-14T19:00:00Z");
        String dlt = topics.deadLetterTopic("config");
        TestBroker.sendAll(List.of(
                deadLetter(dlt, a.id(), TaskRecordCodec.encode(a), "sink failed on attempt 4", t),
                deadLetter(dlt, "junk", new byte[] {9, 9}, "malformed task record: bad magic byte 0x09", t.plusSeconds(1)),
                deadLetter(dlt, b.id(), TaskRecordCodec.encode(b), "not retryable: integer = character varying", t.plusSeconds(2)),
                deadLetter(dlt, c.id(), TaskRecordCodec.encode(c), "poison", t.plusSeconds(3)),
                deadLetter(topics.deadLetterTopic("backfill"), c.id(), TaskRecordCodec.encode(c.withLane("backfill")), "x", t)));

        Cli list = Cli.run(args("list", prefix, "--lane", "config"));
        assertEquals(RelayCli.OK, list.status(), list.toString());
        List<String> lines = list.out().lines().toList();
        assertEquals(6, lines.size(), list.toString());
        assertTrue(lines.get(0).startsWith("id "), lines.get(0));
        assertTrue(lines.get(1).startsWith("0@0 ") && lines.get(1).contains(a.id()) && lines.get(1).contains(" 4  2024-03-14T19:00:00Z")
                && lines.get(1).endsWith("sink failed on attempt 4"), lines.get(1));
        assertTrue(lines.get(2).startsWith("0@1 ") && lines.get(2).contains(" - ") && lines.get(2).endsWith("bad magic byte 0x09"),
                lines.get(2));
        assertEquals("4 dead letters in lane 'config'", lines.get(5));

        Cli unknown = Cli.run(args("replay", prefix, "--lane", "config", "--id", "0@0,7@7"));
        assertEquals(RelayCli.USAGE, unknown.status(), unknown.toString());
        assertTrue(unknown.err().contains("[7@7]") && unknown.err().contains("nothing was replayed"), unknown.toString());
        Cli noTask = Cli.run(args("replay", prefix, "--lane", "config", "--task", "0123456789abcdef0123456789abcdef"));
        assertEquals(RelayCli.USAGE, noTask.status(), noTask.toString());
        assertTrue(noTask.err().contains("no dead letter of lane 'config' holds task 0123456789abcdef0123456789abcdef"), noTask.toString());
        assertEquals(0, TestBroker.readAll(topics.laneTopic("config")).size(), "nothing was replayed");

        Cli moved = Cli.run(args("replay", prefix, "--lane", "config", "--task", a.id(), "--into", "backfill"));
        assertEquals(RelayCli.OK, moved.status(), moved.toString());
        assertTrue(moved.out().startsWith("replayed 1 dead letter of lane 'config' into lane 'backfill'"), moved.toString());
        List<Task> backfill = TestBroker.readAll(topics.laneTopic("backfill")).stream().map(r -> TaskRecordCodec.decode(r.value())).toList();
        assertEquals(List.of(a.withLane("backfill").withAttempt(1)), backfill, "the same task id, attempt 1, in backfill");

        Cli all = Cli.run(args("replay", prefix, "--lane", "config", "--all"));
        assertEquals(RelayCli.OK, all.status(), all.toString());
        assertTrue(all.out().startsWith("replayed 2 dead letters of lane 'config' into lane 'config'"), all.toString());
        assertTrue(all.out().contains("skipped 1 that hold no task (purge them): 0@1"), all.toString());
        List<String> replayed = TestBroker.readAll(topics.laneTopic("config")).stream()
                .map(r -> TaskRecordCodec.decode(r.value())).map(x -> x.id() + "#" + x.attempt()).sorted().toList();
        assertEquals(Stream.of(b.id() + "#1", c.id() + "#1").sorted().toList(), replayed);

        Cli left = Cli.run(args("list", prefix, "--lane", "config"));
        assertEquals(RelayCli.OK, left.status(), left.toString());
        assertTrue(left.out().contains("1 dead letter in lane 'config'"), left.toString());
        Cli purge = Cli.run(args("purge", prefix, "--lane", "config", "--id", "0@1"));
        assertEquals(RelayCli.OK, purge.status(), purge.toString());
        assertTrue(purge.out().startsWith("purged 1 dead letter of lane 'config'"), purge.toString());
        Cli empty = Cli.run(args("list", prefix, "--lane", "config"));
        assertEquals("no dead letters in lane 'config' (" + dlt + ")", empty.out().strip(), empty.toString());

        Cli purgeAll = Cli.run(args("purge", prefix, "--lane", "backfill", "--all"));
        assertEquals(RelayCli.OK, purgeAll.status(), purgeAll.toString());
        assertTrue(purgeAll.out().startsWith("purged 1 dead letter of lane 'backfill' (all)"), purgeAll.toString());
        assertEquals(1, TestBroker.readAll(topics.laneTopic("backfill")).size(), "the lane's tasks are not touched");
    }

    @TestFactory
    Stream<DynamicTest> help_everyDeadLettersCommand_printsItsUsageAndExits0() {
        return Stream.of("", " list", " replay", " purge").map(sub -> DynamicTest.dynamicTest("deadletters" + sub, () -> {
            List<String> a = new ArrayList<>(List.of(("deadletters" + sub).split(" ")));
            a.add("--help");
            Cli cli = Cli.run(a.toArray(String[]::new));
            assertEquals(RelayCli.OK, cli.status(), cli.toString());
            assertTrue(cli.out().startsWith("Usage: relay deadletters" + sub), cli.toString());
            assertTrue(cli.out().contains("--help"), cli.toString());
            assertEquals("", cli.err());
        }));
    }

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource(delimiter = '|', value = {
        "deadletters | a subcommand is required: list, replay, purge",
        "deadletters list --bootstrap-servers 127.0.0.1:1 | Missing required option: '--lane=LANE'",
        "deadletters list --lane config | Missing required option: '--bootstrap-servers",
        "deadletters list --bootstrap-servers 127.0.0.1:1 --lane bad/lane | --lane: ",
        "deadletters list --bootstrap-servers 127.0.0.1:1 --lane x_dlt | --lane: lane name 'x_dlt' ends in _retry or _dlt",
        "deadletters list --bootstrap-servers 127.0.0.1:1 --lane config --prefix bad/prefix | --prefix: ",
        BAD + " | Missing required argument (specify one of these): (--id=PARTITION@OFFSET",
        BAD + " --id 0@1 --all | mutually exclusive",
        BAD + " --all --into bad/lane | --into: ",
        "deadletters purge --bootstrap-servers 127.0.0.1:1 --lane config --task | Missing required parameter for option '--task'",
    })
    void badArguments_exit2WithAMessageNamingThem(String args, String message) {
        Cli cli = Cli.run(args.trim().split(" +"));
        assertEquals(RelayCli.USAGE, cli.status(), cli.toString());
        assertTrue(cli.err().contains(message), cli.toString());
        assertTrue(cli.err().contains("Usage: relay deadletters"), "the usage follows the message: " + cli);
        assertFalse(cli.err().contains("\tat "), cli.toString());
        assertEquals("", cli.out());
    }

    @Test
    void list_clusterUnreachable_exit1NamingTheCommandAndTheProblem() {
        Cli cli = Cli.run("deadletters", "list", "--bootstrap-servers", "127.0.0.1:1", "--lane", "config", "--timeout", "PT1S");
        assertEquals(RelayCli.FAILED, cli.status(), cli.toString());
        assertTrue(cli.err().startsWith("relay deadletters list: could not read the dead letters of lane 'config' (relay.config.dlt)"),
                cli.toString());
        assertFalse(cli.err().contains("\tat "), cli.toString());
    }
}
