package dev.relay.cli;

import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.jdbi.v3.core.Jdbi;
import picocli.CommandLine.Option;

/** How to reach a JDBC completion ledger: shared by the commands that read one. Not threadsafe (one command's options). */
final class LedgerOptions {

    @Option(names = "--jdbc-url", required = true, paramLabel = "URL",
            description = "the ledger's database, e.g. jdbc:postgresql://db:5432/relay (PostgreSQL and H2 drivers are in "
                    + "the jar; put others, such as ojdbc11, on the class path)")
    String url;

    @Option(names = "--user", paramLabel = "NAME", description = "the database user")
    String user;

    @Option(names = "--password-env", paramLabel = "ENV_VAR", defaultValue = "RELAY_LEDGER_PASSWORD",
            description = "the environment variable holding the password (default: ${DEFAULT-VALUE}; none if it is unset)")
    String passwordVariable;

    @Option(names = "--ledger-table", paramLabel = "TABLE", defaultValue = JdbcCompletionLedger.DEFAULT_TABLE,
            description = "the ledger table, optionally schema-qualified (default: ${DEFAULT-VALUE})")
    String table;

    /**
     * @param usage reports a bad option
     * @return the ledger's table name, checked
     */
    String table(Converters.Usage usage) {
        if (!JdbcCompletionLedger.TABLE_NAME.matcher(table).matches()) {
            throw usage.error("--ledger-table '" + table + "' is not a plain (optionally schema-qualified) table name");
        }
        return table;
    }

    /**
     * @return a Jdbi on the ledger's database, after checking that it answers
     * @throws IllegalStateException naming the problem (not the URL, which may hold credentials) if it does not
     */
    Jdbi connect() {
        Properties properties = new Properties();
        if (user != null) {
            properties.setProperty("user", user);
        }
        String password = System.getenv(passwordVariable);
        if (password != null) {
            properties.setProperty("password", password);
        }
        try (Connection c = DriverManager.getConnection(url, properties)) {
            c.isValid(10);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot connect to the ledger database: " + e.getMessage()
                    + (e.getSQLState() == null ? "" : " (SQLState " + e.getSQLState() + ")"), null);
        }
        return Jdbi.create(url, properties);
    }
}
