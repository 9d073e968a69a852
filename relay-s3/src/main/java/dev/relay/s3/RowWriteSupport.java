package dev.relay.s3;

import dev.relay.api.Row;
import org.apache.parquet.conf.ParquetConfiguration;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.api.RecordConsumer;

import java.io.IOException;
import java.util.Map;

/**
 * Writes {@link Row}s through parquet-java's record consumer, by the {@link ColumnMapping}. Built on parquet-java's
 * non-Hadoop interfaces ({@link OutputFile}, {@link PlainParquetConfiguration}, relay's {@link Codecs}), so that no
 * Hadoop class is loaded at run time.
 *
 * <p>Not threadsafe: one writer (one session's owner thread) uses it.
 */
final class RowWriteSupport extends WriteSupport<Row> {

    private final ColumnMapping mapping;
    private final Map<String, String> fileMetadata;
    private RecordConsumer consumer;

    RowWriteSupport(ColumnMapping mapping, Map<String, String> fileMetadata) {
        this.mapping = mapping;
        this.fileMetadata = Map.copyOf(fileMetadata);
    }

    @Override
    public WriteContext init(ParquetConfiguration configuration) {
        return new WriteContext(mapping.schema(), fileMetadata);
    }

    /** Hadoop's variant, never called: the writer is built with a {@link PlainParquetConfiguration}. */
    @Override
    @Deprecated
    public WriteContext init(org.apache.hadoop.conf.Configuration configuration) {
        return new WriteContext(mapping.schema(), fileMetadata);
    }

    @Override
    public String getName() {
        return "relay";
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        this.consumer = recordConsumer;
    }

    /**
     * @param row a row of the mapping's schema
     * @throws ColumnFailure naming the column whose value cannot be written
     */
    @Override
    public void write(Row row) {
        RecordConsumer rc = consumer;
        int n = mapping.size();
        rc.startMessage();
        for (int i = 0; i < n; i++) {
            Object v = row.get(i);
            if (v != null) {
                rc.startField(mapping.name(i), i);
                try {
                    mapping.writer(i).write(rc, v);
                } catch (IllegalArgumentException e) {
                    throw new ColumnFailure(i, e);
                }
                rc.endField(mapping.name(i), i);
            }
        }
        if (mapping.metaColumn() != null) {
            rc.startField(mapping.metaColumn(), n);
            rc.addBinary(mapping.metaValue());
            rc.endField(mapping.metaColumn(), n);
        }
        rc.endMessage();
    }

    /**
     * @param file where the file's bytes go
     * @param compression the page compression
     * @param rowGroupSize the buffered bytes at which a row group is flushed
     * @param pageSize the page size
     * @param dictionaryPageSize the dictionary size at which a column falls back to plain encoding
     * @return a Parquet writer of rows
     * @throws IOException if the file's header cannot be written
     */
    ParquetWriter<Row> open(OutputFile file, Compression compression, long rowGroupSize, int pageSize,
                            int dictionaryPageSize) throws IOException {
        return new WriterBuilder(file, this)
                .withConf(new PlainParquetConfiguration())
                .withCodecFactory(new Codecs())
                .withCompressionCodec(Codecs.codecName(compression))
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .withRowGroupSize(rowGroupSize)
                .withPageSize(pageSize)
                .withDictionaryPageSize(dictionaryPageSize)
                .withMaxPaddingSize(0)
                .withValidation(false)
                .build();
    }

    /** A value of column {@code column} that the mapping refused. */
    static final class ColumnFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int column;

        ColumnFailure(int column, IllegalArgumentException cause) {
            super(cause.getMessage(), cause);
            this.column = column;
        }

        /** @return the column's position */
        int column() {
            return column;
        }
    }

    private static final class WriterBuilder extends ParquetWriter.Builder<Row, WriterBuilder> {
        private final RowWriteSupport support;

        WriterBuilder(OutputFile file, RowWriteSupport support) {
            super(file);
            this.support = support;
        }

        @Override
        protected WriterBuilder self() {
            return this;
        }

        @Override
        protected WriteSupport<Row> getWriteSupport(ParquetConfiguration conf) {
            return support;
        }

        /** Hadoop's variant, never called (see {@link RowWriteSupport}). */
        @Override
        @Deprecated
        protected WriteSupport<Row> getWriteSupport(org.apache.hadoop.conf.Configuration conf) {
            return support;
        }
    }
}
