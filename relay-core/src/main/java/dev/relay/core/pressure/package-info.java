/**
 * Adaptive source pressure: the relay backs off when its source slows down, and the source's owners can brake it.
 *
 * <ul>
 *   <li>{@link dev.relay.core.pressure.Pressure} — the settings (static factory, builder, immutable), given to
 *       {@code Relay.builder().pressure(…)}; {@link dev.relay.core.pressure.Pressure#off()} is the default;
 *   <li>{@link dev.relay.core.pressure.LimitRule} — how the effective limit {@code P_eff ≤ P} moves after a completed
 *       pull, pluggable; {@link dev.relay.core.pressure.AimdRule} (additive increase, multiplicative decrease) is the
 *       default;
 *   <li>{@link dev.relay.core.pressure.CostBasis} — what a pull's latency is normalised by (rows, window-minutes)
 *       before it is compared with its source's learned baseline;
 *   <li>{@link dev.relay.core.pressure.Brake} and {@link dev.relay.core.pressure.BrakeCheck} — a check polled at an
 *       interval that stops new pulls while it says stop: {@link dev.relay.core.pressure.HttpBrakeCheck} (200 is go),
 *       {@link dev.relay.core.pressure.SqlBrakeCheck} (a number against a threshold; queries for Oracle and
 *       PostgreSQL in its class comment);
 *   <li>{@link dev.relay.core.pressure.PressureControl} — one relay's runtime state, owned by the engine's control
 *       thread (its class comment holds the design and its invariants), and
 *       {@link dev.relay.core.pressure.PressureSnapshot}, what it shows.
 * </ul>
 * Nothing here starts a thread except a brake without an executor of its own (one daemon thread per relay, stopped at
 * shutdown); time comes from the engine's clock and timer, so the same code runs in the deterministic simulation.
 * Only the JDK is used ({@code java.net.http}, {@code java.sql}): no driver, no backend.
 */
package dev.relay.core.pressure;
