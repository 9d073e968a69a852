package dev.relay.core;

import dev.relay.api.TaskQueue;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds tasks waiting in lanes of the queue that the relay does not serve (offered to a lane no relay serves, they
 * would otherwise wait unseen): from {@link TaskQueue#lanesWithTasks()}, the backlog of every other lane, with a
 * warning when a lane first shows up. Not threadsafe: used by the housekeeping turn.
 */
final class UnservedLanes {

    private static final Logger LOG = LoggerFactory.getLogger(UnservedLanes.class);

    private final TaskQueue queue;
    private final Set<String> warned = new HashSet<>();

    UnservedLanes(TaskQueue queue) {
        this.queue = queue;
    }

    /**
     * @param served the lanes the relay serves
     * @return the backlog of each lane holding tasks that the relay does not serve (-1 where the queue cannot count),
     *     or null if the queue cannot tell which lanes hold tasks
     */
    Map<String, Long> refresh(Set<String> served) {
        Optional<Set<String>> held;
        try {
            held = queue.lanesWithTasks();
        } catch (RuntimeException e) {
            LOG.debug("the queue could not list its lanes", e);
            return null;
        }
        if (held.isEmpty()) {
            return null;
        }
        Map<String, Long> unserved = new TreeMap<>();
        for (String name : held.get()) {
            if (served.contains(name)) {
                continue;
            }
            long backlog;
            try {
                backlog = queue.backlog(name);
            } catch (RuntimeException e) {
                backlog = -1;
            }
            if (backlog != 0) {
                unserved.put(name, backlog);
            }
        }
        for (Map.Entry<String, Long> e : unserved.entrySet()) {
            if (warned.add(e.getKey())) {
                LOG.warn("{} tasks wait in lane '{}' of the queue, which this relay does not serve (its lanes are {})",
                        e.getValue() < 0 ? "some" : e.getValue(), e.getKey(), new TreeSet<>(served));
            }
        }
        warned.retainAll(unserved.keySet());
        return unserved;
    }
}
