package dev.relay.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** The command line itself, without servers: help everywhere, bad arguments end with exit status 2 and a clear message. */
class RelayCliTest {

    private static final String GAPS = "gaps --jdbc-url jdbc:postgresql://127.0.0.1:1/none --series vds30sec;district=D7 "
            + "--from 2024-03-01 --to 2024-03-02 --window PT10M";
    private static final String GAPS_FROM = "gaps --jdbc-url jdbc:postgresql://127.0.0.1:1/none --series vds30sec;district=D7 --from";
    private static final String MIGRATE = "migrate --bootstrap-servers 127.0.0.1:1 --source-topic legacy";

    @TestFactory
    Stream<DynamicTest> help_everyCommand_printsItsUsageAndExits0() {
        List<String> commands = new ArrayList<>(new CommandLine(new RelayCli()).getSubcommands().keySet());
        commands.remove("help");
        assertTrue(commands.containsAll(List.of("lanes", "gaps", "manifest", "migrate")), commands.toString());
        commands.add(0, "");
        return commands.stream().map(command -> DynamicTest.dynamicTest(command.isEmpty() ? "relay" : command, () -> {
            Cli cli = command.isEmpty() ? Cli.run("--help") : Cli.run(command, "--help");
            assertEquals(RelayCli.OK, cli.status(), cli.toString());
            assertTrue(cli.out().startsWith("Usage: relay" + (command.isEmpty() ? "" : " " + command)), cli.toString());
            assertTrue(cli.out().contains("--help"), cli.toString());
            assertEquals("", cli.err());
        }));
    }

    @Test
    void help_theHelpCommand_printsACommandsUsage() {
        Cli cli = Cli.run("help", "gaps");
        assertEquals(RelayCli.OK, cli.status(), cli.toString());
        assertTrue(cli.out().startsWith("Usage: relay gaps"), cli.toString());
    }

    @Test
    void version_printsTheVersion() {
        Cli cli = Cli.run("--version");
        assertEquals(RelayCli.OK, cli.status(), cli.toString());
        assertTrue(cli.out().startsWith("relay "), cli.toString());
    }

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource(delimiter = '|', value = {
        " | a command is required: lanes, gaps, manifest, migrate",
        "bogus | Unmatched argument at index 0: 'bogus'",
        "lanes | Missing required option: '--bootstrap-servers=HOST:PORT[,…]'",
        "lanes --bootstrap-servers x:9092 --timeout 5s | '5s' is not an ISO-8601 duration",
        "lanes --bootstrap-servers x:9092 --timeout PT0S | 'PT0S' must be longer than zero",
        "lanes --bootstrap-servers x:9092 --prefix bad/prefix | --prefix:",
        "lanes --bootstrap-servers x:9092 --client-property-env sasl.jaas.config=RELAY_CLI_TEST_UNSET | the environment variable RELAY_CLI_TEST_UNSET is not set",
        GAPS_FROM + " 2024-03-03 --to 2024-03-02 --window PT10M | --from 2024-03-03T00:00 must be before --to 2024-03-02T00:00",
        GAPS_FROM + " 2024-03-01 --to 2024-03-02 --window PT7M | --window PT7M must be whole seconds dividing a day",
        GAPS_FROM + " yesterday --to 2024-03-02 --window PT10M | 'yesterday' is not a local date or date-time",
        GAPS + " --series ;x | ';x' is not a series key",
        GAPS + " --ledger-table drop;table | --ledger-table 'drop;table' is not a plain",
        "gaps --jdbc-url jdbc:h2:mem:x --from 2024-03-01 --to 2024-03-02 --window PT10M | Missing required option: '--series=KEY'",
        "manifest --jdbc-url jdbc:h2:mem:x --completed-since 2024 | '2024' is not an instant in UTC",
        "manifest --jdbc-url jdbc:h2:mem:x --completed-since 2024-03-02T00:00:00Z --completed-until 2024-03-01T00:00:00Z | must be before --completed-until",
        MIGRATE + " | Missing required argument (specify one of these): (--keep-lane | (--route=SOURCE=LANE",
        MIGRATE + " --keep-lane --route a=b | mutually exclusive",
        MIGRATE + " --route a=bad/lane | --route:",
        MIGRATE + " --keep-lane --retention P1D | retention PT24H is shorter than the longest expected outage PT504H",
        MIGRATE + " --keep-lane --batch-size 0 | batchSize must be in 1..100000 but was 0",
    })
    void badArguments_exit2WithAMessageNamingThem(String args, String message) {
        Cli cli = Cli.run(args == null ? new String[0] : args.trim().split(" +"));
        assertEquals(RelayCli.USAGE, cli.status(), cli.toString());
        assertTrue(cli.err().contains(message), cli.toString());
        assertTrue(cli.err().contains("Usage: relay"), "the usage follows the message: " + cli);
        assertFalse(cli.err().contains("Exception"), cli.toString());
        assertFalse(cli.err().contains("\tat "), cli.toString());
        assertEquals("", cli.out());
    }

    @Test
    void gaps_ledgerDatabaseUnreachable_exit1NamingTheProblem() {
        Cli cli = Cli.run(GAPS.split(" "));
        assertEquals(RelayCli.FAILED, cli.status(), cli.toString());
        assertTrue(cli.err().startsWith("relay gaps: cannot connect to the ledger database: "), cli.toString());
        assertFalse(cli.err().contains("\tat "), cli.toString());
    }

    @Test
    void lanes_clusterUnreachable_exit1AfterTheTimeout() {
        Cli cli = Cli.run("lanes", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "PT2S");
        assertEquals(RelayCli.FAILED, cli.status(), cli.toString());
        assertTrue(cli.err().startsWith("relay lanes: cannot list the topics: "), cli.toString());
    }
}
