package dev.relay.core.pressure;

/**
 * What a pull's latency is divided by before it is compared with its source's baseline, so that a pull that read
 * twice as much may take twice as long without looking slow.
 *
 * <p>Immutable and threadsafe.
 */
public enum CostBasis {

    /**
     * Seconds per 1,000 rows read. Pulls that read fewer than {@link Pressure.Builder#minRows(long)} rows are not
     * measured (a query's fixed overhead dominates them); snapshot and window pulls are measured alike. The
     * default.
     */
    ROWS,

    /**
     * Seconds per minute of the task's window. Suits sources whose rows per minute are steady (detector samples
     * every 30 s), and measures empty windows too; snapshot tasks (no window) are not measured.
     */
    WINDOW_MINUTES;

    /**
     * @param sample a successful pull
     * @param minRows the fewest rows a {@link #ROWS} sample needs
     * @return the normalised latency in seconds per unit, or {@code NaN} if this pull cannot be measured so
     */
    double normalise(PullSample sample, long minRows) {
        double seconds = sample.duration().toNanos() / 1e9;
        return switch (this) {
            case ROWS -> sample.rows() < Math.max(1, minRows) ? Double.NaN : seconds / (sample.rows() / 1000.0);
            case WINDOW_MINUTES -> sample.window().isZero() ? Double.NaN : seconds / (sample.window().toNanos() / 60e9);
        };
    }

    /** @return the unit, for messages: "s/1000 rows" or "s/window-minute" */
    String unit() {
        return this == ROWS ? "s/1000 rows" : "s/window-minute";
    }
}
