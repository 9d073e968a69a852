package dev.relay.simulation.pressure;

import java.time.Instant;

/**
 * A simulated source database: {@code knee} pulls run at full speed side by side (its cores and disks); above that
 * every pull slows down — processor sharing ({@code c / knee}) plus a contention penalty that grows with each pull
 * beyond the knee ({@code 1 + γ (c − knee)}), so that its throughput falls past the knee, as a database's does when
 * sessions thrash its cache and disks. A pull's time is fixed when it starts, from the concurrency then (itself
 * included).
 *
 * <p>Optionally its speed drops between {@code slowFrom} and {@code slowUntil}, as during a batch job: every pull
 * takes {@code slowFactor} times longer and the knee falls to {@code slowKnee} (the batch job holds the rest).
 *
 * @param knee the concurrency up to which pulls do not slow each other
 * @param gamma the contention penalty per pull beyond the knee
 * @param secondsPer1000Rows an unloaded pull's time per 1,000 rows
 * @param slowFrom the start of the slow spell, or null
 * @param slowUntil its end (exclusive)
 * @param slowKnee the knee during it
 * @param slowFactor the slowdown during it
 */
record KneeSource(int knee, double gamma, double secondsPer1000Rows, Instant slowFrom, Instant slowUntil, int slowKnee,
        double slowFactor) {

    static KneeSource steady(int knee, double gamma, double secondsPer1000Rows) {
        return new KneeSource(knee, gamma, secondsPer1000Rows, null, null, knee, 1);
    }

    KneeSource slowBetween(Instant from, Instant until, int kneeDuring, double factor) {
        return new KneeSource(knee, gamma, secondsPer1000Rows, from, until, kneeDuring, factor);
    }

    /**
     * @param concurrency the most pulls at once
     * @param rows the most rows of one pull
     * @return the longest a pull can take, before noise, slow spell included
     */
    double worstSeconds(int concurrency, long rows) {
        double steady = secondsPer1000Rows * rows / 1000.0 * contention(concurrency, knee);
        return slowFrom == null ? steady : Math.max(steady, secondsPer1000Rows * rows / 1000.0 * slowFactor
                * contention(concurrency, slowKnee));
    }

    private double contention(int concurrency, int k) {
        return concurrency <= k ? 1 : ((double) concurrency / k) * (1 + gamma * (concurrency - k));
    }

    boolean slow(Instant at) {
        return slowFrom != null && !at.isBefore(slowFrom) && at.isBefore(slowUntil);
    }

    /**
     * @param concurrency the pulls running once this one started, itself included
     * @param rows the rows it reads
     * @param at when it starts
     * @return its time on the source, in seconds, before noise
     */
    double seconds(int concurrency, long rows, Instant at) {
        boolean slow = slow(at);
        return secondsPer1000Rows * rows / 1000.0 * (slow ? slowFactor : 1) * contention(concurrency, slow ? slowKnee : knee);
    }
}
