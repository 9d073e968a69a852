package dev.relay.jdbc;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.sql.JDBCType;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.strings;

/** Registration rules and rendering of source queries. */
class SourceQueryTest {

    static final Window HOUR = Window.of(LocalDateTime.of(2024, 3, 14, 10, 0), LocalDateTime.of(2024, 3, 14, 11, 0));
    static final String VDS = "SELECT * FROM ${district}.VDS30SEC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end";

    static IllegalArgumentException invalid(SourceQuery.Builder builder) {
        return assertThrows(IllegalArgumentException.class, builder::build);
    }

    @Test
    void build_windowQueryWithoutBothBounds_failsNamingThem() {
        IllegalArgumentException e = invalid(SourceQuery.window("v", "SELECT * FROM T WHERE SAMPLE_TIME BETWEEN :start AND :stop")
                .parameter("stop", JDBCType.TIMESTAMP));
        assertTrue(e.getMessage().contains(":end") && e.getMessage().contains("half-open"), e.getMessage());
    }

    @Test
    void build_snapshotQueryBindingAWindowBound_fails() {
        IllegalArgumentException e = invalid(SourceQuery.snapshot("c", "SELECT * FROM C WHERE T < :end"));
        assertTrue(e.getMessage().contains("snapshot"), e.getMessage());
    }

    @Test
    void build_bindsAndPlaceholdersMustMatchTheDeclarations() {
        assertTrue(invalid(SourceQuery.window("v", "SELECT * FROM T WHERE A >= :start AND A < :end AND B = :vds"))
                .getMessage().contains(":vds"));
        assertTrue(invalid(SourceQuery.window("v", "SELECT * FROM T WHERE A >= :start AND A < :end")
                .parameter("vds", JDBCType.INTEGER)).getMessage().contains("never binds :vds"));
        assertTrue(invalid(SourceQuery.window("v", VDS)).getMessage().contains("${district}"));
        assertTrue(invalid(SourceQuery.window("v", "SELECT * FROM T WHERE A >= :start AND A < :end")
                .identifier("district", "D7")).getMessage().contains("never uses ${district}"));
        assertTrue(invalid(SourceQuery.window("v", "SELECT * FROM ${ district}.T WHERE A >= :start AND A < :end"))
                .getMessage().contains("malformed placeholder"));
    }

