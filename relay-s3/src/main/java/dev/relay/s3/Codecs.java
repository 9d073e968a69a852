package dev.relay.s3;

import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.xerial.snappy.Snappy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Parquet page compression without Hadoop. parquet-java's own {@code CodecFactory} goes through Hadoop's
 * {@code CompressionCodec} classes (and so needs hadoop-common at run time); this factory compresses with
 * snappy-java (Parquet's SNAPPY is the raw Snappy block format) and the JDK's GZIP stream (Parquet's GZIP is
 * RFC 1952), which is what every Parquet reader expects of those codec names.
 *
 * <p>One factory serves one Parquet writer, and hands every column the same compressor of a codec: the writer
 * compresses one page at a time and copies the result before the next ({@code ColumnChunkPageWriteStore}), so one
 * pair of page-sized buffers serves all columns instead of a pair per column (45 pairs for PeMS's VDS30SEC rows).
 * Not threadsafe: the writer's thread owns the factory and its compressors.
 */
final class Codecs implements CompressionCodecFactory {

    private final java.util.Map<CompressionCodecName, BytesInputCompressor> compressors = new java.util.EnumMap<>(CompressionCodecName.class);

    /** A factory for one writer. */
    Codecs() {
    }

    /**
     * @param compression relay's compression setting
     * @return Parquet's codec name for it
     */
    static CompressionCodecName codecName(Compression compression) {
        switch (compression) {
            case SNAPPY:
                return CompressionCodecName.SNAPPY;
            case GZIP:
                return CompressionCodecName.GZIP;
            default:
                return CompressionCodecName.UNCOMPRESSED;
        }
    }

    @Override
    public BytesInputCompressor getCompressor(CompressionCodecName codecName) {
        return compressors.computeIfAbsent(codecName, Codecs::newCompressor);
    }

    private static BytesInputCompressor newCompressor(CompressionCodecName codecName) {
        switch (codecName) {
            case UNCOMPRESSED:
                return new Identity();
            case SNAPPY:
                return new SnappyCompressor();
            case GZIP:
                return new GzipCompressor();
            default:
                throw new IllegalArgumentException("codec " + codecName + " is not available without Hadoop; "
                        + "use UNCOMPRESSED, SNAPPY or GZIP");
        }
    }

    @Override
    public BytesInputDecompressor getDecompressor(CompressionCodecName codecName) {
        switch (codecName) {
            case UNCOMPRESSED:
                return new Identity();
            case SNAPPY:
                return new SnappyDecompressor();
            case GZIP:
                return new GzipDecompressor();
            default:
                throw new IllegalArgumentException("codec " + codecName + " is not available without Hadoop; "
                        + "only UNCOMPRESSED, SNAPPY and GZIP files can be read here");
        }
    }

    @Override
    public void release() {
        compressors.values().forEach(BytesInputCompressor::release);
        compressors.clear();
    }

    /** UNCOMPRESSED both ways. */
    private static final class Identity implements BytesInputCompressor, BytesInputDecompressor {
        @Override
        public BytesInput compress(BytesInput bytes) {
            return bytes;
        }

        @Override
        public CompressionCodecName getCodecName() {
            return CompressionCodecName.UNCOMPRESSED;
        }

        @Override
        public BytesInput decompress(BytesInput bytes, int decompressedSize) {
            return bytes;
        }

        @Override
        public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int decompressedSize) {
            ByteBuffer slice = input.slice();
            slice.limit(compressedSize);
            output.put(slice);
            input.position(input.position() + compressedSize);
        }

        @Override
        public void release() {
            // nothing held
        }
    }

    private static final class SnappyCompressor implements BytesInputCompressor {
        private final Buffer in = new Buffer();
        private byte[] out = new byte[0];

        @Override
        public BytesInput compress(BytesInput bytes) throws IOException {
            in.reset();
            bytes.writeAllTo(in);
            int max = Snappy.maxCompressedLength(in.size());
            if (out.length < max) {
                out = new byte[max];
            }
            int n = Snappy.compress(in.array(), 0, in.size(), out, 0);
            return BytesInput.from(out, 0, n);
        }

        @Override
        public CompressionCodecName getCodecName() {
            return CompressionCodecName.SNAPPY;
        }

        @Override
        public void release() {
            in.reset();
            out = new byte[0];
        }
    }

    private static final class SnappyDecompressor implements BytesInputDecompressor {
        @Override
        public BytesInput decompress(BytesInput bytes, int decompressedSize) throws IOException {
            Buffer in = new Buffer();
            bytes.writeAllTo(in);
            byte[] out = new byte[decompressedSize];
            int n = Snappy.uncompress(in.array(), 0, in.size(), out, 0);
            if (n != decompressedSize) {
                throw new IOException("snappy page decompressed to " + n + " bytes, expected " + decompressedSize);
            }
            return BytesInput.from(out);
        }

        @Override
        public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int decompressedSize)
                throws IOException {
            byte[] in = new byte[compressedSize];
            input.get(in);
            byte[] out = new byte[decompressedSize];
            int n = Snappy.uncompress(in, 0, compressedSize, out, 0);
            if (n != decompressedSize) {
                throw new IOException("snappy page decompressed to " + n + " bytes, expected " + decompressedSize);
            }
            output.put(out);
        }

        @Override
        public void release() {
            // nothing held
        }
    }

    private static final class GzipCompressor implements BytesInputCompressor {
        private final Buffer out = new Buffer();

        @Override
        public BytesInput compress(BytesInput bytes) throws IOException {
            out.reset();
            try (GZIPOutputStream gzip = new GZIPOutputStream(out, 64 * 1024)) {
                bytes.writeAllTo(gzip);
            }
            return BytesInput.from(out.array(), 0, out.size());
        }

        @Override
        public CompressionCodecName getCodecName() {
            return CompressionCodecName.GZIP;
        }

        @Override
        public void release() {
            out.reset();
        }
    }

    private static final class GzipDecompressor implements BytesInputDecompressor {
        @Override
        public BytesInput decompress(BytesInput bytes, int decompressedSize) throws IOException {
            Buffer in = new Buffer();
            bytes.writeAllTo(in);
            return BytesInput.from(inflate(new ByteArrayInputStream(in.array(), 0, in.size()), decompressedSize));
        }

        @Override
        public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int decompressedSize)
                throws IOException {
            byte[] in = new byte[compressedSize];
            input.get(in);
            output.put(inflate(new ByteArrayInputStream(in), decompressedSize));
        }

        private static byte[] inflate(InputStream compressed, int size) throws IOException {
            byte[] out = new byte[size];
            try (GZIPInputStream gzip = new GZIPInputStream(compressed)) {
                int off = 0;
                while (off < size) {
                    int n = gzip.read(out, off, size - off);
                    if (n < 0) {
                        throw new IOException("gzip page ended after " + off + " bytes, expected " + size);
                    }
                    off += n;
                }
            }
            return out;
        }

        @Override
        public void release() {
            // nothing held
        }
    }

    /** A ByteArrayOutputStream whose array can be read without a copy. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer() {
            super(64 * 1024);
        }

        byte[] array() {
            return buf;
        }
    }
}
