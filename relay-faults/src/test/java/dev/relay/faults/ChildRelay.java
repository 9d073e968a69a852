package dev.relay.faults;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The suite's handle on one relay instance: a {@link RelayChild} JVM that can be killed (-9), restarted, or
 * stopped gracefully, and whose status file is read back. Each life's last status is kept, so figures that a
 * life counts from zero (completed, waits, the permit high-water mark) are summed or maxed over all lives.
 *
 * <p>Not threadsafe: one test thread drives it.
 */
final class ChildRelay implements AutoCloseable {

    private final String instance;
    private final Path runProperties;
    private final Path dir;
    private final Path status;
    private final Path stop;
    private final Lives lives;
    private final String mainClass;
    private final String heap;
    private Process process;
    private int starts;

    ChildRelay(String instance, Path runProperties, Path dir, Lives lives) {
        this(instance, runProperties, dir, lives, RelayChild.class.getName(), "384m");
    }

    /** A child running another main class (same arguments as {@link RelayChild}'s) in a heap of {@code heap}. */
    ChildRelay(String instance, Path runProperties, Path dir, Lives lives, String mainClass, String heap) {
        this.mainClass = mainClass;
        this.heap = heap;
        this.instance = instance;
        this.runProperties = runProperties;
        this.dir = dir;
        this.status = dir.resolve(instance + ".status");
        this.stop = dir.resolve(instance + ".stop");
        this.lives = lives;
    }

    void start() throws IOException {
        Files.deleteIfExists(stop);
        Files.deleteIfExists(status);
        starts++;
        process = new ProcessBuilder(Jvm.command(heap, mainClass,
                List.of(runProperties.toString(), instance, status.toString(), stop.toString(),
                        Long.toString(ProcessHandle.current().pid()))))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(instance + ".log").toFile()))
                .start();
    }

    /** @return the current life's latest status, or empty properties before its first write */
    Properties status() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(status)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            // not yet written
        }
        return p;
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** kill -9 while it works; its last status written counts as the life's figures. */
    void kill() throws IOException, InterruptedException {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        lives.add(status());
        process = null;
    }

    /** Asks for a graceful shutdown and waits for the JVM to exit; kills it if it does not within the timeout. */
    void stop() throws IOException, InterruptedException {
        if (process == null) {
            return;
        }
        Files.writeString(stop, "stop");
        boolean exited = process.waitFor(60, TimeUnit.SECONDS);
        if (!exited) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        lives.add(status());
        process = null;
        if (!exited) {
            throw new IllegalStateException(instance + " did not stop within 60 s; see " + log());
        }
    }

    int starts() {
        return starts;
    }

    Path log() {
        return dir.resolve(instance + ".log");
    }

    /** Fails if the child died on its own (not killed or stopped by the suite). */
    void checkAlive() throws IOException {
        if (process != null && !process.isAlive()) {
            throw new IllegalStateException(instance + " exited by itself with " + process.exitValue() + "; log tail:\n"
                    + tail(log(), 60));
        }
    }

    static String tail(Path file, int lines) throws IOException {
        if (!Files.exists(file)) {
            return "(no log)";
        }
        List<String> all = Files.readAllLines(file);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "ChildRelay[" + instance + ", started " + starts + " times]";
    }

    /** The last status of every ended life of every instance of a scenario. */
    static final class Lives {
        private final java.util.List<Properties> ended = new java.util.ArrayList<>();

        void add(Properties p) {
            ended.add(p);
        }

        long sum(String key, List<Properties> running) {
            long n = 0;
            for (Properties p : all(running)) {
                n += Long.parseLong(p.getProperty(key, "0"));
            }
            return n;
        }

        long max(String key, List<Properties> running) {
            long n = 0;
            for (Properties p : all(running)) {
                n = Math.max(n, Long.parseLong(p.getProperty(key, "0")));
            }
            return n;
        }

        private List<Properties> all(List<Properties> running) {
            java.util.List<Properties> all = new java.util.ArrayList<>(ended);
            all.addAll(running);
            return all;
        }
    }
}
