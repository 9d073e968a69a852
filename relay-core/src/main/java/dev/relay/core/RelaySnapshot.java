package dev.relay.core;

import dev.relay.api.Health;
import dev.relay.core.pressure.PressureSnapshot;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A relay's figures at one moment. Immutable and threadsafe.
 *
 * @param at when it was taken
 * @param permits the source permits {@code P}
 * @param permitLimit the permits the relay may use now, {@code ≤ P}: {@code min(}{@link Relay#permitLimit(int)}{@code ,
 *     P_eff)}; {@code P} unless lowered
 * @param permitsInUse permits held now
 * @param maxPermitsInUse the most permits ever held at once (never more than {@code P})
 * @param lanes the lanes' figures, in the order they were added
 * @param unservedBacklog tasks waiting in lanes of the queue that this relay does not serve, by lane (-1 where the
 *     queue cannot count them), as of the last housekeeping turn; empty if the queue cannot tell which lanes hold
 *     tasks ({@link dev.relay.api.TaskQueue#lanesWithTasks()}). A relay that shares its queue with relays serving
 *     other lanes sees those lanes here too
 * @param pressure the adaptive limit {@code P_eff}, the rule's state, the brake's state and the time braked, as of the
 *     last control turn that changed them ({@link Relay.Builder#pressure}); {@link PressureSnapshot#off} without
 *     pressure
 * @param health the relay's health when the snapshot was taken ({@link Relay#health()})
 */
public record RelaySnapshot(Instant at, int permits, int permitLimit, int permitsInUse, int maxPermitsInUse, List<LaneSnapshot> lanes,
        Map<String, Long> unservedBacklog, PressureSnapshot pressure, Health health) {

    /**
     * @param name a lane name
     * @return that lane's figures
     */
    public Optional<LaneSnapshot> lane(String name) {
        return lanes.stream().filter(l -> l.name().equals(name)).findFirst();
    }

    /** @return tasks completed over all lanes */
    public long completed() {
        return lanes.stream().mapToLong(LaneSnapshot::completed).sum();
    }

    /** @return tasks in flight over all lanes */
    public int inFlight() {
        return lanes.stream().mapToInt(LaneSnapshot::inFlight).sum();
    }
}
