package dev.relay.s3;

/**
 * The compression of the Parquet pages an {@link S3ParquetSink} writes. Each is implemented without Hadoop: Snappy
 * by snappy-java (a dependency of parquet-java), GZIP by the JDK's {@code java.util.zip}. Immutable and threadsafe.
 */
public enum Compression {
    /** No compression. */
    UNCOMPRESSED,
    /** Snappy (the default; what pandas/pyarrow write, and so what the old PeMS uploader's files used). */
    SNAPPY,
    /** GZIP: smaller pages, more CPU. */
    GZIP
}
