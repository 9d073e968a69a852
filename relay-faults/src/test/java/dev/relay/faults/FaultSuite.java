package dev.relay.faults;

import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.jdbc.ledger.JdbcCompletionLedger;
import dev.relay.kafka.KafkaTopics;
import dev.relay.kafka.TaskRecordCodec;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Assumptions;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The suite's fixtures outside the relay: the PostgreSQL source and sink schemas of one scenario (generated
 * VDS30SEC tables per district and six config tables), the checks of the sink against the source, the poison
 * and malformed inputs, and the reading of the dead-letter topics. Not threadsafe.
 */
final class FaultSuite {

    static final String LEDGER_TABLE = "relay_ledger";
    static final String HOST = env("RELAY_PG_HOST", "127.0.0.1");
    static final int PORT = Integer.parseInt(env("RELAY_PG_PORT", "5432"));
    static final String USER = env("RELAY_PG_USER", "postgres");
    static final String DATABASE = env("RELAY_PG_DATABASE", "test");
    static final String PASSWORD = env("RELAY_PG_PASSWORD", "");
    /** Samples per station per day in the generated source: one every 150 s (PeMS has one every 30 s). */
    static final int SAMPLES_PER_DAY = 576;
    /** Stations per district in the generated source. */
    static final int STATIONS = 2;
    static final int LOOPS = 14;

    private FaultSuite() {
    }

    private static String env(String key, String fallback) {
        String v = System.getenv(key);
        return v == null || v.isBlank() ? fallback : v;
    }

    static Properties pgProperties() {
        Properties p = new Properties();
        p.setProperty("pg.host", HOST);
        p.setProperty("pg.port", Integer.toString(PORT));
        p.setProperty("pg.db", DATABASE);
        p.setProperty("pg.user", USER);
        p.setProperty("pg.password", PASSWORD);
        return p;
    }

    static PGSimpleDataSource dataSource(String schema) {
        return RelayChild.pg(pgProperties(), schema, "relay-faults-suite");
    }

    /** Skips (or, under RELAY_REQUIRE_SERVICES=1, fails) unless PostgreSQL answers. */
    static void requirePostgres() {
        try (Connection c = dataSource(null).getConnection(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        } catch (SQLException e) {
            String message = "PostgreSQL is not reachable at " + HOST + ":" + PORT + "/" + DATABASE + " as " + USER + ": "
                    + e.getMessage();
            if ("1".equals(System.getenv("RELAY_REQUIRE_SERVICES"))) {
                throw new AssertionError(message + " (RELAY_REQUIRE_SERVICES=1, so this fails instead of skipping)", e);
            }
            Assumptions.abort(message + " — skipping the fault suite; start PostgreSQL or set RELAY_REQUIRE_SERVICES=1");
        }
    }

    // ---------------------------------------------------------------- databases

    static String vdsDdl(String table) {
        StringBuilder sql = new StringBuilder("CREATE TABLE ").append(table)
                .append(" (SAMPLE_TIME TIMESTAMP NOT NULL, RECV_TIME TIMESTAMP NOT NULL, VDS_ID INTEGER NOT NULL");
        for (int i = 1; i <= LOOPS; i++) {
            sql.append(", LOOP").append(i).append("_VOL INTEGER, LOOP").append(i).append("_OCC DOUBLE PRECISION, LOOP")
                    .append(i).append("_SPD DOUBLE PRECISION");
        }
        return sql.append(')').toString();
    }

    /** Server-side generation of a district's samples; values depend on the station, the sample and the seed. */
    static String vdsGenerate(String table, int district, LocalDate day0, int days, long seed) {
        long salt = Math.floorMod(seed, 997L);
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" SELECT t, t + interval '7 seconds', v");
        for (int i = 0; i < LOOPS; i++) {
            String missing = "CASE WHEN (v + s + " + i + ") % 13 = 0 THEN NULL ELSE ";
            sql.append(", ").append(missing).append("(v * 7 + s * 13 + ").append(i + salt).append(") % 23 END")
                    .append(", ").append(missing).append("((v + s * 3 + ").append(i + salt).append(") % 1000) / 10000.0 END")
                    .append(", ").append(missing).append("40.0 + (v * 3 + s + ").append(i).append(") % 35 END");
        }
        sql.append(" FROM generate_series(0, ").append(SAMPLES_PER_DAY * days - 1).append(") s, generate_series(")
                .append(district * 1000 + 1).append(", ").append(district * 1000 + STATIONS).append(") v, LATERAL (SELECT TIMESTAMP '")
                .append(day0).append(" 00:00:00' + s * interval '").append(86_400 / SAMPLES_PER_DAY).append(" seconds' AS t) x");
        return sql.toString();
    }

