package dev.relay.api;

/**
 * Where a relay's source permits come from: the cap {@code P} on queries the source runs for relay at once.
 *
 * <p>The {@linkplain #local(int) local pool} (the default) holds all {@code P} permits in this process forever: one
 * relay process never runs more than {@code P} queries, and nothing is leased, renewed or revoked. A
 * <em>cluster-wide</em> store (Kafka-coordinated in {@code relay-kafka}, lease rows in {@code relay-jdbc}) shares
 * {@code P} permits among every process that uses the same store: each permit is held by at most one live process
 * at a time, under a <em>lease</em> that the process renews; a process that cannot renew in time fences itself
 * ({@link PermitHolder#lost}) before its lease runs out, so that {@code P} holds across processes.
 *
 * <h2>What holds</h2>
 * <ul>
 *   <li><b>Cooperative</b> (every cluster-wide store): at most {@code P} queries at any time, except while a holder
 *       is frozen (stopped, swapping, in a long GC pause) past its lease; then at most {@code P} plus the frozen
 *       holders' queries, until they resume and fence themselves. The lease and renew periods are each store's
 *       settings; its class comment states the bound with them.
 *   <li><b>Source-enforced</b>: where "never above {@code P}" must hold even when a process freezes, the source
 *       enforces the cap itself (Oracle Resource Manager's active session pool for relay's database user; see the
 *       README's "Cluster-wide source permits" section), and the permits keep relay from queueing sessions there.
 * </ul>
 *
 * <h2>Protocol</h2>
 * The engine calls {@link #start(PermitHolder)} once, then learns of every permit this process gains
 * ({@link PermitHolder#granted}), must give back ({@link PermitHolder#revoked}) or has lost
 * ({@link PermitHolder#lost}); it calls {@link #close()} after it stopped running queries.
 *
 * <p>Implementations are threadsafe.
 */
public interface SourcePermits extends AutoCloseable {

    /**
     * The local pool: {@code permits} permits, all held by this process from {@link #start} on, never revoked,
     * never lost. Today's behaviour and cost: the holder learns its permits once and nothing else happens.
     *
     * @param permits {@code P}, 1 to 10,000
     * @return the pool
     * @throws IllegalArgumentException if {@code permits} is out of range
     */
    static SourcePermits local(int permits) {
        return new LocalSourcePermits(permits);
    }

    /** @return {@code P}: the most queries that all the processes sharing these permits run on the source at once */
    int total();

    /**
     * Starts taking part: the store acquires permits and tells the holder about them, on its own threads (the
     * local pool grants all of them before this returns).
     *
     * @param holder the engine
     * @throws IllegalStateException if already started or closed
     * @throws RelayException if the store cannot start (its table or topic is missing or does not match
     *     {@link #total()}); nothing was acquired then
     */
    void start(PermitHolder holder);

    /** @return what this process holds now and what happened so far, for metrics and snapshots */
    PermitStatus status();

    /**
     * Leaves: every permit this process holds is released at once, without asking the holder, so call it after
     * the holder stopped running queries. Idempotent.
     */
    @Override
    void close();
}
