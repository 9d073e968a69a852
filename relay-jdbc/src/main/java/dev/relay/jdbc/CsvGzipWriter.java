package dev.relay.jdbc;

import dev.relay.api.Row;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Writes rows as gzip-compressed CSV files {@code part-00000.csv.gz}, {@code part-00001.csv.gz}, … of at most
 * {@code rowsPerFile} rows each, in the format {@link SnowflakeStatements#FILE_FORMAT} declares:
 * <ul>
 *   <li>comma-separated, {@code \n} between records, no header, UTF-8;</li>
 *   <li>text always enclosed in {@code "}, with {@code "} doubled (commas, newlines, quotes and SQL are data);</li>
 *   <li>NULL is an empty unenclosed field; an empty string is {@code ""} (EMPTY_FIELD_AS_NULL = TRUE);</li>
 *   <li>numbers plain (no exponent), booleans TRUE/FALSE, binary as hex, times ISO-8601 with nine fraction
 *       digits ({@code 2024-03-14T10:00:30.000000000}, offset appended for TIMESTAMP WITH TIME ZONE).</li>
 * </ul>
 * Output is deterministic: the same rows give the same bytes (the gzip header carries no time stamp), so a
 * retried task stages byte-identical files under the same names. Owned by one thread.
 */
final class CsvGzipWriter implements AutoCloseable {

    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSS");
    private static final DateTimeFormatter TIMESTAMP_TZ =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSSxxx");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSSSSS");
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private final Path directory;
    private final int rowsPerFile;
    private final List<StagedFile> files = new ArrayList<>();
    private final StringBuilder line = new StringBuilder(512);
    private Writer out;
    private Path current;
    private long rowsInFile;
    private long rows;

    /**
     * @param directory an existing, empty directory of this session
     * @param rowsPerFile the most rows per file
     */
    CsvGzipWriter(Path directory, int rowsPerFile) {
        this.directory = directory;
        this.rowsPerFile = rowsPerFile;
    }

    /**
     * @param index a file index from 0
     * @return its name
     */
    static String fileName(int index) {
        return String.format("part-%05d.csv.gz", index);
    }

    /**
     * @param row a row
     * @throws IOException if the file cannot be written
     */
    void write(Row row) throws IOException {
        if (out == null) {
            current = directory.resolve(fileName(files.size()));
            out = new BufferedWriter(new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(current), 1 << 16),
                    StandardCharsets.UTF_8), 1 << 16);
        }
        line.setLength(0);
        for (int i = 0; i < row.size(); i++) {
            if (i > 0) {
                line.append(',');
            }
            appendValue(line, row.get(i));
        }
        line.append('\n');
        out.append(line);
        rows++;
        if (++rowsInFile >= rowsPerFile) {
            closeFile();
        }
    }

    private void closeFile() throws IOException {
        if (out != null) {
            out.close();
            files.add(new StagedFile(current.getFileName().toString(), current, rowsInFile));
            out = null;
            rowsInFile = 0;
        }
    }

    /**
     * Closes the last file.
     *
     * @return the files written, in order
     * @throws IOException if the last file cannot be closed
     */
    List<StagedFile> finish() throws IOException {
        closeFile();
        return List.copyOf(files);
    }

    /** @return rows written so far */
    long rows() {
        return rows;
    }

    @Override
    public void close() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // the session's directory is deleted after this
            }
            out = null;
        }
    }

    /**
     * @param sb where to append
     * @param v a row value
     */
    static void appendValue(StringBuilder sb, Object v) {
        if (v == null) {
            return;
        }
        if (v instanceof String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"') {
                    sb.append('"');
                }
                sb.append(c);
            }
            sb.append('"');
        } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger) {
            sb.append(v);
        } else if (v instanceof BigDecimal d) {
            sb.append(d.toPlainString());
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d)) {
                sb.append("NaN");
            } else if (Double.isInfinite(d)) {
                sb.append(d > 0 ? "inf" : "-inf");
            } else {
                sb.append(new BigDecimal(v.toString()).stripTrailingZeros().toPlainString());
            }
        } else if (v instanceof Boolean b) {
            sb.append(b ? "TRUE" : "FALSE");
        } else if (v instanceof LocalDateTime t) {
            sb.append(TIMESTAMP.format(t));
        } else if (v instanceof OffsetDateTime t) {
            sb.append(TIMESTAMP_TZ.format(t));
        } else if (v instanceof LocalDate d) {
            sb.append(d);
        } else if (v instanceof LocalTime t) {
            sb.append(TIME.format(t));
        } else if (v instanceof byte[] bytes) {
            for (byte b : bytes) {
                sb.append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
            }
        } else {
            appendValue(sb, v.toString());
        }
    }

    /**
     * A file ready to stage.
     *
     * @param name its name, also its name on the stage
     * @param path where it is locally
     * @param rows the rows it holds
     */
    record StagedFile(String name, Path path, long rows) {
    }
}
