package dev.relay.architecture;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.LaneSpec;
import dev.relay.api.Puller;
import dev.relay.api.SeriesKey;
import dev.relay.api.Sink;
import dev.relay.core.Relay;
import dev.relay.core.plan.PlanningLoop;
import dev.relay.core.plan.RealtimeTicker;
import dev.relay.core.plan.SnapshotSchedule;
import dev.relay.jdbc.Dialect;
import dev.relay.jdbc.JdbcPuller;
import dev.relay.jdbc.SnowflakeSink;
import dev.relay.jdbc.SourceQuery;
import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import dev.relay.kafka.KafkaTaskQueue;
import dev.relay.kafka.KafkaTopics;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * The README's "In production" wiring (Oracle → Kafka → Snowflake), compiled by the build: the README shows the
 * code between the markers below exactly (checked here), so a change of any builder it uses fails the build until
 * the README follows. It needs an Oracle source, a Kafka cluster and Snowflake, none of which can run here, so it
 * is compiled, not run; each piece is exercised by its module's own tests.
 */
class ProductionWiringTest {

    // production:begin
    static Relay pemsRelay(DataSource oracleDataSource, DataSource snowflakeDataSource, Jdbi ledgerJdbi, Path spool,
                           MeterRegistry registry, ScheduledExecutorService timer) {
        ZoneId la = ZoneId.of("America/Los_Angeles");
        List<SeriesKey> districts = Stream.of("D3", "D4", "D5", "D6", "D7", "D8", "D10", "D11", "D12")
                .map(d -> SeriesKey.of("vds30sec", "district", d)).toList();
        List<SeriesKey> configTables = Stream.of("CONTROLLER_CONFIG", "CONTROLLER_CONFIG_LOG", "DETECTOR_CONFIG",
                        "DETECTOR_CONFIG_LOG", "STATION_CONFIG", "STATION_CONFIG_LOG")
                .map(t -> SeriesKey.of("config", "table", t)).toList();

        KafkaTopics topics = KafkaTopics.builder().prefix("pems.").partitions(6).replicationFactor(3)
                .retention(Duration.ofDays(30)).longestOutage(Duration.ofDays(21)).build();   // shorter retention fails
        KafkaTaskQueue queue = KafkaTaskQueue.builder().bootstrapServers("kafka1:9092").groupId("pems-relay")
                .topics(topics).createTopics(true).prefetchPerLane(100).build();
        JdbcCompletionLedger ledger = JdbcCompletionLedger.builder(ledgerJdbi).table("relay_ledger").build();
        Puller oracle = JdbcPuller.builder(oracleDataSource, Dialect.ORACLE)
                .query(SourceQuery.window("vds30sec",
                        "SELECT * FROM ${district}.VDS30SEC WHERE SAMPLE_TIME >= :start AND SAMPLE_TIME < :end")
                    .identifier("district", "D(3|4|5|6|7|8|10|11|12)").build())      // identifiers validated, values bound
                .query(SourceQuery.snapshot("config", "SELECT * FROM PEMS.${table}")
                    .identifier("table", "(CONTROLLER|DETECTOR|STATION)_CONFIG(_LOG)?").build())
                .fetchSize(5_000).chunkSize(1_000).queryTimeout(Duration.ofMinutes(5)).build();
        Sink snowflake = SnowflakeSink.builder(snowflakeDataSource).table("RAW.DB96.VDS30SEC").stage("@RAW.DB96.RELAY")
                .spoolDirectory(spool).filenameColumn("FILENAME").build();          // staged file names from the task id
        Sink configSnapshots = SnowflakeSink.builder(snowflakeDataSource).table("RAW.DB96.${table}")
                .identifier("table", "(CONTROLLER|DETECTOR|STATION)_CONFIG(_LOG)?").stage("@RAW.DB96.RELAY")
                .spoolDirectory(spool).snapshot().minimumRows(1).build();           // staging table + swap
        Relay relay = Relay.builder().queue(queue).puller(oracle).sink(snowflake).ledger(ledger).sourcePermits(1)
                .lane(LaneSpec.builder("realtime").weight(4).build())
                .lane(LaneSpec.builder("config").weight(8).build(), configSnapshots)
                .lane(LaneSpec.builder("backfill").weight(1).build())
                .meterRegistry(registry).build().start();
        RealtimeTicker ticker = RealtimeTicker.builder().series(districts).windowSize(Duration.ofMinutes(10)).zone(la)
                .seriesStart(LocalDateTime.parse("2024-01-01T00:00")).lateness(Duration.ofMinutes(5))
                .queue(queue).ledger(ledger).build();                    // old windows go to "backfill", lazily
        SnapshotSchedule config = SnapshotSchedule.builder().tables(configTables).at(LocalTime.of(19, 0), la)
                .queue(queue).ledger(ledger).build();                    // at most once a day, DST-correct
        timer.scheduleWithFixedDelay(PlanningLoop.builder().step("realtime", ticker::tick)
                .step("config", config::tick).build(), 0, 1, TimeUnit.MINUTES);
        return relay;
    }
    // production:end

    @Test
    void readme_showsTheProductionWiringAsCompiled() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/relay/architecture/ProductionWiringTest.java"));
        String code = between(source, "    // production:begin\n", "    // production:end").stripIndent().strip();
        String readme = Files.readString(ModuleTable.readme());
        assertTrue(normalize(readme).contains(normalize(code)),
                "README.md's \"In production\" must show the wiring exactly as compiled in ProductionWiringTest:\n" + code);
    }

    private static String between(String s, String a, String b) {
        int i = s.indexOf(a);
        int j = s.indexOf(b, i);
        return s.substring(i + a.length(), j);
    }

    private static String normalize(String s) {
        return s.lines().map(String::strip).filter(l -> !l.isEmpty()).reduce("", (x, y) -> x + "\n" + y);
    }
}
