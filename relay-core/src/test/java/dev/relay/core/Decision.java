package dev.relay.core;

/**
 * One decision of a {@link FairScheduler} as a value, for tests: {@link #next(FairScheduler)} runs
 * {@link FairScheduler#next(FairScheduler.Starter)} and keeps what the starter received. It allocates, so the
 * allocation test and the benchmarks use a starter of their own.
 *
 * @param lane the started item's lane
 * @param item the item
 * @param ticket its ticket, for {@link FairScheduler#complete}
 * @param <T> the item type
 */
record Decision<T>(FairScheduler.Lane<T> lane, T item, long ticket) {

    /**
     * @param s a scheduler
     * @return the next decision, or null if nothing may start now
     * @param <T> the item type
     */
    static <T> Decision<T> next(FairScheduler<T> s) {
        Object[] got = new Object[1];
        boolean started = s.next((lane, item, ticket) -> got[0] = new Decision<>(lane, item, ticket));
        if (started != (got[0] != null)) {
            throw new AssertionError("next returned " + started + " but the starter was " + (started ? "not " : "") + "called");
        }
        @SuppressWarnings("unchecked")
        Decision<T> d = (Decision<T>) got[0];
        return d;
    }

    /**
     * @param s a scheduler
     * @return the next decision's item, or null if nothing may start now
     * @param <T> the item type
     */
    static <T> T nextItem(FairScheduler<T> s) {
        Decision<T> d = next(s);
        return d == null ? null : d.item();
    }

    /**
     * Completes this decision's item with a cost.
     *
     * @param s the scheduler that made it
     * @param cost the actual cost
     */
    void complete(FairScheduler<T> s, long cost) {
        s.complete(lane, ticket, cost);
    }
}
