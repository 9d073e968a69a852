/**
 * The fair scheduler and the relay engine.
 *
 * <ul>
 *   <li>{@link dev.relay.core.FairScheduler} — deficit round robin over lanes with cost charged after
 *       completion, a hard cap of source permits, dedicated permits, in-flight caps, rate limits; its class
 *       comment states the invariants and the starvation bound with their derivation;
 *   <li>{@link dev.relay.core.Relay} — the engine: lanes' buffers, dispatch onto workers, ack after commit,
 *       retries off-permit, dead letters, suspension of failing lanes, graceful shutdown, metrics and
 *       {@link dev.relay.core.RelaySnapshot snapshots};
 *   <li>{@link dev.relay.core.ControlExecutor} — the seam that lets the same engine run on real threads or in
 *       the deterministic simulation of {@code relay-testkit};
 *   <li>{@code dev.relay.core.plan} — planners: realtime ticker, daily snapshots, backfill, gaps, ledger.
 * </ul>
 *
 * <p>This package knows no backend: queues, pullers and sinks come in through {@code relay-api}.
 */
package dev.relay.core;
