/**
 * JDBC pullers and sinks over Jdbi, and a JDBC completion ledger.
 */
package dev.relay.jdbc;
