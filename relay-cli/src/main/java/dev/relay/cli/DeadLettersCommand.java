package dev.relay.cli;

import dev.relay.api.DeadLetter;
import dev.relay.api.Task;
import dev.relay.kafka.KafkaDeadLetters;
import dev.relay.kafka.KafkaTopics;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relay deadletters list | replay | purge}: a lane's dead letters on Kafka, through
 * {@link KafkaDeadLetters} (no consumer group is joined, so a running relay is not disturbed). Not threadsafe (one
 * run).
 */
@Command(name = "deadletters", mixinStandardHelpOptions = true,
        description = {"A lane's dead letters on Kafka: list them, replay chosen ones into a lane (attempt 1, the same "
                + "task id), purge them.",
            "Dead letters are named by their entry id, partition@offset in the lane's dead-letter topic "
                + "(PREFIX + lane + .dlt), as 'list' shows them."},
        subcommands = {DeadLettersCommand.ListCommand.class, DeadLettersCommand.ReplayCommand.class,
            DeadLettersCommand.PurgeCommand.class})
final class DeadLettersCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: "
                + String.join(", ", spec.subcommands().keySet()));
    }

    /** The options every subcommand has: the cluster, the layout, the lane. */
    static final class Where {
        @Mixin
        KafkaOptions kafka;

        @Option(names = "--prefix", defaultValue = "relay.", paramLabel = "PREFIX",
                description = "the layout's topic name prefix (default: ${DEFAULT-VALUE})")
        String prefix;

        @Option(names = "--lane", required = true, paramLabel = "LANE", description = "the lane whose dead letters these are")
        String lane;

        /** Checks the lane and prefix, then builds the dead letters of the layout. */
        KafkaDeadLetters deadLetters(Converters.Usage usage) {
            KafkaTopics topics;
            try {
                topics = KafkaTopics.builder().prefix(prefix).build();
            } catch (IllegalArgumentException e) {
                throw usage.error("--prefix: " + e.getMessage());
            }
            requireLane(usage, "--lane", lane);
            KafkaDeadLetters.Builder b = KafkaDeadLetters.builder().bootstrapServers(kafka.bootstrapServers).topics(topics)
                    .timeout(kafka.timeout).clientId("relay-cli-deadletters");
            kafka.clientConfig(usage).forEach((key, value) -> {
                if (!key.equals("bootstrap.servers")) {
                    b.clientProperty(key, value);
                }
            });
            return b.build();
        }
    }

    /** Which dead letters: exactly one of the three. */
    static final class Selection {
        @Option(names = "--id", required = true, paramLabel = "PARTITION@OFFSET", split = ",",
                description = "a dead letter's entry id, as listed; repeatable or comma-separated")
        List<String> ids;

        @Option(names = "--task", required = true, paramLabel = "TASK_ID", split = ",",
                description = "every dead letter of a task id; repeatable or comma-separated")
        List<String> tasks;

        @Option(names = "--all", required = true, description = "every dead letter of the lane")
        boolean all;
    }

    static void requireLane(Converters.Usage usage, String option, String lane) {
        try {
            KafkaTopics.requireLane(lane);
        } catch (IllegalArgumentException e) {
            throw usage.error(option + ": " + e.getMessage());
        }
    }

    static Converters.Usage usage(CommandLine.Model.CommandSpec spec) {
        return message -> new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /**
     * The entry ids of a selection (not for {@code --all}): {@code --id} as given, {@code --task} looked up in the
     * listing; a task id without a dead letter is a usage error naming it.
     */
    static List<String> ids(Converters.Usage usage, Selection selection, KafkaDeadLetters dead, String lane) {
        if (selection.ids != null) {
            return List.copyOf(new LinkedHashSet<>(selection.ids));
        }
        Set<String> wanted = new LinkedHashSet<>(selection.tasks);
        List<String> ids = new ArrayList<>();
        Set<String> found = new LinkedHashSet<>();
        for (DeadLetter d : dead.list(lane)) {
            if (d.task() != null && wanted.contains(d.task().id())) {
                ids.add(d.id());
                found.add(d.task().id());
            }
        }
        wanted.removeAll(found);
        if (!wanted.isEmpty()) {
            throw usage.error("--task: no dead letter of lane '" + lane + "' holds task " + String.join(", ", wanted)
                    + "; nothing was done");
        }
        return ids;
    }

    /** {@code relay deadletters list}. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists a lane's dead letters, oldest first: entry id, task id, source and scope, attempts, when "
                    + "and why. A record that is not a task (malformed, dead-lettered as such) is listed with '-' for its "
                    + "task.")
    static final class ListCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Where where;

        @Override
        public Integer call() {
            KafkaDeadLetters dead = where.deadLetters(usage(spec));
            List<DeadLetter> letters = dead.list(where.lane);
            PrintWriter out = spec.commandLine().getOut();
            if (letters.isEmpty()) {
                out.printf("no dead letters in lane '%s' (%s)%n", where.lane, dead.topics().deadLetterTopic(where.lane));
                out.flush();
                return RelayCli.OK;
            }
            out.printf("%-12s %-32s %-40s %8s  %-24s  %s%n", "id", "task", "source and scope", "attempts", "dead since",
                    "reason");
            for (DeadLetter d : letters) {
                Task t = d.task();
                out.printf("%-12s %-32s %-40s %8d  %-24s  %s%n", d.id(), d.taskId(),
                        t == null ? "-" : t.source() + " " + t.scope() + (t.parameters().isEmpty() ? "" : " " + t.parameters()),
                        d.attempts(), d.at(), d.reason().replace('\n', ' '));
            }
            out.printf("%,d dead letter%s in lane '%s'%n", letters.size(), letters.size() == 1 ? "" : "s", where.lane);
            out.flush();
            return RelayCli.OK;
        }
    }

    /** {@code relay deadletters replay}. */
    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Offers chosen dead letters' tasks again, into their lane or --into another: attempt 1, the same "
                    + "task id (the sinks are idempotent on it). An entry leaves the dead letters only once its task was "
                    + "acknowledged, so a replay that fails half way can be run again.",
                "With --all, dead letters that hold no task (malformed records) are skipped and named; purge them."})
    static final class ReplayCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Where where;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Selection selection;

        @Option(names = "--into", paramLabel = "LANE", description = "the lane to offer the tasks to (default: --lane)")
        String into;

        @Override
        public Integer call() {
            Converters.Usage usage = usage(spec);
            String target = into == null ? where.lane : into;
            requireLane(usage, "--into", target);
            KafkaDeadLetters dead = where.deadLetters(usage);
            List<String> ids;
            List<String> skipped = new ArrayList<>();
            if (selection.all) {
                ids = new ArrayList<>();
                for (DeadLetter d : dead.list(where.lane)) {
                    (d.replayable() ? ids : skipped).add(d.id());
                }
            } else {
                ids = ids(usage, selection, dead, where.lane);
            }
            PrintWriter out = spec.commandLine().getOut();
            List<DeadLetter> replayed = List.of();
            if (!ids.isEmpty()) {
                try {
                    replayed = dead.replay(where.lane, ids, target);
                } catch (IllegalArgumentException e) {
                    throw usage.error(e.getMessage());
                }
            }
            out.printf("replayed %,d dead letter%s of lane '%s' into lane '%s' (%s)%n", replayed.size(),
                    replayed.size() == 1 ? "" : "s", where.lane, target, dead.topics().laneTopic(target));
            for (DeadLetter d : replayed) {
                out.printf("  %-12s task %s%n", d.id(), d.taskId());
            }
            if (!skipped.isEmpty()) {
                out.printf("skipped %,d that hold no task (purge them): %s%n", skipped.size(), String.join(", ", skipped));
            }
            out.flush();
            return RelayCli.OK;
        }
    }

    /** {@code relay deadletters purge}. */
    @Command(name = "purge", mixinStandardHelpOptions = true,
            description = {"Removes chosen dead letters for good. Kafka topics are append-only: a purge writes a marker "
                    + "record for each entry (it is never listed or replayed again) and deletes the topic's records "
                    + "before the oldest dead letter left in each partition (delete-records); --all deletes every "
                    + "record up to the end as of now. Dead letters written meanwhile are kept.",
                "Deleting records needs the DELETE permission on the dead-letter topic."})
    static final class PurgeCommand implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Where where;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Selection selection;

        @Override
        public Integer call() {
            Converters.Usage usage = usage(spec);
            KafkaDeadLetters dead = where.deadLetters(usage);
            PrintWriter out = spec.commandLine().getOut();
            if (selection.all) {
                long n = dead.purgeAll(where.lane);
                out.printf("purged %,d dead letter%s of lane '%s' (all)%n", n, n == 1 ? "" : "s", where.lane);
                out.flush();
                return RelayCli.OK;
            }
            List<String> ids = ids(usage, selection, dead, where.lane);
            List<DeadLetter> purged;
            try {
                purged = dead.purge(where.lane, ids);
            } catch (IllegalArgumentException e) {
                throw usage.error(e.getMessage());
            }
            out.printf("purged %,d dead letter%s of lane '%s'%n", purged.size(), purged.size() == 1 ? "" : "s", where.lane);
            for (DeadLetter d : purged) {
                out.printf("  %-12s task %s%n", d.id(), d.taskId());
            }
            out.flush();
            return RelayCli.OK;
        }
    }
}
