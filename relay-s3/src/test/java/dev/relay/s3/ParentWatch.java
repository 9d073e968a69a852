package dev.relay.s3;

import java.io.IOException;

/**
 * For the tests' child processes: a daemon thread that ends the JVM when its standard input reaches end of file,
 * which happens when the parent (the test JVM, which holds the pipe) exits or is killed. So no child outlives a test
 * run, however that run ends.
 */
final class ParentWatch {

    private ParentWatch() {
    }

    /** Starts the watch. */
    static void start() {
        Thread t = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the parent writes nothing; wait for end of file
                }
            } catch (IOException ignored) {
                // the pipe broke: the parent is gone as well
            }
            Runtime.getRuntime().halt(4);
        }, "parent-watch");
        t.setDaemon(true);
        t.start();
    }
}
