package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.InvalidTaskException;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.SinkException;
import dev.relay.api.SinkSession;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.JDBCType;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.relay.jdbc.ScriptedConnections.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Snowflake sink without a server: the SQL text it generates, the files it stages, and how it reacts to
 * what Snowflake reports (through {@link ScriptedConnections}). The live test is {@link SnowflakeLiveTest}.
 */
class SnowflakeSinkTest {

    static final LocalDate DAY = LocalDate.of(2024, 3, 14);
    static final RowSchema SCHEMA = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP),
            new Column("VDS_ID", JDBCType.INTEGER), new Column("LOOP1_VOL", JDBCType.INTEGER));

    @TempDir
    Path spool;

    static Task windowTask() {
        return Task.builder("realtime", "vds30sec").scope(Window.of(DAY.atTime(10, 0), DAY.atTime(10, 10)))
                .parameter("district", "D7").build();
    }

    static List<Row> rows(int n) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(Row.of(SCHEMA, DAY.atTime(10, 0).plusSeconds(30L * (i / 3)), i % 3 + 1, i % 23));
        }
        return rows;
    }

    SnowflakeSink.Builder builder() {
        return SnowflakeSink.builder(new ScriptedConnections(sql -> null).dataSource())
                .table("RAW.DB96.VDS30SEC").stage("@RAW.DB96.RELAY_STAGE").spoolDirectory(spool).rowsPerFile(4)
                .rename("LOOP1_VOL", "VOLUME_1").filenameColumn("FILENAME");
    }

    /** Answers COPY as Snowflake does when it loads every named file; PUT and DDL with a status row. */
    static ScriptedConnections.Script loadsEverything(Map<String, Long> rowsPerFile, long staged) {
        return sql -> {
            if (sql.startsWith("COPY INTO")) {
                List<Map<String, Object>> report = new ArrayList<>();
                rowsPerFile.forEach((f, n) -> {
                    if (sql.contains("'" + f + "'")) {
                        report.add(row("file", "relay/vds30sec/x/" + f, "status", "LOADED", "rows_parsed", n,
                                "rows_loaded", n, "first_error", null));
                    }
                });
                return report;
            }
            if (sql.startsWith("SELECT COUNT(*)")) {
                return List.of(row("COUNT(*)", staged));
            }
            return List.of(row("status", "ok"));
        };
    }

    @Test
    void statements_append_putThenCopyNamingTheTasksFiles() {
        SnowflakeStatements sql = new SnowflakeStatements("RAW.DB96.VDS30SEC", "@RAW.DB96.RELAY_STAGE",
                "relay/vds30sec/0123456789abcdef0123456789abcdef/",
                List.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP), new Column("VOLUME_1", JDBCType.INTEGER)),
                "FILENAME");
        assertEquals("PUT 'file:///tmp/spool/x/part-*.csv.gz' @RAW.DB96.RELAY_STAGE/relay/vds30sec/"
                        + "0123456789abcdef0123456789abcdef/ AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP"
                        + " OVERWRITE = FALSE PARALLEL = 4",
                sql.put(Path.of("/tmp/spool/x")));
        assertEquals("COPY INTO RAW.DB96.VDS30SEC (SAMPLE_TIME, VOLUME_1, FILENAME) FROM (SELECT $1, $2,"
                        + " METADATA$FILENAME FROM @RAW.DB96.RELAY_STAGE/relay/vds30sec/0123456789abcdef0123456789abcdef/)"
                        + " FILES = ('part-00000.csv.gz', 'part-00001.csv.gz') " + SnowflakeStatements.FILE_FORMAT
                        + " ON_ERROR = ABORT_STATEMENT",
                sql.copy("RAW.DB96.VDS30SEC", List.of("part-00000.csv.gz", "part-00001.csv.gz"), false));
        assertTrue(SnowflakeStatements.FILE_FORMAT.contains("EMPTY_FIELD_AS_NULL = TRUE NULL_IF = ()"));
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 2500; i++) {
            many.add(CsvGzipWriter.fileName(i));
        }
        assertEquals(3, sql.copies("T", many, false).size(), "at most 1,000 files per COPY");
    }

    @Test
    void statements_merge_updatesNonKeysAndInsertsMissing() {
        SnowflakeStatements sql = new SnowflakeStatements("PEMS.STATION_CONFIG", "@S", "relay/station_config/id/",
                List.of(new Column("STATION_ID", JDBCType.INTEGER), new Column("NAME", JDBCType.VARCHAR)), null);
        assertEquals("MERGE INTO PEMS.STATION_CONFIG t USING PEMS.STATION_CONFIG_RM_x s ON t.STATION_ID = s.STATION_ID"
                        + " WHEN MATCHED THEN UPDATE SET t.NAME = s.NAME WHEN NOT MATCHED THEN INSERT (STATION_ID, NAME)"
                        + " VALUES (s.STATION_ID, s.NAME)",
                sql.merge("PEMS.STATION_CONFIG_RM_x", List.of("STATION_ID")));
        assertEquals("MERGE INTO PEMS.STATION_CONFIG t USING tmp s ON t.STATION_ID = s.STATION_ID AND t.NAME = s.NAME"
                        + " WHEN NOT MATCHED THEN INSERT (STATION_ID, NAME) VALUES (s.STATION_ID, s.NAME)",
                sql.merge("tmp", List.of("STATION_ID", "NAME")), "all columns keys: no UPDATE clause");
        assertEquals("CREATE OR REPLACE TABLE PEMS.STATION_CONFIG_RS_x (STATION_ID NUMBER(10,0), NAME VARCHAR)",
                sql.createStage("PEMS.STATION_CONFIG_RS_x", false));
        assertEquals(List.of("ALTER TABLE A_RS SWAP WITH A", "DROP TABLE A_RS"),
                Dialect.SNOWFLAKE.swap("A_RS", "A", true, null));
    }

    @Test
    void commit_append_putsDeterministicFilesThenCopiesThemAndCleansUp() throws Exception {
        ScriptedConnections sf = new ScriptedConnections(loadsEverything(
                Map.of("part-00000.csv.gz", 4L, "part-00001.csv.gz", 4L, "part-00002.csv.gz", 2L), 0));
        SnowflakeSink sink = builder().build();
        SnowflakeSink built = SnowflakeSink.builder(sf.dataSource()).table("RAW.DB96.VDS30SEC")
                .stage("RAW.DB96.RELAY_STAGE").spoolDirectory(spool).rowsPerFile(4).rename("LOOP1_VOL", "VOLUME_1")
                .filenameColumn("FILENAME").build();
        Task task = windowTask();
        List<List<String>> attempts = new ArrayList<>();
        for (int attempt = 1; attempt <= 2; attempt++) {
            sf.statements.clear();
            try (SinkSession session = built.open(task.withAttempt(attempt), SCHEMA)) {
                session.write(rows(10));
                session.commit();
            }
            attempts.add(List.copyOf(sf.statements));
        }
        List<String> first = attempts.get(0);
        assertEquals(2, first.size(), first.toString());
        assertTrue(first.get(0).startsWith("PUT 'file://" + spool) && first.get(0).endsWith("/part-*.csv.gz' "
                + "@RAW.DB96.RELAY_STAGE/relay/vds30sec/" + task.id() + "/ AUTO_COMPRESS = FALSE SOURCE_COMPRESSION"
                + " = GZIP OVERWRITE = FALSE PARALLEL = 4"), first.get(0));
        assertTrue(first.get(1).startsWith("COPY INTO RAW.DB96.VDS30SEC (SAMPLE_TIME, VDS_ID, VOLUME_1, FILENAME)"
                + " FROM (SELECT $1, $2, $3, METADATA$FILENAME FROM @RAW.DB96.RELAY_STAGE/relay/vds30sec/" + task.id()
                + "/) FILES = ('part-00000.csv.gz', 'part-00001.csv.gz', 'part-00002.csv.gz')"), first.get(1));
        assertFalse(first.get(1).contains("FORCE"), "the load history must be allowed to skip loaded files");
        assertEquals(first.get(1), attempts.get(1).get(1), "a retry copies the same stage path and file names");
        try (Stream<Path> left = Files.list(spool)) {
            assertEquals(0, left.count(), "local part files are deleted");
        }
        assertEquals(0, sf.open);
        assertTrue(sink.toString().contains("APPEND"));
    }

    @Test
    void commit_copyReportsARetriedTasksFilesAsAlreadyLoaded_succeeds() {
        // Snowflake's answer when the load history skips every file: one status row, no file rows
        ScriptedConnections sf = new ScriptedConnections(sql -> sql.startsWith("COPY")
                ? List.of(row("status", "Copy executed with 0 files processed.")) : List.of(row("status", "ok")));
        SnowflakeSink sink = SnowflakeSink.builder(sf.dataSource()).table("RAW.DB96.VDS30SEC").stage("@S")
                .spoolDirectory(spool).build();
        try (SinkSession session = sink.open(windowTask().withAttempt(2), SCHEMA)) {
            session.write(rows(10));
            session.commit();
        }
        assertEquals(2, sf.statements.size());
    }

    @Test
    void commit_copyReportsAPartialLoad_failsNamingTheFile() {
        ScriptedConnections sf = new ScriptedConnections(sql -> sql.startsWith("COPY")
                ? List.of(row("file", "relay/vds30sec/x/part-00000.csv.gz", "status", "PARTIALLY_LOADED",
                "rows_parsed", 10L, "rows_loaded", 9L, "first_error", "Numeric value 'x' is not recognized"))
                : List.of(row("status", "ok")));
        SnowflakeSink sink = SnowflakeSink.builder(sf.dataSource()).table("RAW.DB96.VDS30SEC").stage("@S")
                .spoolDirectory(spool).build();
        SinkSession session = sink.open(windowTask(), SCHEMA);
        session.write(rows(10));
        SinkException e = assertThrows(SinkException.class, session::commit);
        assertTrue(e.getMessage().contains("PARTIALLY_LOADED") && e.getMessage().contains("part-00000.csv.gz"),
                e.getMessage());
        assertEquals(0, sf.open);
    }

    @Test
    void commit_merge_copiesIntoATemporaryTableMergesAndDropsIt() {
        ScriptedConnections sf = new ScriptedConnections(loadsEverything(Map.of("part-00000.csv.gz", 10L), 0));
        SnowflakeSink sink = SnowflakeSink.builder(sf.dataSource()).table("RAW.DB96.VDS30SEC").stage("@S")
                .spoolDirectory(spool).merge("SAMPLE_TIME", "VDS_ID").build();
        Task task = windowTask();
        try (SinkSession session = sink.open(task, SCHEMA)) {
            session.write(rows(10));
            session.commit();
        }
        String temp = "RAW.DB96.VDS30SEC_RM_" + task.id().substring(0, 12);
        List<String> s = sf.statements;
        assertEquals(5, s.size(), s.toString());
        assertTrue(s.get(0).startsWith("PUT "));
        assertEquals("CREATE TEMPORARY TABLE " + temp + " LIKE RAW.DB96.VDS30SEC", s.get(1));
        assertTrue(s.get(2).startsWith("COPY INTO " + temp + " ") && s.get(2).endsWith("FORCE = TRUE"), s.get(2));
        assertTrue(s.get(3).startsWith("MERGE INTO RAW.DB96.VDS30SEC t USING " + temp
                + " s ON t.SAMPLE_TIME = s.SAMPLE_TIME AND t.VDS_ID = s.VDS_ID WHEN MATCHED THEN UPDATE SET"
                + " t.LOOP1_VOL = s.LOOP1_VOL"), s.get(3));
        assertEquals("DROP TABLE IF EXISTS " + temp, s.get(4));
    }

    @Test
    void commit_snapshot_stagesChecksTheCountAndSwaps() {
        Task task = Task.snapshot("config", "station-config", Snapshot.of(DAY));
        ScriptedConnections sf = new ScriptedConnections(loadsEverything(Map.of("part-00000.csv.gz", 10L), 10));
        sf.existingTables.add("STATION_CONFIG");
        SnowflakeSink sink = SnowflakeSink.builder(sf.dataSource()).table("PEMS.PUBLIC.STATION_CONFIG").stage("@S")
                .spoolDirectory(spool).snapshot().minimumRows(1).build();
        try (SinkSession session = sink.open(task, SCHEMA)) {
            session.write(rows(10));
            session.commit();
        }
        String stage = "PEMS.PUBLIC.STATION_CONFIG_RS_" + task.id().substring(0, 12);
        List<String> s = sf.statements;
        assertEquals(List.of("CREATE OR REPLACE TABLE " + stage + " LIKE PEMS.PUBLIC.STATION_CONFIG",
                "SELECT COUNT(*) FROM " + stage, "ALTER TABLE " + stage + " SWAP WITH PEMS.PUBLIC.STATION_CONFIG",
                "DROP TABLE " + stage), List.of(s.get(1), s.get(3), s.get(4), s.get(5)), s.toString());
        assertTrue(s.get(2).startsWith("COPY INTO " + stage + " ") && s.get(2).endsWith("FORCE = TRUE"));
    }

    @Test
    void commit_snapshotCountDiffersFromTheSource_neverSwapsAndDropsTheStage() {
        Task task = Task.snapshot("config", "station-config", Snapshot.of(DAY));
        // e.g. a staging table that somehow kept rows: 20 staged for 10 pulled
        ScriptedConnections sf = new ScriptedConnections(loadsEverything(Map.of("part-00000.csv.gz", 10L), 20));
        SnowflakeSink sink = SnowflakeSink.builder(sf.dataSource()).table("PEMS.PUBLIC.STATION_CONFIG").stage("@S")
                .spoolDirectory(spool).snapshot().build();
        SinkSession session = sink.open(task, SCHEMA);
        session.write(rows(10));
        SinkException e = assertThrows(SinkException.class, session::commit);
        assertTrue(e.getMessage().contains("holds 20 rows") && e.getMessage().contains("handed over 10"), e.getMessage());
        assertTrue(sf.statements.stream().noneMatch(s -> s.contains("SWAP") || s.contains("RENAME")), sf.statements.toString());
        assertTrue(sf.statements.get(sf.statements.size() - 1).startsWith("DROP TABLE IF EXISTS PEMS.PUBLIC.STATION_CONFIG_RS_"));
    }

    @Test
    void commit_failingStatement_isRetryableAndRedacted() {
        ScriptedConnections sf = new ScriptedConnections(sql -> {
            throw new SQLException("JWT token invalid for jdbc:snowflake://acct/?user=relay&password=hunter2", "08001");
        });
        SnowflakeSink sink = SnowflakeSink.builder(sf.dataSource()).table("T").stage("@S").spoolDirectory(spool).build();
        SinkSession session = sink.open(windowTask(), SCHEMA);
        session.write(rows(3));
        SinkException e = assertThrows(SinkException.class, session::commit);
        assertTrue(e.retryable());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertFalse(String.valueOf(e.getCause().getMessage()).contains("hunter2"));
        assertEquals(0, sf.open);
    }

    @Test
    void abort_beforeCommit_runsNoStatementAndDeletesTheFiles() throws Exception {
        ScriptedConnections sf = new ScriptedConnections(sql -> null);
        SnowflakeSink sink = SnowflakeSink.builder(sf.dataSource()).table("T").stage("@S").spoolDirectory(spool)
                .rowsPerFile(2).build();
        SinkSession session = sink.open(windowTask(), SCHEMA);
        session.write(rows(9));
        session.abort();
        assertThrows(SinkException.class, session::commit);
        assertEquals(List.of(), sf.statements);
        try (Stream<Path> left = Files.list(spool)) {
            assertEquals(0, left.count());
        }
    }

    @Test
    void commit_emptyWindow_loadsNothing() {
        ScriptedConnections sf = new ScriptedConnections(sql -> null);
        SnowflakeSink sink = SnowflakeSink.builder(sf.dataSource()).table("T").stage("@S").spoolDirectory(spool).build();
        try (SinkSession session = sink.open(windowTask(), SCHEMA)) {
            session.commit();
        }
        assertEquals(List.of(), sf.statements);
    }

    @Test
    void builder_badSettings_failAtBuildNamingTheValue() {
        var ds = new ScriptedConnections(sql -> null).dataSource();
        IllegalArgumentException stage = assertThrows(IllegalArgumentException.class,
                () -> SnowflakeSink.builder(ds).stage("@S; DROP STAGE S"));
        assertTrue(stage.getMessage().contains("DROP STAGE"), stage.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SnowflakeSink.builder(ds).table("T; DROP TABLE T"));
        assertThrows(IllegalArgumentException.class, () -> SnowflakeSink.builder(ds).spoolDirectory(Path.of("/tmp/it's")));
        assertThrows(IllegalArgumentException.class, () -> SnowflakeSink.builder(ds).stagePrefix("../etc"));
        IllegalStateException noStage = assertThrows(IllegalStateException.class,
                () -> SnowflakeSink.builder(ds).table("T").spoolDirectory(spool).build());
        assertTrue(noStage.getMessage().contains("stage"));
        assertThrows(IllegalStateException.class,
                () -> SnowflakeSink.builder(ds).table("T").stage("@S").spoolDirectory(spool).minimumRows(3).build());
    }

    @Test
    void open_snapshotModeWithAWindowTaskOrUnknownMergeKey_isRejected() {
        var ds = new ScriptedConnections(sql -> null).dataSource();
        SnowflakeSink snapshot = SnowflakeSink.builder(ds).table("T").stage("@S").spoolDirectory(spool).snapshot().build();
        assertThrows(InvalidTaskException.class, () -> snapshot.open(windowTask(), SCHEMA));
        SnowflakeSink merge = SnowflakeSink.builder(ds).table("T").stage("@S").spoolDirectory(spool).merge("NOPE").build();
        SinkException e = assertThrows(SinkException.class, () -> merge.open(windowTask(), SCHEMA));
        assertFalse(e.retryable());
    }

}