    static String configDdl(String table) {
        return "CREATE TABLE " + table + " (ID INTEGER NOT NULL, NAME VARCHAR(64), TIME_ID TIMESTAMP, STATUS INTEGER, "
                + "LATITUDE DOUBLE PRECISION, LONGITUDE DOUBLE PRECISION)";
    }

    /**
     * Creates the scenario's source schema with its data and its sink schema with empty tables and the ledger.
     *
     * @return config table name → rows in the source
     */
    static Map<String, Integer> createSchemas(String src, String sink, List<String> districts, LocalDate day0, int days,
            long seed) throws SQLException {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, Integer> configRows = new java.util.LinkedHashMap<>();
        try (Connection c = dataSource(null).getConnection(); Statement s = c.createStatement()) {
            for (String schema : List.of(src, sink)) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
                s.execute("CREATE SCHEMA " + schema);
            }
            for (String d : districts) {
                int district = Integer.parseInt(d.substring(1));
                s.execute(vdsDdl(src + ".VDS30SEC_" + d));
                s.execute(vdsGenerate(src + ".VDS30SEC_" + d, district, day0, days, seed));
                s.execute(vdsDdl(sink + ".VDS30SEC_" + d));
                s.execute("CREATE INDEX ON " + sink + ".VDS30SEC_" + d + " (SAMPLE_TIME)");
            }
            for (String t : RelayChild.CONFIG_TABLES) {
                int rows = 20 + random.nextInt(t.endsWith("_LOG") ? 400 : 80);
                configRows.put(t, rows);
                s.execute(configDdl(src + "." + t));
                s.execute(configDdl(sink + "." + t));
                long salt = random.nextInt(1_000);
                s.execute("INSERT INTO " + src + "." + t + " SELECT i, 'station ' || ((i * 37 + " + salt + ") % 1000), "
                        + "TIMESTAMP '" + day0 + " 00:00:00' + i * interval '17 minutes', CASE WHEN i % 9 = 0 THEN NULL ELSE i % 4 END, "
                        + "32.5 + ((i * 7 + " + salt + ") % 1000) / 1000.0, -117.0 - ((i * 11) % 1000) / 1000.0 "
                        + "FROM generate_series(1, " + rows + ") i");
            }
        }
        JdbcCompletionLedger.builder(Jdbi.create(dataSource(sink))).table(LEDGER_TABLE).build().createTableIfNotExists();
        return configRows;
    }

    static void dropSchemas(String... schemas) {
        try (Connection c = dataSource(null).getConnection(); Statement s = c.createStatement()) {
            for (String schema : schemas) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        } catch (SQLException e) {
            System.err.println("could not drop " + String.join(", ", schemas) + ": " + e.getMessage());
        }
    }

    /** @return tasks the ledger holds as completed */
    static long ledgerCompleted(String sink) throws SQLException {
        try (Connection c = dataSource(null).getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + sink + "." + LEDGER_TABLE + " WHERE completed_at IS NOT NULL")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * The sink against the source, window by window.
     *
     * @param windows planned windows with rows in the source
     * @param lostWindows planned windows whose rows are missing in the sink (in part or whole)
     * @param duplicatedWindows windows with more rows in the sink than in the source
     * @param mismatchedWindows windows with the right count but another checksum
     * @param sourceRows rows in the source
     * @param sinkRows rows in the sink
     * @param configDiffs rows that differ between the source and sink config tables (both directions)
     */
    record Check(long windows, long lostWindows, long duplicatedWindows, long mismatchedWindows, long sourceRows,
            long sinkRows, long configDiffs) {
        boolean complete() {
            return lostWindows == 0 && configDiffs == 0;
        }

        boolean exact() {
            return complete() && duplicatedWindows == 0 && mismatchedWindows == 0 && sourceRows == sinkRows;
        }
    }

    static Check check(String src, String sink, List<String> districts) throws SQLException {
        long windows = 0;
        long lost = 0;
        long dup = 0;
        long mismatched = 0;
        long sourceRows = 0;
        long sinkRows = 0;
        long configDiffs = 0;
        try (Connection c = dataSource(null).getConnection(); Statement s = c.createStatement()) {
            for (String d : districts) {
                String perWindow = "SELECT date_bin('10 minutes', SAMPLE_TIME, TIMESTAMP '2000-01-01') AS w, count(*) AS n, "
                        + "sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint) AS h FROM %s.VDS30SEC_" + d + " t GROUP BY 1";
                String sql = "SELECT count(a.w), "
                        + "count(*) FILTER (WHERE a.w IS NOT NULL AND (b.n IS NULL OR b.n < a.n)), "
                        + "count(*) FILTER (WHERE b.n > coalesce(a.n, 0)), "
                        + "count(*) FILTER (WHERE b.n = a.n AND b.h <> a.h), "
                        + "coalesce(sum(a.n), 0), coalesce(sum(b.n), 0) "
                        + "FROM (" + perWindow.formatted(src) + ") a FULL JOIN (" + perWindow.formatted(sink) + ") b ON a.w = b.w";
                try (ResultSet rs = s.executeQuery(sql)) {
                    rs.next();
                    windows += rs.getLong(1);
                    lost += rs.getLong(2);
                    dup += rs.getLong(3);
                    mismatched += rs.getLong(4);
                    sourceRows += rs.getLong(5);
                    sinkRows += rs.getLong(6);
                }
            }
            for (String t : RelayChild.CONFIG_TABLES) {
                String a = src + "." + t;
                String b = sink + "." + t;
                try (ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM (SELECT * FROM " + a + " EXCEPT ALL SELECT * FROM "
                        + b + ") x) + (SELECT count(*) FROM (SELECT * FROM " + b + " EXCEPT ALL SELECT * FROM " + a + ") y)")) {
                    rs.next();
                    configDiffs += rs.getLong(1);
                }
            }
        }
        return new Check(windows, lost, dup, mismatched, sourceRows, sinkRows, configDiffs);
    }

    // ---------------------------------------------------------------- Kafka

    static Admin admin(String servers) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers));
    }

    static void createTopics(String servers, KafkaTopics topics) {
        try (Admin admin = admin(servers)) {
            topics.create(admin, RelayChild.LANES, Duration.ofSeconds(60));
        }
    }

    /** What went into the lane topics that must come out in the dead-letter topics, and nothing else. */
    record BadInputs(Set<String> poisonIds, Set<String> malformedHex) {
        int size() {
            return poisonIds.size() + malformedHex.size();
        }
    }

    /**
     * Writes poison tasks (they always fail: their source table does not exist) and malformed records (bytes that
     * do not decode) raw into the lane topics.
     */
    static BadInputs writeBadInputs(String servers, KafkaTopics topics, LocalDate day0, long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        List<Task> poison = List.of(
                // the PeMS incident: a crashed config task that once stalled every lane
                Task.builder("config", "config").scope(Snapshot.of(day0)).parameter("table", "CONTROLLER_CONFIG_LOG_CRASHED").build(),
                Task.builder("config", "config").scope(Snapshot.of(day0.plusDays(1))).parameter("table", "DETECTOR_CONFIG_MISSING").build(),
                Task.builder("realtime", "vds30sec").scope(Window.starting(day0.atTime(8, 0).plusMinutes(10L * random.nextInt(30)),
                        Duration.ofMinutes(10))).parameter("district", "D99").build(),
                Task.builder("backfill", "vds30sec").scope(Window.starting(LocalDateTime.of(day0, java.time.LocalTime.NOON),
                        Duration.ofMinutes(10))).parameter("district", "D98").build());
        byte[] valid = TaskRecordCodec.encode(poison.get(0));
        byte[] garbage = new byte[24 + random.nextInt(40)];
        for (int i = 0; i < garbage.length; i++) {
            garbage[i] = (byte) random.nextInt(256);
        }
        garbage[0] = 0x00; // never the codec's magic byte
        byte[] unknownVersion = valid.clone();
        unknownVersion[1] = 99;
        byte[] truncated = java.util.Arrays.copyOf(valid, valid.length / 2);
        List<byte[]> malformed = List.of(garbage, unknownVersion, truncated);
        Set<String> poisonIds = new HashSet<>();
        Set<String> malformedHex = new HashSet<>();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (Task t : poison) {
                producer.send(new ProducerRecord<>(topics.laneTopic(t.lane()), t.id().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        TaskRecordCodec.encode(t))).get();
                poisonIds.add(t.id());
            }
            List<String> lanes = List.of("realtime", "backfill", "config");
            for (int i = 0; i < malformed.size(); i++) {
                producer.send(new ProducerRecord<>(topics.laneTopic(lanes.get(i)), null, malformed.get(i))).get();
                malformedHex.add(HexFormat.of().formatHex(malformed.get(i)));
            }
        }
        return new BadInputs(poisonIds, malformedHex);
    }

    /** One dead letter: the task id if it decodes, else the hex of its bytes. */
    static List<String> readDeadLetters(String servers, KafkaTopics topics) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (String lane : RelayChild.LANES) {
                for (PartitionInfo pi : consumer.partitionsFor(topics.deadLetterTopic(lane), Duration.ofSeconds(30))) {
                    parts.add(new TopicPartition(pi.topic(), pi.partition()));
                }
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                boolean done = true;
                for (TopicPartition tp : parts) {
                    done &= consumer.position(tp, Duration.ofSeconds(30)) >= end.get(tp);
                }
                if (done) {
                    break;
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(identify(r.value()));
                }
            }
        }
        return out;
    }

    static String identify(byte[] value) {
        try {
            return TaskRecordCodec.decode(value).id();
        } catch (RuntimeException e) {
            return HexFormat.of().formatHex(value);
        }
    }
}
