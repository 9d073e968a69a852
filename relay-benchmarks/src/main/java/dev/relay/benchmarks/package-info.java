/**
 * JMH benchmarks of the relay, each against a baseline measured in the same run; results and commands are in
 * {@code BENCHMARKS.md} at the repository root. Nothing here is API, and nothing depends on this module.
 */
package dev.relay.benchmarks;
