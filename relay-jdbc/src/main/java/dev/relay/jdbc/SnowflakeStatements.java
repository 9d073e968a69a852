package dev.relay.jdbc;

import dev.relay.api.Column;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The SQL text the {@link SnowflakeSink} sends for one task. Pure functions of validated identifiers, the task
 * id and local file names, so the text is tested without a server. Immutable and threadsafe.
 */
final class SnowflakeStatements {

    /** The file format of {@link CsvGzipWriter}'s output. */
    static final String FILE_FORMAT = "FILE_FORMAT = (TYPE = CSV COMPRESSION = GZIP FIELD_DELIMITER = ','"
            + " RECORD_DELIMITER = '\\n' SKIP_HEADER = 0 FIELD_OPTIONALLY_ENCLOSED_BY = '\"' ESCAPE = NONE"
            + " ESCAPE_UNENCLOSED_FIELD = NONE EMPTY_FIELD_AS_NULL = TRUE NULL_IF = () ENCODING = 'UTF8'"
            + " ERROR_ON_COLUMN_COUNT_MISMATCH = TRUE TIMESTAMP_FORMAT = AUTO DATE_FORMAT = AUTO TIME_FORMAT = AUTO"
            + " BINARY_FORMAT = HEX)";

    /** Snowflake's limit on the names in one COPY's FILES list. */
    static final int MAX_FILES_PER_COPY = 1000;

    private final String table;
    private final String stage;
    private final String stagePath;
    private final List<Column> columns;
    private final String filenameColumn;

    /**
     * @param table the qualified target table
     * @param stage the stage, e.g. {@code @RAW.DB96.RELAY}
     * @param stagePath the task's directory on the stage, e.g. {@code relay/VDS30SEC/<task id>/}
     * @param columns target columns in file order
     * @param filenameColumn a target column that receives {@code METADATA$FILENAME}, or null
     */
    SnowflakeStatements(String table, String stage, String stagePath, List<Column> columns, String filenameColumn) {
        this.table = table;
        this.stage = stage;
        this.stagePath = stagePath;
        this.columns = List.copyOf(columns);
        this.filenameColumn = filenameColumn;
    }

    /** @return the task's location on the stage */
    String location() {
        return stage + "/" + stagePath;
    }

    /**
     * @param localDirectory the session's directory of part files
     * @return the PUT that uploads them; OVERWRITE = FALSE, so a file already staged under its deterministic
     *         name (by an earlier attempt) is kept as it is and COPY's load history still recognises it
     */
    String put(Path localDirectory) {
        String dir = localDirectory.toAbsolutePath().toString().replace('\\', '/');
        return "PUT 'file://" + (dir.startsWith("/") ? "" : "/") + dir + "/part-*.csv.gz' " + location()
                + " AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = FALSE PARALLEL = 4";
    }

    /**
     * @param into the table to copy into
     * @param files the file names, at most {@link #MAX_FILES_PER_COPY}
     * @param force whether to load files again although the load history has them (fresh staging tables)
     * @return the COPY statement
     */
    String copy(String into, List<String> files, boolean force) {
        StringBuilder sql = new StringBuilder("COPY INTO ").append(into).append(" (");
        StringBuilder select = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append(columns.get(i).name());
            select.append(i == 0 ? "" : ", ").append('$').append(i + 1);
        }
        if (filenameColumn != null) {
            sql.append(", ").append(filenameColumn);
            select.append(", METADATA$FILENAME");
        }
        sql.append(") FROM (SELECT ").append(select).append(" FROM ").append(location()).append(") FILES = (");
        for (int i = 0; i < files.size(); i++) {
            sql.append(i == 0 ? "'" : ", '").append(files.get(i)).append('\'');
        }
        sql.append(") ").append(FILE_FORMAT).append(" ON_ERROR = ABORT_STATEMENT");
        if (force) {
            sql.append(" FORCE = TRUE");
        }
        return sql.toString();
    }

    /**
     * @param files all file names of the task
     * @param into the table
     * @param force see {@link #copy(String, List, boolean)}
     * @return one COPY per {@link #MAX_FILES_PER_COPY} files
     */
    List<String> copies(String into, List<String> files, boolean force) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < files.size(); i += MAX_FILES_PER_COPY) {
            out.add(copy(into, files.subList(i, Math.min(files.size(), i + MAX_FILES_PER_COPY)), force));
        }
        return out;
    }

    /** @return the name of every loaded column, in order (the file's columns, then the file name column) */
    List<String> loadedColumns() {
        List<String> names = new ArrayList<>();
        columns.forEach(c -> names.add(c.name()));
        if (filenameColumn != null) {
            names.add(filenameColumn);
        }
        return names;
    }

    /**
     * @param temp the session's temporary table
     * @return the statement creating it with the target's columns
     */
    String createTemporaryLike(String temp) {
        return "CREATE TEMPORARY TABLE " + temp + " LIKE " + table;
    }

    /**
     * @param stageTable a staging table
     * @param targetExists whether the target exists (then the staging table copies its columns)
     * @return the statement creating or replacing the staging table
     */
    String createStage(String stageTable, boolean targetExists) {
        if (targetExists) {
            return "CREATE OR REPLACE TABLE " + stageTable + " LIKE " + table;
        }
        StringBuilder sql = new StringBuilder("CREATE OR REPLACE TABLE ").append(stageTable).append(" (");
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append(columns.get(i).name()).append(' ')
                    .append(Dialect.SNOWFLAKE.sqlType(columns.get(i)));
        }
        if (filenameColumn != null) {
            sql.append(", ").append(filenameColumn).append(" VARCHAR");
        }
        return sql.append(')').toString();
    }

    /**
     * @param temp the table holding the task's rows
     * @param keys the key columns
     * @return the MERGE of the task's rows into the target on the keys
     */
    String merge(String temp, List<String> keys) {
        List<String> all = loadedColumns();
        StringBuilder sql = new StringBuilder("MERGE INTO ").append(table).append(" t USING ").append(temp)
                .append(" s ON ");
        for (int i = 0; i < keys.size(); i++) {
            sql.append(i == 0 ? "" : " AND ").append("t.").append(keys.get(i)).append(" = s.").append(keys.get(i));
        }
        List<String> rest = new ArrayList<>();
        for (String c : all) {
            if (keys.stream().noneMatch(k -> k.equalsIgnoreCase(c))) {
                rest.add(c);
            }
        }
        if (!rest.isEmpty()) {
            sql.append(" WHEN MATCHED THEN UPDATE SET ");
            for (int i = 0; i < rest.size(); i++) {
                sql.append(i == 0 ? "" : ", ").append("t.").append(rest.get(i)).append(" = s.").append(rest.get(i));
            }
        }
        sql.append(" WHEN NOT MATCHED THEN INSERT (").append(String.join(", ", all)).append(") VALUES (");
        for (int i = 0; i < all.size(); i++) {
            sql.append(i == 0 ? "s." : ", s.").append(all.get(i));
        }
        return sql.append(')').toString();
    }

    /**
     * @param table a table
     * @return the statement counting its rows
     */
    static String count(String table) {
        return "SELECT COUNT(*) FROM " + table;
    }

    /**
     * @param table a table
     * @return the statement dropping it if it exists
     */
    static String drop(String table) {
        return "DROP TABLE IF EXISTS " + table;
    }
}
