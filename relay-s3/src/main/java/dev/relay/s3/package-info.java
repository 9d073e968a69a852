/**
 * An S3 Parquet {@link dev.relay.api.Sink}: {@link dev.relay.s3.S3ParquetSink} writes each task's rows as Parquet
 * objects under deterministic keys, for a pipe that loads from the bucket (PeMS's Snowpipe into
 * {@code RAW.DB96.VDS30SEC}).
 *
 * <h2>Column mapping</h2>
 * Every column is {@code OPTIONAL} (SQL null is Parquet null), named as the row schema names it:
 * <table>
 *   <caption>JDBC type of the row schema → Parquet type</caption>
 *   <tr><th>JDBC</th><th>Parquet</th></tr>
 *   <tr><td>BIT, BOOLEAN</td><td>BOOLEAN</td></tr>
 *   <tr><td>TINYINT, SMALLINT, INTEGER</td><td>INT32, INT(8|16|32, signed)</td></tr>
 *   <tr><td>BIGINT</td><td>INT64, INT(64, signed)</td></tr>
 *   <tr><td>REAL</td><td>FLOAT</td></tr>
 *   <tr><td>FLOAT, DOUBLE</td><td>DOUBLE</td></tr>
 *   <tr><td>NUMERIC, DECIMAL</td><td>DECIMAL(p, s): INT32 up to p = 9, INT64 up to 18, FIXED_LEN_BYTE_ARRAY above;
 *       p and s from {@code decimal(…)} (default 38, 9)</td></tr>
 *   <tr><td>CHAR, VARCHAR, NCHAR, NVARCHAR, LONG(N)VARCHAR, CLOB, NCLOB, SQLXML, ROWID</td><td>BINARY, STRING</td></tr>
 *   <tr><td>BINARY, VARBINARY, LONGVARBINARY, BLOB</td><td>BINARY</td></tr>
 *   <tr><td>DATE</td><td>INT32, DATE</td></tr>
 *   <tr><td>TIME</td><td>TIME(unit, isAdjustedToUTC = false)</td></tr>
 *   <tr><td>TIMESTAMP</td><td>INT64, TIMESTAMP(unit, isAdjustedToUTC = false): a local date-time, as PeMS's
 *       {@code SAMPLE_TIME} is; its wall-clock fields are written, whatever the JVM's time zone</td></tr>
 *   <tr><td>TIMESTAMP_WITH_TIMEZONE</td><td>INT64, TIMESTAMP(unit, isAdjustedToUTC = true): the instant</td></tr>
 * </table>
 * The unit is {@code timestampUnit(…)} (default microseconds). Other JDBC types fail the task when its session
 * opens. No value is rounded or truncated: a value that does not fit its column fails the task, naming the row, the
 * column and the value.
 *
 * <h2>Memory and visibility</h2>
 * A session holds one row group ({@code rowGroupSize}, default 16 MiB) and one multipart-upload part
 * ({@code partSize}, default 8 MiB) at most; its uploads are completed in {@code commit} only, after every file of
 * the task is written, and aborted by {@code abort}.
 *
 * <p>Nothing of Hadoop is loaded at run time: pages are compressed by this package's own codec factory (Snappy,
 * GZIP) and written through parquet-java's {@code OutputFile}.
 */
package dev.relay.s3;
