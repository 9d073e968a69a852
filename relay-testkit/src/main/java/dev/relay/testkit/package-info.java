/**
 * The backend contract kit: the {@link dev.relay.testkit.TaskQueueContractTest contract suite} every
 * {@link dev.relay.api.TaskQueue} backend passes (a backend's test class extends it and supplies the queue).
 * Depends on relay-api and JUnit only; the virtual clock and the deterministic simulation of the engine are
 * in relay-simulation.
 */
package dev.relay.testkit;
