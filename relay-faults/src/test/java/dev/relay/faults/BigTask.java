package dev.relay.faults;

import dev.relay.api.Column;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import java.nio.charset.StandardCharsets;
import java.sql.JDBCType;
import java.time.LocalDateTime;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/** The rows of the bounded-memory test's one big task, generated from a seed, and their order-sensitive checksum. */
final class BigTask {

    static final RowSchema SCHEMA = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP), new Column("VDS_ID", JDBCType.INTEGER),
            new Column("DETAIL", JDBCType.VARCHAR), new Column("SPEED", JDBCType.DOUBLE));
    /** Characters of each row's DETAIL string: rows of about 2 KB. */
    static final int DETAIL = 2_000;

    private BigTask() {
    }

    static Row row(long seed, int i) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + i);
        char[] detail = new char[DETAIL];
        for (int k = 0; k < DETAIL; k++) {
            detail[k] = (char) ('a' + r.nextInt(26));
        }
        return Row.of(SCHEMA, LocalDateTime.of(2024, 3, 14, 10, 0).plusNanos(30_000_000L * i), 400_000 + (i % 4_000),
                new String(detail), r.nextDouble() * 70);
    }

    static void hash(CRC32C crc, Row row) {
        crc.update((row.get(0) + "|" + row.get(1) + "|" + row.get(2) + "|" + row.get(3) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
