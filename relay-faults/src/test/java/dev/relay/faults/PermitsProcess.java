package dev.relay.faults;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The test's handle on one {@link PermitsChild} JVM: start, kill -9, SIGSTOP / SIGCONT, graceful stop, and its status
 * file. The last status of each life is kept, so counters that a life counts from zero can be summed.
 *
 * <p>Not threadsafe: one test thread drives it.
 */
final class PermitsProcess implements AutoCloseable {

    final String instance;
    private final Path runProperties;
    private final Path dir;
    private final Path status;
    private final Path stop;
    private final List<Properties> lives = new ArrayList<>();
    private Process process;

    PermitsProcess(String instance, Path runProperties, Path dir) {
        this.instance = instance;
        this.runProperties = runProperties;
        this.dir = dir;
        this.status = dir.resolve(instance + ".status");
        this.stop = dir.resolve(instance + ".stop");
    }

    void start() throws IOException {
        Files.deleteIfExists(stop);
        Files.deleteIfExists(status);
        process = new ProcessBuilder(Jvm.command("320m", PermitsChild.class.getName(),
                List.of(runProperties.toString(), instance, status.toString(), stop.toString(),
                        Long.toString(ProcessHandle.current().pid()))))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(instance + ".log").toFile()))
                .start();
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** @return the current life's latest status, or empty before its first write */
    Properties status() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(status)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            // not yet written
        }
        return p;
    }

    int held() throws IOException {
        return Integer.parseInt(status().getProperty("permits.held", "0"));
    }

    /** kill -9; the life's last status counts. */
    void kill() throws IOException, InterruptedException {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IOException(instance + " did not die within 30 s of kill -9");
        }
        lives.add(status());
        process = null;
    }

    void signal(String signal) throws IOException, InterruptedException {
        // never inheritIO here: the test JVM's stdout is surefire's channel, and a stray byte breaks it
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    /** Asks for a graceful shutdown, waits for the exit; kills it if it does not exit in time. */
    void stop() throws IOException, InterruptedException {
        if (process == null) {
            return;
        }
        Files.writeString(stop, "stop");
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        lives.add(status());
        process = null;
    }

    /** @return the sum of a counter over every life, the current one included */
    long total(String key) throws IOException {
        long sum = 0;
        for (Properties life : lives) {
            sum += Long.parseLong(life.getProperty(key, "0"));
        }
        if (process != null) {
            sum += Long.parseLong(status().getProperty(key, "0"));
        }
        return sum;
    }

    int lives() {
        return lives.size() + (process != null ? 1 : 0);
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
        return instance + (alive() ? " (pid " + process.pid() + ")" : " (down)");
    }
}
