package dev.relay.cli;

import dev.relay.kafka.KafkaTopics;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relay lanes}: the lanes of a Kafka layout (one topic per lane, with its retry and dead-letter topics) and
 * their lag for a relay's consumer group. Figures are offsets, read with the admin client: a topic's
 * {@code records} are its retained offsets (end − start), its lag is end − committed (end − start where the group
 * committed nothing). Transaction markers count as offsets, as in Kafka's own tools. Not threadsafe (one run).
 */
@Command(name = "lanes", mixinStandardHelpOptions = true,
        description = {"The lanes of a Kafka layout and their lag: per lane its topic's partitions and retained records, "
                + "the group's lag on the lane and retry topics, and the records in its dead-letter topic.",
            "Lanes are found from the topics named PREFIX + lane (+ .retry, .dlt)."})
final class LanesCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--prefix", defaultValue = "relay.", paramLabel = "PREFIX",
            description = "the layout's topic name prefix (default: ${DEFAULT-VALUE})")
    String prefix;

    @Option(names = "--group", paramLabel = "GROUP", description = "the relay's consumer group, for the lag (without it, "
            + "no lag is shown)")
    String group;

    @Override
    public Integer call() throws Exception {
        Converters.Usage usage = message -> new CommandLine.ParameterException(spec.commandLine(), message);
        KafkaTopics topics;
        try {
            topics = KafkaTopics.builder().prefix(prefix).build();
        } catch (IllegalArgumentException e) {
            throw usage.error("--prefix: " + e.getMessage());
        }
        long timeoutMs = kafka.timeout.toMillis();
        try (Admin admin = Admin.create(kafka.clientConfig(usage))) {
            Set<String> names = get(admin.listTopics().names(), timeoutMs, "list the topics");
            Set<String> lanes = new TreeSet<>();
            for (String name : names) {
                topics.laneOf(name).ifPresent(lanes::add);
                if (name.startsWith(prefix) && name.endsWith(KafkaTopics.DEAD_LETTER_SUFFIX)) {
                    String lane = name.substring(prefix.length(), name.length() - KafkaTopics.DEAD_LETTER_SUFFIX.length());
                    if (topics.laneOf(prefix + lane).isPresent()) {
                        lanes.add(lane);
                    }
                }
            }
            PrintWriter out = spec.commandLine().getOut();
            if (lanes.isEmpty()) {
                out.printf("no lanes: no topic of %s is named %s<lane>%n", kafka.bootstrapServers, prefix);
                out.flush();
                return RelayCli.OK;
            }
            List<String> present = new ArrayList<>();
            for (String lane : lanes) {
                for (String t : topics.topicsOf(lane)) {
                    if (names.contains(t)) {
                        present.add(t);
                    }
                }
            }
            Map<String, TopicDescription> described = get(admin.describeTopics(present).allTopicNames(), timeoutMs, "describe the topics");
            List<TopicPartition> partitions = new ArrayList<>();
            described.values().forEach(d -> d.partitions().forEach(p -> partitions.add(new TopicPartition(d.name(), p.partition()))));
            Map<TopicPartition, Long> start = offsets(admin, partitions, OffsetSpec.earliest(), timeoutMs);
            Map<TopicPartition, Long> end = offsets(admin, partitions, OffsetSpec.latest(), timeoutMs);
            Map<TopicPartition, OffsetAndMetadata> committed = group == null ? Map.of()
                    : get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata(), timeoutMs,
                            "read the committed offsets of group " + group);
            Map<String, long[]> perTopic = new HashMap<>(); // topic -> {records, lag}
            for (TopicPartition tp : partitions) {
                long s = start.get(tp);
                long e = end.get(tp);
                OffsetAndMetadata c = committed == null ? null : committed.get(tp);
                long from = c == null ? s : Math.max(s, c.offset());
                long[] acc = perTopic.computeIfAbsent(tp.topic(), k -> new long[2]);
                acc[0] += e - s;
                acc[1] += Math.max(0, e - from);
            }
            out.printf("%-20s %-30s %10s %12s %12s %12s %13s%n", "lane", "topic", "partitions", "records",
                    group == null ? "lag (no --group)" : "lag", "retry lag", "dead letters");
            TreeMap<String, String> rows = new TreeMap<>();
            for (String lane : lanes) {
                String laneTopic = topics.laneTopic(lane);
                TopicDescription d = described.get(laneTopic);
                long[] main = perTopic.getOrDefault(laneTopic, new long[2]);
                long[] retry = perTopic.getOrDefault(topics.retryTopic(lane), new long[2]);
                long[] dead = perTopic.getOrDefault(topics.deadLetterTopic(lane), new long[2]);
                rows.put(lane, String.format("%-20s %-30s %10s %,12d %12s %12s %,13d", lane,
                        d == null ? "(missing)" : laneTopic, d == null ? "-" : Integer.toString(d.partitions().size()), main[0],
                        group == null ? "-" : String.format("%,d", main[1]),
                        group == null ? "-" : String.format("%,d", retry[1]), dead[0]));
            }
            rows.values().forEach(out::println);
            out.flush();
            return RelayCli.OK;
        }
    }

    private static Map<TopicPartition, Long> offsets(Admin admin, List<TopicPartition> partitions, OffsetSpec spec, long timeoutMs)
            throws InterruptedException {
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> info = get(admin.listOffsets(request).all(), timeoutMs,
                "read the topics' offsets");
        Map<TopicPartition, Long> out = new HashMap<>();
        info.forEach((tp, i) -> out.put(tp, i.offset()));
        return out;
    }

    private static <T> T get(org.apache.kafka.common.KafkaFuture<T> future, long timeoutMs, String what) throws InterruptedException {
        try {
            return future.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot " + what + ": " + RelayCli.describe(e.getCause()), null);
        } catch (TimeoutException e) {
            throw new IllegalStateException("cannot " + what + ": no answer from the cluster within " + timeoutMs + " ms", null);
        }
    }
}
