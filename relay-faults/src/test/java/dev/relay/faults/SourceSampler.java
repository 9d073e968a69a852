package dev.relay.faults;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * Samples the source's relay sessions from {@code pg_stat_activity} every 10 ms, on a thread and connection of its own:
 * per sample, the pulls in progress (sessions of {@code application_name} {@code permits-src-<instance>-<lane>} that
 * are not idle: a query running, or a cursor open in its transaction between fetches), how many of them run a query
 * right now ({@code active}), and how many each lane and each instance has. A pull ends with a rollback before its connection
 * closes, so a finished pull is never counted.
 *
 * <p>Threadsafe: the sampling thread appends, the test reads copies.
 */
final class SourceSampler implements AutoCloseable {

    /** One sample. */
    record Sample(long nanos, int open, int active, Map<String, Integer> lanes, Map<String, Integer> instances) {
    }

    private static final String SQL = "SELECT application_name, state FROM pg_stat_activity "
            + "WHERE application_name LIKE 'permits-src-%' AND state IS NOT NULL AND state <> 'idle'";

    private final DataSource db;
    private final List<Sample> samples = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    SourceSampler(DataSource db) {
        this.db = db;
        this.thread = new Thread(this::run, "source-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            while (running) {
                long t = System.nanoTime();
                int open = 0;
                int active = 0;
                Map<String, Integer> lanes = new TreeMap<>();
                Map<String, Integer> instances = new TreeMap<>();
                try (ResultSet rs = s.executeQuery(SQL)) {
                    while (rs.next()) {
                        open++;
                        if ("active".equals(rs.getString(2))) {
                            active++;
                        }
                        String who = rs.getString(1).substring("permits-src-".length()); // <instance>-<lane>
                        int dash = who.indexOf('-');
                        instances.merge(dash < 0 ? who : who.substring(0, dash), 1, Integer::sum);
                        if (dash >= 0) {
                            lanes.merge(who.substring(dash + 1), 1, Integer::sum);
                        }
                    }
                }
                synchronized (samples) {
                    samples.add(new Sample(t, open, active, lanes, instances));
                }
                long sleep = 10 - (System.nanoTime() - t) / 1_000_000;
                if (sleep > 0) {
                    Thread.sleep(sleep);
                }
            }
        } catch (SQLException | RuntimeException e) {
            failure = e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** @return the samples so far; fails if sampling stopped with an error */
    List<Sample> samples() {
        if (failure != null) {
            throw new AssertionError("sampling pg_stat_activity failed", failure);
        }
        synchronized (samples) {
            return new ArrayList<>(samples);
        }
    }

    /** @return the latest sample, or null before the first */
    Sample latest() {
        synchronized (samples) {
            return samples.isEmpty() ? null : samples.get(samples.size() - 1);
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
