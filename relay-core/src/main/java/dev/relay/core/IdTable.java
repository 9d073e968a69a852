package dev.relay.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The active runs of one sink by task id: an open-addressing hash table (linear probing, deletion by backward
 * shift, at most half full) that allocates nothing per entry, unlike a {@link java.util.HashMap} node per task.
 * The key is the run's {@link dev.relay.api.Task#id()}.
 *
 * <p>Not threadsafe: owned by the control turn.
 */
final class IdTable {

    private TaskRun[] slots = new TaskRun[16];
    private int size;

    /**
     * @param run a run
     * @return the run already active under its task id, or null after making {@code run} the active one
     */
    TaskRun putIfAbsent(TaskRun run) {
        String id = run.task().id();
        int mask = slots.length - 1;
        for (int i = index(id, mask);; i = (i + 1) & mask) {
            TaskRun s = slots[i];
            if (s == null) {
                slots[i] = run;
                if (++size * 2 > slots.length) {
                    resize();
                }
                return null;
            }
            if (s.task().id().equals(id)) {
                return s;
            }
        }
    }

    /**
     * Removes {@code run} if it is the active run of its id.
     *
     * @param run a run
     * @return whether it was
     */
    boolean remove(TaskRun run) {
        String id = run.task().id();
        int mask = slots.length - 1;
        for (int i = index(id, mask);; i = (i + 1) & mask) {
            TaskRun s = slots[i];
            if (s == null) {
                return false;
            }
            if (s == run) {
                slots[i] = null;
                size--;
                shiftBack(i, mask);
                return true;
            }
        }
    }

    /** Refills the hole at {@code hole} with the entries after it that probed past it. */
    private void shiftBack(int hole, int mask) {
        for (int i = (hole + 1) & mask;; i = (i + 1) & mask) {
            TaskRun s = slots[i];
            if (s == null) {
                return;
            }
            int home = index(s.task().id(), mask);
            // move s into the hole unless its home lies cyclically in (hole, i]
            boolean stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
            if (!stays) {
                slots[hole] = s;
                slots[i] = null;
                hole = i;
            }
        }
    }

    private void resize() {
        TaskRun[] old = slots;
        slots = new TaskRun[old.length * 2];
        int mask = slots.length - 1;
        for (TaskRun s : old) {
            if (s != null) {
                int i = index(s.task().id(), mask);
                while (slots[i] != null) {
                    i = (i + 1) & mask;
                }
                slots[i] = s;
            }
        }
    }

    private static int index(String id, int mask) {
        int x = id.hashCode() * 0x9E3779B1;
        return (x ^ (x >>> 16)) & mask;
    }

    /** @return the active runs, in no particular order */
    List<TaskRun> values() {
        List<TaskRun> out = new ArrayList<>(size);
        for (TaskRun s : slots) {
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    int size() {
        return size;
    }
}
