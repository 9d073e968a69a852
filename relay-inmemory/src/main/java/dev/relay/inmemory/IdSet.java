package dev.relay.inmemory;

/**
 * A set of task ids: an open-addressing hash table (linear probing, deletion by backward shift, at most half
 * full) that allocates nothing per id, unlike a {@link java.util.HashSet} node per task.
 *
 * <p>Not threadsafe: guarded by its lane's lock.
 */
final class IdSet {

    private String[] slots = new String[16];
    private int size;

    /** @return true if the id was added; false if it was there */
    boolean add(String id) {
        int mask = slots.length - 1;
        for (int i = index(id, mask);; i = (i + 1) & mask) {
            String s = slots[i];
            if (s == null) {
                slots[i] = id;
                if (++size * 2 > slots.length) {
                    resize();
                }
                return true;
            }
            if (s.equals(id)) {
                return false;
            }
        }
    }

    boolean contains(String id) {
        int mask = slots.length - 1;
        for (int i = index(id, mask);; i = (i + 1) & mask) {
            String s = slots[i];
            if (s == null) {
                return false;
            }
            if (s.equals(id)) {
                return true;
            }
        }
    }

    /** @return true if the id was there */
    boolean remove(String id) {
        int mask = slots.length - 1;
        for (int i = index(id, mask);; i = (i + 1) & mask) {
            String s = slots[i];
            if (s == null) {
                return false;
            }
            if (s.equals(id)) {
                slots[i] = null;
                size--;
                shiftBack(i, mask);
                return true;
            }
        }
    }

    /** Refills the hole at {@code hole} with the ids after it that probed past it. */
    private void shiftBack(int hole, int mask) {
        for (int i = (hole + 1) & mask;; i = (i + 1) & mask) {
            String s = slots[i];
            if (s == null) {
                return;
            }
            int home = index(s, mask);
            boolean stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
            if (!stays) {
                slots[hole] = s;
                slots[i] = null;
                hole = i;
            }
        }
    }

    private void resize() {
        String[] old = slots;
        slots = new String[old.length * 2];
        int mask = slots.length - 1;
        for (String s : old) {
            if (s != null) {
                int i = index(s, mask);
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

    int size() {
        return size;
    }
}
