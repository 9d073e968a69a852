/**
 * The operator's command line, {@code java -jar relay-cli.jar}: {@code lanes} (the lanes of a Kafka layout and
 * their lag), {@code gaps} and {@code manifest} (a JDBC completion ledger's missing windows, and the dates a
 * backfill touched), {@code migrate} (a legacy single task topic into per-lane topics) and {@code deadletters list |
 * replay | purge} (a lane's dead letters on Kafka). {@code --help} on
 * every command; a bad argument ends with a message and exit status 2, a failure with a message and exit status
 * 1. {@link dev.relay.cli.RelayCli} is the entry point; the commands are package-private.
 */
package dev.relay.cli;
