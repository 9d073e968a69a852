package dev.relay.jdbc;

import dev.relay.api.PullException;
import dev.relay.api.RelayException;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkException;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.SQLException;
import java.time.LocalDateTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Credentials never reach an exception message or a printed stack trace. */
class RedactionTest {

    static final String SECRET = "hunter2";

    @Test
    void redact_jdbcUrls_masksEveryPasswordForm() {
        assertEquals("jdbc:postgresql://db:5432/pems?user=relay&password=***&ssl=true",
                Redactor.redact("jdbc:postgresql://db:5432/pems?user=relay&password=" + SECRET + "&ssl=true"));
        assertEquals("jdbc:h2:mem:x;USER=sa;PASSWORD=***;MODE=Oracle",
                Redactor.redact("jdbc:h2:mem:x;USER=sa;PASSWORD=" + SECRET + ";MODE=Oracle"));
        assertEquals("jdbc:oracle:thin:scott/***@//db:1521/PEMS",
                Redactor.redact("jdbc:oracle:thin:scott/" + SECRET + "@//db:1521/PEMS"));
        assertEquals("jdbc:postgresql://relay:***@db/pems", Redactor.redact("jdbc:postgresql://relay:" + SECRET + "@db/pems"));
        assertEquals("jdbc:snowflake://acct.snowflakecomputing.com/?user=relay&private_key_pwd=***&warehouse=WH",
                Redactor.redact("jdbc:snowflake://acct.snowflakecomputing.com/?user=relay&private_key_pwd=" + SECRET
                        + "&warehouse=WH"));
        // the PostgreSQL driver echoes unparsed user info as a host name
        assertEquals("UnknownHostException: relay:***@127.0.0.1",
                Redactor.redact("UnknownHostException: relay:" + SECRET + "@127.0.0.1"));
        assertEquals("password: *** and Password=***", Redactor.redact("password: " + SECRET + " and Password=" + SECRET));
        assertEquals("syntax error, unexpected token: SELECT", Redactor.redact("syntax error, unexpected token: SELECT"));
        assertEquals("no secrets here: SAMPLE_TIME >= ?", Redactor.redact("no secrets here: SAMPLE_TIME >= ?"));
    }

    @Test
    void sanitize_sqlExceptionChain_keepsStateAndCodeButNoSecret() {
        SQLException inner = new SQLException("connect failed for url jdbc:x://h/db?password=" + SECRET, "08001", 17);
        RuntimeException outer = new RuntimeException("wrapper password=" + SECRET, inner);
        Throwable clean = Redactor.sanitize(outer);
        assertFalse(printed(clean).contains(SECRET), printed(clean));
        SQLException cleanInner = Redactor.sqlException(clean);
        assertEquals("08001", cleanInner.getSQLState());
        assertEquals(17, cleanInner.getErrorCode());
    }

    @Test
    void open_sourceUrlWithPasswordUnreachable_neverShowsThePassword() {
        // port 1 refuses at once; no server is needed
        String url = "jdbc:postgresql://127.0.0.1:1/test?user=relay&password=" + SECRET + "&connectTimeout=2";
        DataSource ds = new UrlDataSource(url, new org.postgresql.Driver());
        JdbcPuller puller = JdbcPuller.builder(ds, Dialect.POSTGRESQL).query(SourceQuery.window("t",
                "SELECT 1 AS x WHERE CAST(:start AS timestamp) < CAST(:end AS timestamp)").build()).build();
        Task task = Task.window("realtime", "t", Window.of(LocalDateTime.of(2024, 1, 1, 0, 0),
                LocalDateTime.of(2024, 1, 1, 1, 0)));
        PullException e = assertThrows(PullException.class, () -> puller.open(task));
        assertNoSecret(e);
        assertTrue(e.getMessage().contains("password=***") && e.getMessage().contains(task.id()), e.getMessage());
    }

    @Test
    void open_sinkUrlWithPasswordUnreachable_neverShowsThePassword() {
        String url = "jdbc:postgresql://relay:" + SECRET + "@127.0.0.1:1/test?password=" + SECRET;
        WindowSink sink = WindowSink.builder(new UrlDataSource(url, new org.postgresql.Driver()), Dialect.POSTGRESQL).table("t")
                .timeColumn("SAMPLE_TIME").build();
        Task task = Task.window("realtime", "t", Window.of(LocalDateTime.of(2024, 1, 1, 0, 0),
                LocalDateTime.of(2024, 1, 1, 1, 0)));
        RowSchema schema = RowSchema.of(new dev.relay.api.Column("SAMPLE_TIME", java.sql.JDBCType.TIMESTAMP));
        SinkException e = assertThrows(SinkException.class, () -> sink.open(task, schema));
        assertNoSecret(e);
        assertTrue(e.getMessage().contains("***"), e.getMessage());
        assertEquals(1, Row.of(schema, LocalDateTime.now()).size());
    }

    private static void assertNoSecret(RelayException e) {
        String all = printed(e);
        assertFalse(all.contains(SECRET), all);
    }

    private static String printed(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w + String.valueOf(t.getMessage());
    }
}
