package dev.relay.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code relay} command: an operator's view of a running relay and its tools, without writing Java.
 *
 * <pre>
 * java -jar relay-cli/target/relay-cli.jar lanes --bootstrap-servers kafka1:9092 --prefix pems. --group pems-relay
 * java -jar relay-cli/target/relay-cli.jar gaps --jdbc-url jdbc:postgresql://db/relay --series 'vds30sec;district=D7' \
 *     --from 2024-03-01T00:00 --to 2024-03-15T00:00 --window PT10M
 * java -jar relay-cli/target/relay-cli.jar manifest --jdbc-url … --completed-since 2024-03-14T00:00:00Z --older-than P2D
 * java -jar relay-cli/target/relay-cli.jar migrate --bootstrap-servers … --source-topic pems.tasks --prefix pems. --keep-lane
 * java -jar relay-cli/target/relay-cli.jar deadletters list --bootstrap-servers … --prefix pems. --lane config
 * java -jar relay-cli/target/relay-cli.jar deadletters replay --bootstrap-servers … --prefix pems. --lane config --id 0@17
 * </pre>
 *
 * <p>Exit status: {@value #OK} done; {@value #FAILED} the command failed (a server not reachable, a migration that
 * stopped); {@value #USAGE} a bad command line (the message names the bad argument). Passwords are never taken
 * on the command line: they are read from an environment variable whose name is given.
 *
 * <p>{@link #run} is threadsafe in the sense that each call parses and runs its own command objects.
 */
@Command(name = "relay", mixinStandardHelpOptions = true, versionProvider = RelayCli.Version.class,
        description = "Operate relay: lanes and their lag on Kafka, gaps and backfill manifests from a JDBC ledger, "
                + "the layout migration, dead letters on Kafka.",
        subcommands = {LanesCommand.class, GapsCommand.class, ManifestCommand.class, MigrateCommand.class,
                DeadLettersCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:done", "1:the command failed (the message says why)", "2:a bad command line"})
public final class RelayCli implements Runnable {

    /** Exit status: the command did what it was asked. */
    public static final int OK = 0;
    /** Exit status: the command failed (a server not reachable, an operation that stopped). */
    public static final int FAILED = 1;
    /** Exit status: a bad command line. */
    public static final int USAGE = 2;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Picocli creates it. */
    public RelayCli() {
    }

    /**
     * Runs a command and exits with its status.
     *
     * @param args the command line; {@code --help} lists the commands
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs a command.
     *
     * @param args the command line
     * @param out where results go
     * @param err where errors and usage messages go
     * @return the exit status: {@link #OK}, {@link #FAILED} or {@link #USAGE}
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cmd = new CommandLine(new RelayCli());
        cmd.setOut(new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        cmd.setErr(new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true));
        cmd.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName() + ": " + describe(e));
            return FAILED;
        });
        cmd.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? USAGE : FAILED);
        return cmd.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: "
                + String.join(", ", spec.subcommands().keySet()));
    }

    /** The message of a failure and its causes, without stack traces. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        Throwable c = e.getCause();
        while (c != null && c != e) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append(": ").append(c.getMessage());
            }
            e = c;
            c = c.getCause();
        }
        return sb.toString();
    }

    /** The version from the jar's manifest (Implementation-Version). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = RelayCli.class.getPackage().getImplementationVersion();
            return new String[] {"relay " + (v == null ? "(development build)" : v)};
        }
    }
}
