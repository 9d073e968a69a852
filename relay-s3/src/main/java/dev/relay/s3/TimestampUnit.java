package dev.relay.s3;

/**
 * The unit of the Parquet {@code TIMESTAMP} and {@code TIME} columns an {@link S3ParquetSink} writes. A value with a
 * finer fraction than the unit is refused (a non-retryable failure naming the value), never truncated. Immutable and
 * threadsafe.
 */
public enum TimestampUnit {
    /** Milliseconds: {@code TIMESTAMP(MILLIS)}, {@code TIME(MILLIS)} (INT32). */
    MILLIS(1_000_000L),
    /** Microseconds (the default): Oracle {@code TIMESTAMP(6)}, PostgreSQL and Snowflake's default precision. */
    MICROS(1_000L),
    /** Nanoseconds: {@code TIMESTAMP(NANOS)} covers only the years 1677 to 2262. */
    NANOS(1L);

    private final long nanos;

    TimestampUnit(long nanos) {
        this.nanos = nanos;
    }

    /** @return nanoseconds per unit */
    long nanos() {
        return nanos;
    }

    /** @return units per second */
    long perSecond() {
        return 1_000_000_000L / nanos;
    }
}
