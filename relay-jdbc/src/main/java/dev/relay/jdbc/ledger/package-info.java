/**
 * A {@link dev.relay.api.PlanningLedger} in a relational database over Jdbi:
 * {@link dev.relay.jdbc.ledger.JdbcCompletionLedger}. Tested on H2 and PostgreSQL; the SQL is plain (no
 * MERGE or ON CONFLICT), so it also runs on Oracle once the table exists.
 */
package dev.relay.jdbc.ledger;
