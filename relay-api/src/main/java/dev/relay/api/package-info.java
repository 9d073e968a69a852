/**
 * The public types of relay.
 *
 * <p>A {@link dev.relay.api.Task} names a registered source query and the {@link dev.relay.api.Scope} it
 * pulls (a half-open {@link dev.relay.api.Window} or a daily {@link dev.relay.api.Snapshot}); its
 * {@link dev.relay.api.Task#id() id} is derived from exactly that and is the idempotency key all the way
 * to the sink. Tasks travel through a durable {@link dev.relay.api.TaskQueue} per
 * {@linkplain dev.relay.api.LaneSpec lane}, are handed out as {@link dev.relay.api.Lease}s, pulled from the
 * source by a {@link dev.relay.api.Puller} in bounded chunks and written by a {@link dev.relay.api.Sink}
 * whose session can be repeated without duplicating rows.
 *
 * <p>This module depends on nothing but the JDK, so that backends ({@code relay-inmemory},
 * {@code relay-kafka}, {@code relay-jdbc}) implement it without knowing the engine.
 */
package dev.relay.api;
