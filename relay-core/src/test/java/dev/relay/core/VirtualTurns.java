package dev.relay.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.concurrent.Executor;

/**
 * A virtual clock with the relay's control executor and worker executor on it, all on the test's thread: turns and
 * worker runs queue up and run when the test calls {@link #runReady()}; delayed turns run when {@link #advance} passes
 * their time. Worker runs can be held back ({@link #holdWorkers}) so that tasks stay in flight as long as the test
 * wants. Not threadsafe: one test thread drives it.
 */
final class VirtualTurns extends Clock implements ControlExecutor {

    private record Timed(long at, long seq, Runnable turn) {
    }

    private Instant now = Instant.parse("2026-01-05T08:00:00Z");
    private long seq;
    private final ArrayDeque<Runnable> ready = new ArrayDeque<>();
    private final ArrayDeque<Runnable> heldWork = new ArrayDeque<>();
    private final PriorityQueue<Timed> timed = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at)
            : Long.compare(a.seq, b.seq));
    private boolean holdWorkers;

    /** The worker executor: runs tasks' pull and sink with the turns, or holds them while {@link #holdWorkers}. */
    final Executor workers = r -> (holdWorkers ? heldWork : ready).add(r);

    /** @param hold whether worker runs wait (in flight) until released */
    void holdWorkers(boolean hold) {
        holdWorkers = hold;
        if (!hold) {
            ready.addAll(heldWork);
            heldWork.clear();
        }
    }

    @Override
    public void execute(Runnable turn) {
        ready.add(turn);
    }

    @Override
    public void schedule(Duration delay, Runnable turn) {
        timed.add(new Timed(Clocks.epochNanos(now) + Math.max(0, delay.toNanos()), seq++, turn));
    }

    /** Runs what is ready — submitted turns and timers due by now — (and what that makes ready) until nothing is. */
    void runReady() {
        while (true) {
            Runnable r = ready.poll();
            if (r != null) {
                r.run();
                continue;
            }
            Timed due = timed.peek();
            if (due == null || due.at > Clocks.epochNanos(now)) {
                return;
            }
            timed.poll();
            due.turn.run();
        }
    }

    /** Moves the clock forward, running every turn that falls due on the way, at its time. */
    void advance(Duration d) {
        long end = Clocks.epochNanos(now) + d.toNanos();
        runReady();
        while (!timed.isEmpty() && timed.peek().at <= end) {
            Timed t = timed.poll();
            if (t.at > Clocks.epochNanos(now)) {
                now = Clocks.instant(t.at);
            }
            t.turn.run();
            runReady();
        }
        now = Clocks.instant(end);
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
