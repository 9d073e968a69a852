/**
 * Two hosts: the puller host hands each task's rows to the uploader host through Kafka, exactly once into the
 * warehouse.
 *
 * <p>Public surface:
 * <ul>
 *   <li>{@link dev.relay.handoff.HandoffSink} — the puller host's {@link dev.relay.api.Sink}: a task's rows as Avro
 *       chunk records and a closing {@link dev.relay.handoff.Manifest}, in one Kafka transaction per task;
 *   <li>{@link dev.relay.handoff.HandoffSource} — the uploader host's {@link dev.relay.api.TaskQueue} of committed
 *       hand-offs and {@link dev.relay.api.Puller} of their rows, for a second relay with its own fair scheduler;
 *   <li>{@link dev.relay.handoff.HandoffTopics} — per lane a data, a tasks and a dead-letter topic;
 *   <li>{@link dev.relay.handoff.HandoffFormat} — the documented, versioned Avro record format;
 *   <li>{@link dev.relay.handoff.UploadListener} — observes loads and dead letters.
 * </ul>
 * Everything else in this package is package-private and may change at any time.
 *
 * <h2>Guarantees per hop</h2>
 * <ol>
 *   <li>Source → puller relay → hand-off: the engine's guarantees (permits, fairness, retries); a task's lease is
 *       completed only after its hand-off committed, so a crash re-runs it (at least once, same task id).
 *   <li>Hand-off → data topic: all or nothing per task (one transaction), zombies fenced by stable transactional ids.
 *   <li>Tasks topic → uploader relay → warehouse: only committed hand-offs, checked against their manifests; offsets
 *       committed after the sink committed and never past an outstanding task; sinks idempotent on the task id.
 * </ol>
 * End to end: every task's rows are in the warehouse once, none from an aborted transaction.
 */
package dev.relay.handoff;
