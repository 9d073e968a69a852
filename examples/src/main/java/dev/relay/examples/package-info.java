/**
 * Runnable examples of relay.
 *
 * <ul>
 *   <li>{@link dev.relay.examples.IncidentDemo}: the PeMS incident replayed on embedded defaults (H2 source in
 *       Oracle mode, in-memory queue, H2 warehouse) in compressed time, with a live view, an HTML report with
 *       charts and a verdict checked against the databases;
 *   <li>{@link dev.relay.examples.QuickStart}: the smallest service embedding relay, the README's quick start.
 * </ul>
 * Everything else in this package is package-private demo code and may change at any time.
 */
package dev.relay.examples;