    @Test
    void builder_badDeclarations_failFastNamingTheValue() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SourceQuery.window("v", VDS).identifier("district", "D(7"))
                .getMessage().contains("D(7"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SourceQuery.window("v", VDS).parameter("x", JDBCType.BLOB))
                .getMessage().contains("BLOB"));
        assertThrows(IllegalArgumentException.class, () -> SourceQuery.window("v", VDS).parameter("start", JDBCType.TIMESTAMP));
        assertThrows(IllegalArgumentException.class, () -> SourceQuery.window("bad name", VDS));
        assertThrows(IllegalArgumentException.class, () -> SourceQuery.window("v", "  "));
    }

    @Test
    void render_windowTask_bindsLocalBoundsAndTypedParameters() {
        SourceQuery q = SourceQuery.window("v", VDS + " AND VDS_ID = :vds AND FLOW > :min AND DAY = :day")
                .identifier("district", "D(4|7)").parameter("vds", JDBCType.BIGINT)
                .parameter("min", JDBCType.DECIMAL).parameter("day", JDBCType.DATE).build();
        Task task = Task.builder("r", "v").scope(HOUR).parameter("district", "D7").parameter("vds", "716001")
                .parameter("min", "0.5").parameter("day", "2024-03-14").parameter("unused", "x").build();
        SourceQuery.Rendered r = q.render(task);
        assertEquals(VDS.replace("${district}", "D7") + " AND VDS_ID = :vds AND FLOW > :min AND DAY = :day", r.sql());
        assertEquals(Map.of("start", HOUR.start(), "end", HOUR.end(), "vds", 716001L, "min", new BigDecimal("0.5"),
                "day", LocalDate.of(2024, 3, 14)), r.binds());
    }

    @Test
    void render_snapshotTask_bindsAsOf() {
        SourceQuery q = SourceQuery.snapshot("c", "SELECT * FROM C WHERE VALID_FROM <= :asOf").build();
        LocalDate day = LocalDate.of(2024, 3, 14);
        assertEquals(Map.of("asOf", day), q.render(Task.snapshot("c", "c", Snapshot.of(day))).binds());
        assertThrows(InvalidTaskException.class, () -> q.render(Task.window("c", "c", HOUR)));
    }

    @Test
    void render_anyIdentifierValue_isEitherAPlainIdentifierOrAnInvalidTask() {
        SourceQuery q = SourceQuery.window("v", VDS).identifier("district", "[A-Za-z0-9_;' -]+").build();
        qt().withExamples(500).forAll(strings().ascii().ofLengthBetween(1, 20)).checkAssert(value -> {
            Task task = Task.builder("r", "v").scope(HOUR).parameter("district", value).build();
            try {
                String sql = q.render(task).sql();
                assertTrue(value.matches("[A-Za-z][A-Za-z0-9_]*"), "accepted '" + value + "'");
                assertEquals(VDS.replace("${district}", value), sql);
            } catch (InvalidTaskException e) {
                assertTrue(!value.matches("[A-Za-z][A-Za-z0-9_]*") || !value.matches("[A-Za-z0-9_;' -]+"), value);
                assertTrue(e.getMessage().contains("district"), e.getMessage());
            }
        });
    }

    @Test
    void build_builderReusedAfterBuild_leavesTheBuiltQueryUnchanged() {
        SourceQuery.Builder b = SourceQuery.window("v", VDS).identifier("district", "D7");
        SourceQuery first = b.build();
        b.identifier("district", "D4");
        Task d4 = Task.builder("r", "v").scope(HOUR).parameter("district", "D4").build();
        assertThrows(InvalidTaskException.class, () -> first.render(d4));
        assertEquals(VDS.replace("${district}", "D4"), b.build().render(d4).sql());
    }

    @Test
    void builders_ofPullerAndSinks_rejectBadSettingsNamingTheValue() {
        var ds = H2TestSupport.oracleMode("builders");
        SourceQuery q = SourceQuery.window("v", VDS).identifier("district", "D7").build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> JdbcPuller.builder(ds, Dialect.H2).fetchSize(0))
                .getMessage().contains("0"));
        assertThrows(IllegalArgumentException.class, () -> JdbcPuller.builder(ds, Dialect.H2).chunkSize(-1));
        assertThrows(IllegalArgumentException.class,
                () -> JdbcPuller.builder(ds, Dialect.H2).queryTimeout(java.time.Duration.ofMillis(1500)));
        assertThrows(IllegalArgumentException.class,
                () -> JdbcPuller.builder(ds, Dialect.H2).queryTimeout(java.time.Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> JdbcPuller.builder(ds, Dialect.H2).query(q).query(q));
        assertThrows(IllegalStateException.class, () -> JdbcPuller.builder(ds, Dialect.H2).build());
        assertThrows(IllegalStateException.class, () -> WindowSink.builder(ds, Dialect.H2).table("T").build());
        assertThrows(IllegalStateException.class, () -> WindowSink.builder(ds, Dialect.H2).timeColumn("T").build());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WindowSink.builder(ds, Dialect.H2).table("T;DROP"))
                .getMessage().contains("T;DROP"));
        assertThrows(IllegalArgumentException.class, () -> WindowSink.builder(ds, Dialect.H2).timeColumn("A B"));
        assertThrows(IllegalArgumentException.class, () -> WindowSink.builder(ds, Dialect.H2).batchSize(0));
        assertThrows(IllegalArgumentException.class, () -> WindowSink.builder(ds, Dialect.H2).table("${t}").timeColumn("T").build());
        assertThrows(IllegalArgumentException.class, () -> SnapshotSink.builder(ds, Dialect.SNOWFLAKE).table("T").build());
        assertThrows(IllegalArgumentException.class, () -> SnapshotSink.builder(ds, Dialect.H2).minimumRows(-1));
    }
}
