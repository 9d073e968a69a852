package dev.relay.jdbc;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A window of 500,000 VDS30SEC rows (~46 columns) relayed from PostgreSQL in a JVM with {@code -Xmx64m}: the
 * puller streams, so it fits; the same read with autocommit on (where the driver ignores the fetch size and
 * buffers the whole result, hundreds of MB) dies of OutOfMemoryError in the same heap.
 */
class StreamingForkTest {

    static final String SCHEMA = "relay_jdbc_streaming";
    static final LocalDateTime START = LocalDateTime.of(2024, 3, 14, 0, 0);
    /** 500 stations x 1,000 samples (8 h 20 min) = 500,000 rows. */
    static final int STATIONS = 500;
    static final int SAMPLES = 1_000;

    static DataSource pg;

    @BeforeAll
    static void createWindow() throws Exception {
        pg = PostgresTestSupport.freshSchema(SCHEMA);
        try (Connection c = pg.getConnection(); Statement s = c.createStatement()) {
            s.execute(Vds30Sec.ddl("vds30sec").replace("CREATE TABLE", "CREATE UNLOGGED TABLE"));
            s.execute(Vds30Sec.generatePostgres("vds30sec", START, SAMPLES, STATIONS));
            s.execute(Vds30Sec.ddl("vds30sec_copy").replace("CREATE TABLE", "CREATE UNLOGGED TABLE"));
            s.execute("ANALYZE vds30sec");
        }
    }

    @AfterAll
    static void dropWindow() {
        PostgresTestSupport.dropSchema(SCHEMA);
    }

    static Result fork(String mode) throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<String> command = new ArrayList<>(List.of(java, "-Xmx64m", "-XX:+ExitOnOutOfMemoryError",
                "-Duser.timezone=America/Los_Angeles", "-cp", System.getProperty("java.class.path"),
                StreamingChild.class.getName(), mode, PostgresTestSupport.schema(SCHEMA), START.toString(),
                START.plusSeconds(30L * SAMPLES).toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    record Result(int exit, String output) {
        long value(String key) {
            for (String line : output.split("\\R")) {
                if (line.startsWith(key + " ")) {
                    return Long.parseLong(line.substring(key.length() + 1).trim());
                }
            }
            throw new AssertionError("no " + key + " in child output:\n" + output);
        }
    }

    @Test
    void relay_500kRowWindowInA64MbHeap_streamsEveryRow() throws Exception {
        Result r = fork("relay");
        System.out.println("[streaming child, relay] " + r.output().strip().replace('\n', ' '));
        assertEquals(0, r.exit(), r.output());
        assertEquals(STATIONS * SAMPLES, r.value("ROWS"), r.output());
        assertTrue(r.value("MAX_HEAP_MB") <= 64, r.output());
        try (Connection c = pg.getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT COUNT(*), COUNT(DISTINCT (sample_time, vds_id)) FROM vds30sec_copy")) {
            rs.next();
            assertEquals(STATIONS * SAMPLES, rs.getLong(1));
            assertEquals(STATIONS * SAMPLES, rs.getLong(2));
        }
    }

    @Test
    void relay_sourceDialectLeavingAutocommitOn_runsOutOfMemory() throws Exception {
        // the puller itself in the buggy configuration: same fetch size, but autocommit stays on
        Result r = fork("relay-autocommit");
        assertEquals(3, r.exit(), "expected the child to die of OutOfMemoryError:\n" + r.output());
        assertTrue(r.output().contains("OutOfMemoryError"), r.output());
    }

    @Test
    void naiveRead_autocommitOnInA64MbHeap_runsOutOfMemory() throws Exception {
        // the control: proves the window is too big to buffer, so the test above proves streaming
        Result r = fork("naive");
        assertEquals(3, r.exit(), "expected the child to die of OutOfMemoryError:\n" + r.output());
        assertTrue(r.output().contains("OutOfMemoryError"), r.output());
    }
}
