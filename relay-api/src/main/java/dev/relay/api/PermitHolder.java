package dev.relay.api;

import java.time.Duration;

/**
 * The side of {@link SourcePermits} that runs queries on the permits: the engine. A store tells its holder which
 * permits this process gains and loses; the holder runs at most as many source queries at once as it holds
 * permits (or fewer: an engine may lower its effective limit below what it holds, never raise it above).
 *
 * <p>Permits are numbered {@code 0 … total − 1} and interchangeable: a holder may count them. Per permit, the
 * store calls {@link #granted}, then {@link #revoked} or {@link #lost} or both in that order (the lease ran out
 * while the holder was still giving the permit back: cancel at once); the same permit may be granted again
 * afterwards. The calls are serialized: never two at once, always in the order above.
 *
 * <p>Implementations must be threadsafe and must not block in these methods (the store calls them from its own
 * threads, possibly while its coordinator waits for an answer): an engine hands them to its control turn.
 */
public interface PermitHolder {

    /**
     * This process now holds the permit: it may run one more query on the source.
     *
     * @param permit the permit's number
     */
    void granted(int permit);

    /**
     * The store takes the permit back, because another process needs it or the store closes. From now on the
     * holder runs one query fewer; the queries beyond what it still holds may finish within {@code grace}, and
     * what still runs after that is cancelled (for a JDBC puller: {@code Statement.cancel} through the cursor's
     * {@link RowCursor#cancel()}). Once the holder runs no more queries than it still holds, it calls
     * {@code giveBack} (once, from any thread); until then the store keeps the permit, so no other process can
     * put a query on it.
     *
     * @param permit the permit's number
     * @param grace how long running queries may take to finish before they are cancelled
     * @param giveBack to run when the permit is free
     */
    void revoked(int permit, Duration grace, Runnable giveBack);

    /**
     * The permit's lease ran out before the store could renew it (the coordinator or the database was out of
     * reach, or this process was frozen), or the store learned that the permit is gone: another process may get
     * it at any moment. The holder cancels at once the queries beyond what it still holds, and starts none in
     * their place: this is <em>self-fencing</em>. Nothing is given back.
     *
     * @param permit the permit's number
     */
    void lost(int permit);
}
