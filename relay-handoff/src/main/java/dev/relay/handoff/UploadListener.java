package dev.relay.handoff;

/**
 * Observes the uploader host's loads: each hand-off whose rows a relay loaded (its cursor read every chunk and the
 * sink committed before the lease completed), and each dead-lettered one. For audits (which delivery reached the
 * warehouse) and for tests. Called on the intake thread; must return quickly and must not throw.
 */
public interface UploadListener {

    /**
     * A delivery's rows were loaded: they were read completely, matched the manifest, and the sink committed.
     *
     * @param manifest the delivery's manifest
     */
    default void loaded(Manifest manifest) {
    }

    /**
     * A task was completed without its own delivery being read: another delivery of the same task id was loaded
     * instead (the engine runs one delivery of a task id at a time and completes a second one with the first).
     *
     * @param manifest the delivery that was not read
     */
    default void skipped(Manifest manifest) {
    }

    /**
     * A tasks-topic record or a task went to the lane's dead-letter topic.
     *
     * @param lane the lane
     * @param manifest the manifest, or null if the record did not decode
     * @param reason why
     */
    default void deadLettered(String lane, Manifest manifest, String reason) {
    }
}
