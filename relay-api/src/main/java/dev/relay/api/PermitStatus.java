package dev.relay.api;

import java.time.Duration;
import java.util.Objects;

/**
 * What one process holds of its {@link SourcePermits} now, and what happened to them so far. Counters count from
 * the store's start and never decrease.
 *
 * @param total {@code P}, the cluster-wide cap
 * @param held permits this process holds now (granted and not yet given back or lost), including those being
 *     revoked
 * @param fenced permits this process fenced itself from because their lease was about to run out, and that it
 *     still tries to renew (they count as held again once renewed in time)
 * @param lease how long a permit stays held without renewal; {@link Duration#ZERO} for a pool that is not leased
 * @param leaseRemaining how long until this process fences itself unless a renewal succeeds (the earliest lease
 *     of a held permit, less the safety margin); {@link Duration#ZERO} when nothing leased is held
 * @param grants permits granted to this process
 * @param revocations permits taken back from this process (another process needed them, or the store closed)
 * @param losses permits this process fenced itself from or learned it had lost: its lost renewals
 * @param renewals successful renewals
 * @param failedRenewals renewals that failed (the coordinator or database did not answer in time, or refused)
 * @param forcedReleases revoked permits released before the holder gave them back, because the store could not
 *     wait longer (its coordinator would otherwise have expelled this process); each is a possible excess of one
 *     query until the holder's cancellation took effect
 */
public record PermitStatus(int total, int held, int fenced, Duration lease, Duration leaseRemaining, long grants,
        long revocations, long losses, long renewals, long failedRenewals, long forcedReleases) {

    /**
     * Checks the figures.
     *
     * @throws IllegalArgumentException if a figure is negative or {@code held + fenced > total}
     */
    public PermitStatus {
        Objects.requireNonNull(lease, "lease");
        Objects.requireNonNull(leaseRemaining, "leaseRemaining");
        if (total < 1 || held < 0 || fenced < 0 || held + fenced > total) {
            throw new IllegalArgumentException("permits held " + held + " and fenced " + fenced + " must fit in the total "
                    + total);
        }
        if (lease.isNegative() || leaseRemaining.isNegative() || grants < 0 || revocations < 0 || losses < 0
                || renewals < 0 || failedRenewals < 0 || forcedReleases < 0) {
            throw new IllegalArgumentException("permit figures must not be negative: " + lease + ", " + leaseRemaining
                    + ", " + grants + ", " + revocations + ", " + losses + ", " + renewals + ", " + failedRenewals
                    + ", " + forcedReleases);
        }
    }
}
