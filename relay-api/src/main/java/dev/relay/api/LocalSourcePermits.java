package dev.relay.api;

import java.time.Duration;

/**
 * The local pool behind {@link SourcePermits#local(int)}: all {@code P} permits are granted at start, in this
 * process, and never revoked or lost. Threadsafe (the state is one flag set under the monitor).
 */
final class LocalSourcePermits implements SourcePermits {

    private final int total;
    private boolean started;
    private boolean closed;

    LocalSourcePermits(int total) {
        if (total < 1 || total > 10_000) {
            throw new IllegalArgumentException("source permits must be within [1, 10000] but was " + total);
        }
        this.total = total;
    }

    @Override
    public int total() {
        return total;
    }

    @Override
    public void start(PermitHolder holder) {
        java.util.Objects.requireNonNull(holder, "holder");
        synchronized (this) {
            if (started || closed) {
                throw new IllegalStateException("the local pool of " + total + " permits was " + (closed ? "closed" : "started already"));
            }
            started = true;
        }
        for (int k = 0; k < total; k++) {
            holder.granted(k);
        }
    }

    @Override
    public synchronized PermitStatus status() {
        int held = started && !closed ? total : 0;
        return new PermitStatus(total, held, 0, Duration.ZERO, Duration.ZERO, started ? total : 0, 0, 0, 0, 0, 0);
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "SourcePermits.local(" + total + ")";
    }
}
