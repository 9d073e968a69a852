package dev.relay.core;

import dev.relay.core.pressure.PressureSnapshot;
import java.util.List;
import java.util.Map;

/**
 * The engine-wide figures other threads read: permits, the lanes' statistics, and the backlog of lanes the relay
 * does not serve. Threadsafe with one writer, the control turn, which publishes into the volatile fields at the
 * end of each turn that changed them.
 */
final class EngineStats {

    /** The source permits {@code P}. */
    final int permits;
    volatile int permitLimit;
    volatile int permitsInUse;
    volatile int maxPermitsInUse;
    /** The served lanes' statistics, in the order the lanes were added. */
    volatile List<LaneStats> lanes = List.of();
    /** Tasks waiting in lanes of the queue that this relay does not serve, by lane. */
    volatile Map<String, Long> unservedBacklog = Map.of();
    /**
     * Epoch nanos of the first failed subscription of the lanes since the last one that worked;
     * {@link Long#MIN_VALUE} while subscriptions work.
     */
    volatile long subscribeFailingSince = Long.MIN_VALUE;
    /** The last failed subscription, as text; meaningful while {@link #subscribeFailingSince} is set. */
    volatile String subscribeFailure;
    /** Whether a subscription of the lanes ever worked (a later failure leaves the earlier one in force). */
    volatile boolean subscribedOnce;
    /** The adaptive limit and the brake, as of the last turn that changed them; null without pressure. */
    volatile PressureSnapshot pressure;

    EngineStats(int permits) {
        this.permits = permits;
        this.permitLimit = permits;
    }

    /** @return the unserved lanes' tasks in total */
    long unservedTotal() {
        long n = 0;
        for (long b : unservedBacklog.values()) {
            n += b;
        }
        return n;
    }
}
