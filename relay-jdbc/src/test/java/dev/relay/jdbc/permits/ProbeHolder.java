package dev.relay.jdbc.permits;

import dev.relay.api.PermitHolder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A holder standing in for the engine: it records what it holds and, when a permit is revoked, gives it back at
 * once or when the test says (a query still running on it). Threadsafe (its monitor).
 */
final class ProbeHolder implements PermitHolder {

    private final boolean giveBackAtOnce;
    private final Set<Integer> held = new TreeSet<>();
    private final Map<Integer, Runnable> revoking = new TreeMap<>();
    private final List<String> events = new ArrayList<>();

    ProbeHolder(boolean giveBackAtOnce) {
        this.giveBackAtOnce = giveBackAtOnce;
    }

    @Override
    public void granted(int permit) {
        synchronized (this) {
            events.add("granted " + permit);
            if (!held.add(permit)) {
                throw new AssertionError("permit " + permit + " granted twice: " + events);
            }
        }
    }

    @Override
    public void revoked(int permit, Duration grace, Runnable giveBack) {
        synchronized (this) {
            events.add("revoked " + permit);
            if (!held.contains(permit)) {
                throw new AssertionError("permit " + permit + " revoked but not held: " + events);
            }
            if (!giveBackAtOnce) {
                revoking.put(permit, giveBack);
                return;
            }
            held.remove(permit);
        }
        giveBack.run();
    }

    @Override
    public synchronized void lost(int permit) {
        events.add("lost " + permit);
        if (!held.remove(permit)) {
            throw new AssertionError("permit " + permit + " lost but not held: " + events);
        }
        revoking.remove(permit);
    }

    /** Gives back every permit being revoked (their queries ended). */
    void giveBackAll() {
        List<Runnable> runs;
        synchronized (this) {
            runs = new ArrayList<>(revoking.values());
            held.removeAll(revoking.keySet());
            revoking.clear();
        }
        runs.forEach(Runnable::run);
    }

    /** @return the permits this holder may run queries on now */
    synchronized Set<Integer> held() {
        return new TreeSet<>(held);
    }

    synchronized List<String> events() {
        return new ArrayList<>(events);
    }
}
