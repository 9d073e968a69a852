package dev.relay.jdbc;

import dev.relay.api.Column;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.JDBCType;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.strings;

/** The staged file format: content, escaping, rolling and byte-for-byte determinism. */
class CsvGzipWriterTest {

    static final RowSchema SCHEMA = RowSchema.of(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP),
            new Column("VDS_ID", JDBCType.INTEGER), new Column("OCC", JDBCType.DOUBLE),
            new Column("NAME", JDBCType.VARCHAR), new Column("AMOUNT", JDBCType.NUMERIC),
            new Column("ACTIVE", JDBCType.BOOLEAN), new Column("DAY", JDBCType.DATE),
            new Column("AT", JDBCType.TIMESTAMP_WITH_TIMEZONE), new Column("RAW", JDBCType.VARBINARY));

    static String gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void write_eachKindOfValue_isRenderedInTheDeclaredFormat() throws Exception {
        Path dir = Files.createTempDirectory("csv");
        CsvGzipWriter w = new CsvGzipWriter(dir, 10);
        w.write(Row.of(SCHEMA, LocalDateTime.of(2024, 11, 3, 1, 30), 7, 0.0001, "He said \"hi\", then\nleft",
                new BigDecimal("1E+3"), true, LocalDate.of(2024, 3, 14),
                OffsetDateTime.of(2024, 11, 3, 1, 30, 0, 5, ZoneOffset.ofHours(-8)), new byte[] {0x0f, (byte) 0xa0}));
        w.write(Row.of(SCHEMA, LocalDateTime.of(2024, 3, 14, 0, 0, 30), null, null, "", null, false, null, null, null));
        List<CsvGzipWriter.StagedFile> files = w.finish();
        assertEquals(1, files.size());
        assertEquals("part-00000.csv.gz", files.get(0).name());
        assertEquals(2, files.get(0).rows());
        assertEquals("2024-11-03T01:30:00.000000000,7,0.0001,\"He said \"\"hi\"\", then\nleft\",1000,TRUE,2024-03-14,"
                        + "2024-11-03T01:30:00.000000005-08:00,0FA0\n"
                        + "2024-03-14T00:00:30.000000000,,,\"\",,FALSE,,,\n",
                gunzip(files.get(0).path()));
    }

    @Test
    void write_moreRowsThanAFileHolds_rollsToNumberedFiles() throws Exception {
        Path dir = Files.createTempDirectory("csv");
        CsvGzipWriter w = new CsvGzipWriter(dir, 2);
        for (int i = 0; i < 5; i++) {
            w.write(Row.of(SCHEMA, LocalDateTime.of(2024, 1, 1, 0, 0).plusSeconds(i), i, null, null, null, null, null,
                    null, null));
        }
        List<CsvGzipWriter.StagedFile> files = w.finish();
        assertEquals(List.of("part-00000.csv.gz", "part-00001.csv.gz", "part-00002.csv.gz"),
                files.stream().map(CsvGzipWriter.StagedFile::name).toList());
        assertEquals(List.of(2L, 2L, 1L), files.stream().map(CsvGzipWriter.StagedFile::rows).toList());
        assertEquals(5, w.rows());
    }

    @Test
    void write_sameRowsTwice_givesByteIdenticalFiles(@TempDir Path a, @TempDir Path b) throws Exception {
        for (Path dir : List.of(a, b)) {
            CsvGzipWriter w = new CsvGzipWriter(dir, 1000);
            for (Object[] r : Vds30Sec.samples(LocalDateTime.of(2024, 3, 14, 0, 0), 100, 3)) {
                w.write(Row.of(vdsSchema(), r));
            }
            w.finish();
            Thread.sleep(1100); // a gzip header with a time stamp would differ now
        }
        assertArrayEquals(Files.readAllBytes(a.resolve("part-00000.csv.gz")),
                Files.readAllBytes(b.resolve("part-00000.csv.gz")), "a retry must stage the same bytes");
    }

    @Test
    void appendValue_anyString_parsesBackToTheSameText() {
        // a minimal reader of the declared format: enclosed by '"', '"' doubled inside
        qt().withExamples(300).forAll(lists().of(strings().basicMultilingualPlaneAlphabet().ofLengthBetween(0, 12))
                .ofSizeBetween(1, 4)).checkAssert(values -> {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < values.size(); i++) {
                if (i > 0) {
                    line.append(',');
                }
                CsvGzipWriter.appendValue(line, values.get(i));
            }
            assertEquals(values, parse(line.toString()));
        });
    }

    static List<String> parse(String line) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i <= line.length()) {
            StringBuilder field = new StringBuilder();
            if (i < line.length() && line.charAt(i) == '"') {
                i++;
                while (true) {
                    char c = line.charAt(i++);
                    if (c == '"') {
                        if (i < line.length() && line.charAt(i) == '"') {
                            field.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        field.append(c);
                    }
                }
            }
            out.add(field.toString());
            i++; // the comma
        }
        return out;
    }

    static RowSchema vdsSchema() {
        List<Column> columns = new ArrayList<>(Arrays.asList(new Column("SAMPLE_TIME", JDBCType.TIMESTAMP),
                new Column("RECV_TIME", JDBCType.TIMESTAMP), new Column("VDS_ID", JDBCType.INTEGER)));
        for (int i = 1; i <= Vds30Sec.LOOPS; i++) {
            columns.add(new Column("LOOP" + i + "_VOL", JDBCType.INTEGER));
            columns.add(new Column("LOOP" + i + "_OCC", JDBCType.DOUBLE));
            columns.add(new Column("LOOP" + i + "_SPD", JDBCType.DOUBLE));
        }
        return RowSchema.of(columns);
    }
}
