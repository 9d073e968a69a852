/**
 * Test support for relay: the {@link dev.relay.testkit.TaskQueueContractTest contract suite} every
 * {@link dev.relay.api.TaskQueue} backend passes, a {@link dev.relay.testkit.VirtualClock}, and the
 * deterministic simulation harness that drives the real scheduler and engine on virtual time.
 */
package dev.relay.testkit;
