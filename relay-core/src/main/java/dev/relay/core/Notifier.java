package dev.relay.core;

import dev.relay.api.Task;
import java.time.Duration;
import java.time.Instant;

/**
 * Tells the {@link RelayListener} what the engine did, building the arguments — instants, durations, start
 * bounds — only for the methods the listener overrides: a listener that ignores starts costs no allocation per
 * start. Called from control turns only (the listener's contract), so not threadsafe.
 */
final class Notifier {

    private final RelayListener listener;
    private final Turn turn;
    private final boolean started;
    private final boolean completed;
    private final boolean heads;

    Notifier(RelayListener listener, Turn turn) {
        this.listener = listener;
        this.turn = turn;
        this.started = overrides(listener, "started", Task.class, Instant.class, Duration.class, int.class);
        this.completed = overrides(listener, "completed", Task.class, Instant.class, Duration.class, long.class);
        this.heads = overrides(listener, "reachedHead", Task.class, Instant.class, long.class);
    }

    /** @return whether the listener overrides a method of {@link RelayListener} (else calling it is a no-op) */
    private static boolean overrides(RelayListener l, String method, Class<?>... parameters) {
        try {
            return l.getClass().getMethod(method, parameters).getDeclaringClass() != RelayListener.class;
        } catch (NoSuchMethodException e) {
            return true;
        }
    }

    /** @return whether the listener wants to hear when a task reached the head of its lane (the bound is O(lanes)) */
    boolean wantsHeads() {
        return heads;
    }

    void started(Task task, long waitedNanos, int permitsInUse) {
        if (started) {
            listener.started(task, turn.at(), Duration.ofNanos(waitedNanos), permitsInUse);
        }
    }

    void completed(Task task, long serviceNanos, long rows) {
        if (completed) {
            listener.completed(task, turn.at(), Duration.ofNanos(serviceNanos), rows);
        }
    }

    void retried(Task task, Duration delay, Throwable error) {
        listener.retried(task, turn.at(), delay, error);
    }

    void deadLettered(Task task, String reason) {
        listener.deadLettered(task, turn.at(), reason);
    }

    void reachedHead(Task task, long bound) {
        listener.reachedHead(task, turn.at(), bound);
    }

    void subscriptionFailed(java.util.Set<String> lanes, Throwable error) {
        listener.subscriptionFailed(java.util.Set.copyOf(lanes), turn.at(), error);
    }

    void subscribed(java.util.Set<String> lanes) {
        listener.subscribed(java.util.Set.copyOf(lanes), turn.at());
    }
}
