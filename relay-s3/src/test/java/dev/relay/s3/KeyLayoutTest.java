package dev.relay.s3;

import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Key templates: what renders, and every wrong template failing when it is set or at build(). */
class KeyLayoutTest {

    static final Task D4 = Task.builder("realtime", "vds30sec")
            .scope(Window.starting(LocalDateTime.of(2024, 3, 14, 9, 50), Duration.ofMinutes(10)))
            .parameter("district", "D4").build();
    static final Task CONFIG = Task.snapshot("config", "detector_config", Snapshot.of(LocalDate.of(2024, 11, 3)));

    static String fails(String template, boolean snapshot) {
        return assertThrows(IllegalArgumentException.class, () -> KeyLayout.parse(template, snapshot)).getMessage();
    }

    @Test
    void render_pemsLayout_givesTheOldUploadersPath() {
        KeyLayout l = KeyLayout.parse(S3ParquetSinkTest.PEMS_LAYOUT, false);
        assertEquals("tables/VDS30SEC/district=D4/year=2024/month=3/day=14/" + D4.id() + ".parquet", l.render(D4, 0));
        assertEquals(l.render(D4, 0), l.render(D4.withAttempt(3).withLane("backfill"), 0), "attempt and lane change nothing");
    }

    @Test
    void render_everyPlaceholder_isFilledFromTheTask() {
        KeyLayout l = KeyLayout.parse("{source}/{SOURCE}/{date}/{hour}-{minute}/{start}_{end}/{id}-{file}", false);
        assertEquals("vds30sec/VDS30SEC/2024-03-14/9-50/20240314T095000_20240314T100000/" + D4.id() + "-00007", l.render(D4, 7));
        assertEquals("vds30sec/VDS30SEC/2024-03-14/9-50/20240314T095000_20240314T100000/" + D4.id() + "-", l.prefixBeforeFile(D4));
    }

    @Test
    void render_snapshotLayout_usesTheSnapshotDay() {
        KeyLayout l = KeyLayout.parse(S3ParquetSinkTest.SNAPSHOT_LAYOUT, true);
        assertEquals("tables/DETECTOR_CONFIG/date=2024-11-03/" + CONFIG.id() + "-00000.parquet", l.render(CONFIG, 0));
        assertTrue(l.hasFile());
    }

    @Test
    void parse_wrongTemplates_failNamingTheProblem() {
        assertTrue(fails("tables/{yaer}/{id}", false).contains("unknown placeholder {yaer}"));
        assertTrue(fails("tables/VDS30SEC/{date}.parquet", false).contains("no {id}"));
        assertTrue(fails("/tables/{id}", false).contains("starts with '/'"));
        assertTrue(fails("tables//{id}", false).contains("empty path segment"));
        assertTrue(fails("tables/../{id}", false).contains("'..'"));
        assertTrue(fails("tables/{id}/", false).contains("ends with '/'"));
        assertTrue(fails("tables/{id", false).contains("unclosed"));
        assertTrue(fails("tables/id}", false).contains("without '{'"));
        assertTrue(fails("tables/{id} copy", false).contains("' '"));
        assertTrue(fails("tables/{param:1district}/{id}", false).contains("not a parameter name"));
        assertTrue(fails("tables/{hour}/{id}", true).contains("snapshot task does not have"));
        assertTrue(fails("", false).contains("must not be empty"));
    }

    @Test
    void render_parameterWithAnUnsafeCharacter_failsNamingTheValue() {
        KeyLayout l = KeyLayout.parse(S3ParquetSinkTest.PEMS_LAYOUT, false);
        Task spaced = Task.builder("realtime", "vds30sec").scope(D4.scope()).parameter("district", "D 4").build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> l.render(spaced, 0)).getMessage().contains("'D 4'"));
        KeyLayout segment = KeyLayout.parse("tables/{param:district}/{id}", false);
        Task dots = Task.builder("realtime", "vds30sec").scope(D4.scope()).parameter("district", "..").build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> segment.render(dots, 0)).getMessage().contains("'..'"));
    }

    @Test
    void render_keyLongerThanS3Allows_fails() {
        KeyLayout l = KeyLayout.parse("{param:p}/{id}", false);
        Task t = Task.builder("realtime", "vds30sec").scope(D4.scope()).parameter("p", "x".repeat(1000)).build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> l.render(t, 0)).getMessage().contains("1024"));
    }

    static S3Client offline() {
        return S3Client.builder().region(Region.US_WEST_2).endpointOverride(URI.create("http://127.0.0.1:9"))
                .credentialsProvider(AnonymousCredentialsProvider.create()).build();
    }

    @Test
    void build_wrongConfiguration_failsAtBuildNotLater() {
        try (S3Client s3 = offline()) {
            assertTrue(assertThrows(IllegalStateException.class, () -> S3ParquetSink.builder("pems").client(s3).build())
                    .getMessage().contains("layout"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> S3ParquetSink.builder("pems").layout("t/{yaer}/{id}"))
                    .getMessage().contains("{yaer}"));
            assertTrue(assertThrows(IllegalStateException.class, () -> S3ParquetSink.builder("pems").client(s3)
                    .layout(S3ParquetSinkTest.PEMS_LAYOUT).maxRowsPerObject(100).build()).getMessage().contains("{file}"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> S3ParquetSink.builder("pems").partSize(1024 * 1024))
                    .getMessage().contains("5 MiB"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> S3ParquetSink.builder("Pems_Raw"))
                    .getMessage().contains("bucket name"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> S3ParquetSink.builder("pems").decimal(39, 2))
                    .getMessage().contains("precision"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> S3ParquetSink.builder("pems").decimal(10, 11))
                    .getMessage().contains("scale"));
            S3ParquetSink ok = S3ParquetSink.builder("pems").client(s3).layout(S3ParquetSinkTest.PEMS_LAYOUT)
                    .snapshotLayout(S3ParquetSinkTest.SNAPSHOT_LAYOUT).maxRowsPerObject(100).build();
            assertTrue(ok.toString().contains("s3://pems/tables/VDS30SEC"), ok.toString());
        }
    }
}
