package dev.relay.faults;

/**
 * Which tasks the child relay's source faults hit: a pure function of the seed and the task id, so the parent
 * can count what to expect and a failing seed replays the same faults.
 */
enum FaultPick {
    /** No source fault. */
    NONE,
    /** The first attempt runs a query that outlasts the query timeout. */
    TIMEOUT,
    /** The first attempt's source connection is terminated by the database before the query runs. */
    DROP;

    /** Of 1,000 window tasks, how many time out on their first attempt. */
    static final int TIMEOUTS_PER_MILLE = 6;
    /** Of 1,000 window tasks, how many lose their source connection on their first attempt. */
    static final int DROPS_PER_MILLE = 15;

    static FaultPick of(long seed, String taskId) {
        long h = seed ^ (taskId.hashCode() * 0x9E3779B97F4A7C15L);
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        int perMille = (int) Math.floorMod(h, 1000L);
        if (perMille < TIMEOUTS_PER_MILLE) {
            return TIMEOUT;
        }
        return perMille < TIMEOUTS_PER_MILLE + DROPS_PER_MILLE ? DROP : NONE;
    }
}
