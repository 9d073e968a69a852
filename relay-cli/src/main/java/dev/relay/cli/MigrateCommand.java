package dev.relay.cli;

import dev.relay.api.Task;
import dev.relay.kafka.KafkaTopics;
import dev.relay.kafka.LayoutMigration;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code relay migrate}: {@link LayoutMigration} from the command line. Not threadsafe (one run). */
@Command(name = "migrate", mixinStandardHelpOptions = true,
        description = {"Moves the tasks of a legacy single task topic into the per-lane topics of a layout, exactly once "
                + "(Kafka transactions) and resumably: run it again after a crash and it carries on where it stopped.",
            "Each task goes to its own lane (--keep-lane) or to the lane its source is routed to (--route); a record that "
                + "does not decode or route goes to the reject topic with the reason. Stop the old producers first: "
                + "records written later are migrated by the next run."})
final class MigrateCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--source-topic", required = true, paramLabel = "TOPIC", description = "the legacy task topic")
    String sourceTopic;

    @Option(names = "--prefix", defaultValue = "relay.", paramLabel = "PREFIX",
            description = "the lane topics' name prefix (default: ${DEFAULT-VALUE}): lane L goes to PREFIX + L")
    String prefix;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Routing routing;

    /** How tasks are routed to lanes: exactly one of the two. */
    static final class Routing {
        @Option(names = "--keep-lane", required = true, description = "each task to the lane it names")
        boolean keepLane;

        @ArgGroup(exclusive = false)
        BySource bySource;
    }

    /** Routing by the task's source. */
    static final class BySource {
        @Option(names = "--route", required = true, paramLabel = "SOURCE=LANE",
                description = "the tasks of a source to a lane; repeatable")
        Map<String, String> routes = new LinkedHashMap<>();

        @Option(names = "--default-lane", paramLabel = "LANE",
                description = "the lane of tasks whose source has no --route (without it they are rejected)")
        String defaultLane;
    }

    @Option(names = "--create-topics", description = "create missing lane topics (with --partitions, --replication-factor, --retention)")
    boolean createTopics;

    @Option(names = "--partitions", defaultValue = "6", paramLabel = "N", description = "partitions of created topics (default: ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = "--replication-factor", defaultValue = "3", paramLabel = "N",
            description = "replication factor of created topics (default: ${DEFAULT-VALUE})")
    short replicationFactor;

    @Option(names = "--retention", defaultValue = "P30D", paramLabel = "DURATION", converter = Converters.PositiveDuration.class,
            description = "retention of created topics, ISO-8601 (default: ${DEFAULT-VALUE})")
    Duration retention;

    @Option(names = "--longest-outage", defaultValue = "P21D", paramLabel = "DURATION", converter = Converters.PositiveDuration.class,
            description = "the longest outage the relay must recover from; --retention must be at least this (default: ${DEFAULT-VALUE})")
    Duration longestOutage;

    @Option(names = "--transactional-id", paramLabel = "ID",
            description = "the migration's transactional id: the same on every run, so a rerun fences a crashed one "
                    + "(default: relay-migration-SOURCE_TOPIC)")
    String transactionalId;

    @Option(names = "--group", paramLabel = "GROUP", description = "the migration's consumer group (default: relay-migration-SOURCE_TOPIC)")
    String group;

    @Option(names = "--reject-topic", paramLabel = "TOPIC", description = "where undecodable or unroutable records go "
            + "(default: SOURCE_TOPIC.rejected)")
    String rejectTopic;

    @Option(names = "--batch-size", defaultValue = "500", paramLabel = "N", description = "records per transaction (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Override
    public Integer call() {
        Converters.Usage usage = message -> new CommandLine.ParameterException(spec.commandLine(), message);
        KafkaTopics topics;
        try {
            topics = KafkaTopics.builder().prefix(prefix).partitions(partitions).replicationFactor(replicationFactor)
                    .retention(retention).longestOutage(longestOutage).build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw usage.error(e.getMessage());
        }
        Function<Task, String> router = router(usage, topics);
        LayoutMigration.Builder b = LayoutMigration.builder().bootstrapServers(kafka.bootstrapServers).sourceTopic(sourceTopic)
                .topics(topics).router(router).createTopics(createTopics);
        Map<String, Object> clientConfig = new LinkedHashMap<>(kafka.clientConfig(usage));
        clientConfig.remove("bootstrap.servers");
        b.clientProperties(clientConfig);
        try {
            if (transactionalId != null) {
                b.transactionalId(transactionalId);
            }
            if (group != null) {
                b.groupId(group);
            }
            if (rejectTopic != null) {
                b.rejectTopic(rejectTopic);
            }
            b.batchSize(batchSize);
        } catch (IllegalArgumentException e) {
            throw usage.error(e.getMessage());
        }
        LayoutMigration migration;
        try {
            migration = b.build();
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw usage.error(e.getMessage());
        }
        LayoutMigration.Result result = migration.run();
        PrintWriter out = spec.commandLine().getOut();
        out.printf("migrated %,d task%s from %s into lane topics, rejected %,d%n", result.migrated(),
                result.migrated() == 1 ? "" : "s", sourceTopic, result.rejected());
        result.perLane().forEach((lane, n) -> out.printf("  %-20s %,d -> %s%n", lane, n, topics.laneTopic(lane)));
        out.flush();
        return RelayCli.OK;
    }

    private Function<Task, String> router(Converters.Usage usage, KafkaTopics topics) {
        if (routing.keepLane) {
            return Task::lane;
        }
        Map<String, String> routes = new LinkedHashMap<>(routing.bySource.routes);
        String fallback = routing.bySource.defaultLane;
        for (String lane : routes.values()) {
            check(usage, "--route", lane);
        }
        if (fallback != null) {
            check(usage, "--default-lane", fallback);
        }
        return task -> {
            String lane = routes.getOrDefault(task.source(), fallback);
            if (lane == null) {
                throw new IllegalArgumentException("no --route for source '" + task.source() + "' and no --default-lane");
            }
            return lane;
        };
    }

    private static void check(Converters.Usage usage, String option, String lane) {
        try {
            KafkaTopics.requireLane(lane);
        } catch (IllegalArgumentException e) {
            throw usage.error(option + ": " + e.getMessage());
        }
    }
}
