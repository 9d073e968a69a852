package dev.relay.core.pressure;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * The adaptive limit and the brake at one moment. Immutable and threadsafe.
 *
 * @param at when it was taken
 * @param limit {@code P_eff}: the permits the relay may use now, 0 while braked
 * @param permits {@code P}, the configured ceiling
 * @param floor the lowest limit the rule may set now
 * @param rule the rule, described
 * @param ruleLimit the rule's state: the limit as a real number ({@code P_eff = ⌊ruleLimit⌋} unless braked)
 * @param lastRatio the last measured pull's latency over its source's baseline; {@code NaN} before one
 * @param samples completed pulls reported
 * @param increases times {@code P_eff} went up
 * @param decreases times {@code P_eff} went down
 * @param timeouts pulls that ended in a source timeout
 * @param stale pulls not judged because they started before {@code P_eff} last changed
 * @param lastChange when {@code P_eff} last changed by the rule or the floor (the relay's start before that)
 * @param unit the unit of the baselines ("s/1000 rows", "s/window-minute")
 * @param baselines each source's baseline, in {@code unit}
 * @param brake the brake's state
 */
public record PressureSnapshot(Instant at, int limit, int permits, int floor, String rule, double ruleLimit, double lastRatio,
        long samples, long increases, long decreases, long timeouts, long stale, Instant lastChange, String unit,
        Map<String, Double> baselines, BrakeStatus brake) {

    /** @throws NullPointerException if a reference is null */
    public PressureSnapshot {
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(lastChange, "lastChange");
        Objects.requireNonNull(unit, "unit");
        baselines = Map.copyOf(baselines);
        Objects.requireNonNull(brake, "brake");
    }

    /**
     * The state of a relay without adaptation or brake ({@link Pressure#off()}): {@code P_eff = P}.
     *
     * @param at when
     * @param permits {@code P}
     * @return the snapshot
     */
    public static PressureSnapshot off(Instant at, int permits) {
        return new PressureSnapshot(at, permits, permits, permits, LimitRule.none().toString(), permits, Double.NaN, 0, 0, 0, 0,
                0, at, CostBasis.ROWS.unit(), Map.of(), BrakeStatus.NONE);
    }

    /**
     * The brake's state.
     *
     * @param configured whether the relay has a brake
     * @param braked whether new pulls are stopped now
     * @param since when the current braked spell began, or null when not braked
     * @param timeBraked the total time braked so far, the current spell included
     * @param spells how many times the brake went on
     * @param reason the last verdict's reason ("" without a brake)
     * @param checks checks answered
     * @param errors checks that failed
     */
    public record BrakeStatus(boolean configured, boolean braked, Instant since, Duration timeBraked, long spells, String reason,
            long checks, long errors) {

        /** The state of a relay without a brake. */
        public static final BrakeStatus NONE = new BrakeStatus(false, false, null, Duration.ZERO, 0, "", 0, 0);

        /** @throws NullPointerException if a required reference is null */
        public BrakeStatus {
            Objects.requireNonNull(timeBraked, "timeBraked");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
