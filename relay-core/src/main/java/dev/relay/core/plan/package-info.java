/**
 * Planning: which windows and snapshots to offer to which lane, and when.
 *
 * <ul>
 *   <li>{@link dev.relay.core.plan.RealtimeTicker} plans windows as they close, into the realtime lane, and
 *       routes windows older than a horizon (after downtime) lazily into the backfill lane;
 *   <li>{@link dev.relay.core.plan.SnapshotSchedule} plans daily snapshot tasks at a local time of day, at
 *       most once per day;
 *   <li>{@link dev.relay.core.plan.BackfillPlanner} plans a range lazily in chunks, with progress;
 *   <li>{@link dev.relay.core.plan.GapDetector} lists and re-plans the windows of a range that are not done;
 *   <li>{@link dev.relay.core.plan.BackfillManifest} lists the dates a backfill touched;
 *   <li>{@link dev.relay.core.plan.InMemoryCompletionLedger} is the in-memory
 *       {@link dev.relay.api.PlanningLedger} ({@code relay-jdbc} has a durable one);
 *   <li>{@link dev.relay.core.plan.PlanningLoop} runs the planners' steps with their failures isolated, and
 *       {@link dev.relay.core.plan.PlanningMetrics} exposes their state (watermark lag above all) to Micrometer.
 * </ul>
 * None of them starts a thread: the embedding service calls {@code tick()} / {@code planMore()}, and time
 * comes from an injected {@link java.time.Clock}. Wiring them for PeMS:
 *
 * <pre>{@code
 * ZoneId la = ZoneId.of("America/Los_Angeles");
 * PlanningLedger ledger = JdbcCompletionLedger.builder(jdbi).table("relay_ledger").build(); // the engine records into it too
 * RealtimeTicker ticker = RealtimeTicker.builder().series(districts).windowSize(Duration.ofMinutes(10)).zone(la)
 *         .seriesStart(LocalDateTime.parse("2024-01-01T00:00")).lateness(Duration.ofMinutes(5))
 *         .queue(queue).ledger(ledger).build();                       // lanes "realtime" and "backfill"
 * SnapshotSchedule config = SnapshotSchedule.builder().tables(configTables).at(LocalTime.of(19, 0), la)
 *         .queue(queue).ledger(ledger).build();                      // lane "config"
 * BackfillPlanner june = BackfillPlanner.builder().series(districts).range(juneFirst, juneFifteenth)
 *         .windowSize(Duration.ofMinutes(10)).chunk(500).queue(queue).ledger(ledger).build();
 * Runnable planning = PlanningLoop.builder().step("realtime", ticker::tick).step("config", config::tick)
 *         .step("backfill", june::planMore).build();
 * timer.scheduleWithFixedDelay(planning, 0, 1, TimeUnit.MINUTES);   // the user's ScheduledExecutorService
 * }</pre>
 *
 * <h2>Design: the ledger is the memory, the grid is local, closing is by last occurrence</h2>
 *
 * <p><b>Why a ledger.</b> The old PeMS relay computed its windows from the wall clock at each run and kept
 * no record; a skipped run left a gap nobody saw, and after an outage it could not tell what was missing.
 * Here the engine records every task in the ledger (a {@link dev.relay.api.CompletionLedger} to the engine, a
 * {@link dev.relay.api.PlanningLedger} to the planners; one object) after the sink committed and
 * before acknowledging it, so "acknowledged" implies "in the ledger". Everything the planners know survives a
 * restart through the ledger alone; what they keep in memory (cursors, cached ledger pages) is an
 * optimisation that a restart may lose without losing a window.
 *
 * <p><b>Series and watermark.</b> A series is a source plus its partition parameters
 * ({@link dev.relay.api.SeriesKey}, e.g. {@code vds30sec;district=7}). Its windows form a grid: windows of a
 * fixed size that divides a day, aligned to local midnight, from a configured series start. The
 * <em>watermark</em> is the end of the contiguous completed prefix of that grid: every window before it is
 * in the ledger, the window starting at it is not. Completed windows after the first hole do not move the
 * watermark, so a lost task holds the watermark back visibly (and {@code GapDetector} names it) instead of
 * being passed over, the failure of the old relay.
 *
 * <p><b>Invariant.</b> For every series, each grid window from the series start up to the ticker's cursor is
 * at all times either completed in the ledger, offered to a queue, or waiting in the ticker's backfill
 * ranges. A tick only moves windows from "not yet closed" to one of the latter two, and the backfill ranges
 * only drain into "offered". A restart rebuilds the cursor from the watermark, which only re-offers windows
 * (same task id, so queues and idempotent sinks absorb the repeat); it never skips one.
 *
 * <p><b>Local time and DST.</b> Sources such as PeMS store naive local times (America/Los_Angeles), so
 * windows are {@link java.time.LocalDateTime} intervals and the grid is laid in local time. This makes the
 * two DST days regular: the spring day has 144 ten-minute windows like every other day, six of which lie in
 * the skipped hour 02:00–03:00 and are simply empty; the autumn day has 144 as well, and the windows of the
 * repeated hour 01:00–02:00 are planned once and pull the rows of both occurrences (their rows share the
 * same naive {@code SAMPLE_TIME}s). Only the question "has this window closed?" needs the zone:
 * <ul>
 *   <li>a window is <em>closed</em> once every local time in it has occurred for the last time: its close
 *       instant is the last occurrence of its last nanosecond (the later offset in an autumn overlap), plus one
 *       nanosecond. So the windows of the repeated hour close only after the second occurrence, when rows of
 *       both have been written, while the window just before the overlap closes at its ordinary time;
 *   <li>a local time skipped by a spring gap "occurs" at the transition instant, so the empty windows of the
 *       skipped hour close at 03:00 PDT, together with the window before 03:00;
 *   <li>these rules make the close instant monotone (non-decreasing) in the window start, so "the windows
 *       closed by instant t" is always a prefix of the grid, found with
 *       {@code firstStartClosingAfter(t)}; the ticker plans windows starting before
 *       {@code firstStartClosingAfter(now - lateness)} and routes those starting before
 *       {@code firstStartClosingAfter(now - horizon)} to the backfill lane.
 * </ul>
 * A daily snapshot due at a time of day skipped by the spring gap is due at the first instant after the gap;
 * one due at a repeated time, at its first occurrence.
 */
package dev.relay.core.plan;
