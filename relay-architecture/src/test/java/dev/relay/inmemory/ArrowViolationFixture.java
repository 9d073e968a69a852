package dev.relay.inmemory;

import dev.relay.core.Relay;

/** A backend class that uses the engine: what {@code ModuleArrowsTest} must report (test fixture, never shipped). */
final class ArrowViolationFixture {

    private ArrowViolationFixture() {
    }

    static Class<?> engine() {
        return Relay.class;
    }
}
