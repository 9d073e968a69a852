/**
 * JDBC pullers and sinks over Jdbi (and, in {@code dev.relay.jdbc.ledger}, a JDBC completion ledger).
 *
 * <p>The public types are few: {@link dev.relay.jdbc.JdbcPuller} streams the rows of
 * {@link dev.relay.jdbc.SourceQuery source queries} registered in code by name; {@link dev.relay.jdbc.WindowSink}
 * replaces a task's window in one transaction; {@link dev.relay.jdbc.SnapshotSink} loads a snapshot into a
 * staging table, checks its row count and swaps it in; {@link dev.relay.jdbc.SnowflakeSink} stages gzip CSV files
 * with names derived from the task id and loads them with COPY, MERGE or a SWAP; {@link dev.relay.jdbc.Dialect}
 * names the databases. Everything else in this package is package-private and may change at any time.
 *
 * <p>Safety rules every class here follows: values are always bound, never concatenated; identifiers (tables,
 * schemas, columns) reach SQL text only after matching {@code [A-Za-z][A-Za-z0-9_]*} and, for task-chosen
 * names, a pattern declared in code; exception messages and attached causes are redacted of credentials;
 * timestamps are bound and read as {@link java.time.LocalDateTime}, never through the JVM's time zone.
 */
package dev.relay.jdbc;
