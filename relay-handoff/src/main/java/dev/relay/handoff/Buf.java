package dev.relay.handoff;

import java.io.OutputStream;
import java.util.Arrays;

/** A growable byte array as an output stream, whose contents are read in place. Not threadsafe. */
final class Buf extends OutputStream {

    byte[] bytes;
    int size;

    Buf(int capacity) {
        bytes = new byte[Math.max(16, capacity)];
    }

    @Override
    public void write(int b) {
        ensure(1);
        bytes[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, bytes, size, len);
        size += len;
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(size + more, bytes.length * 2));
        }
    }

    /** Drops the first {@code n} bytes, keeping the rest. */
    void dropFirst(int n) {
        System.arraycopy(bytes, n, bytes, 0, size - n);
        size -= n;
    }

    byte[] toArray() {
        return Arrays.copyOf(bytes, size);
    }
}
