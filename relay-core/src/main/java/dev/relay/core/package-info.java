/**
 * The fair scheduler and the relay engine.
 *
 * <p>Public:
 * <ul>
 *   <li>{@link dev.relay.core.FairScheduler} — deficit round robin over lanes with cost charged after
 *       completion, a hard cap of source permits with a run-time limit, dedicated permits, in-flight caps, rate
 *       limits; its class comment states the invariants and the starvation bound with their derivation;
 *   <li>{@link dev.relay.core.Relay} — the engine's façade (lifecycle, admin, snapshots) and its builder; its class
 *       comment states the engine's invariants;
 *   <li>{@link dev.relay.core.RelaySnapshot}, {@link dev.relay.core.LaneSnapshot}, {@link dev.relay.core.LaneState},
 *       {@link dev.relay.core.RelayListener}, {@link dev.relay.core.CostMeasure} — what the engine shows;
 *   <li>{@link dev.relay.core.ControlExecutor} — the seam that lets the same engine run on real threads or in the
 *       deterministic simulation of {@code relay-simulation}.
 * </ul>
 *
 * <p>The engine inside (package-private), one owner per piece of state:
 * <ul>
 *   <li>{@code ControlLoop} — the control role: the runs in flight and the scheduler, changed in control turns
 *       (intake, dispatch, finish, admin, housekeeping, shutdown);
 *   <li>{@code Lanes}, {@code LaneRun}, {@code ActiveIds}/{@code IdTable} — the lanes, each lane's run state, and
 *       the one active delivery per task id and sink;
 *   <li>{@code TaskRun} — one delivery, and the only code on worker threads; {@code Orphans} — starts whose worker
 *       had left; {@code InFlight} — the runs holding permits;
 *   <li>{@code AttemptPolicy} — complete, retry, release, dead-letter or suspend, as a pure function;
 *       {@code Leases} — the one way a lease is ended;
 *   <li>{@code Turn} — a turn's clock reading and what it publishes; {@code LaneStats}, {@code EngineStats},
 *       {@code WaitHistogram} — what other threads read; {@code RelayMetrics} — the Micrometer meters over them;
 *       {@code UnservedLanes} — tasks waiting in lanes nobody serves;
 *   <li>{@code RelayConfig} — the immutable configuration; {@code SerialControlExecutor} — the default executor of
 *       control turns.
 * </ul>
 *
 * <p>{@code dev.relay.core.plan} holds the planners (realtime ticker, daily snapshots, backfill, gaps, ledger) and
 * {@code dev.relay.core.pressure} the adaptive source pressure.
 *
 * <p>This package knows no backend: queues, pullers and sinks come in through {@code relay-api}.
 */
package dev.relay.core;
