package dev.relay.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;

/**
 * The one record of which deliveries are open: a lease is registered when it is handed out and leaves when its
 * ending has been processed by the owner of its offsets (or when it is lost). Revocation waits on it, probation
 * asks it whether the queue is quiet, and a revocation or close takes leases away through it.
 *
 * <p>Threadsafe: the engine's thread registers, the consumer thread removes.
 */
final class LeaseRegistry {

    private final Set<KafkaLease> open = ConcurrentHashMap.newKeySet();

    /** A lease was handed out (any thread). */
    void opened(KafkaLease lease) {
        open.add(lease);
    }

    /** Its ending was processed (owner thread). */
    void closed(KafkaLease lease) {
        open.remove(lease);
    }

    /** @return how many leases are open */
    int openCount() {
        return open.size();
    }

    /** @return whether a lease of one of the partitions is open */
    boolean hasOpen(Collection<TopicPartition> parts) {
        for (KafkaLease l : open) {
            if (parts.contains(l.delivery().tp())) {
                return true;
            }
        }
        return false;
    }

    /** @return whether a lease of the delivery is open */
    boolean isOpen(Delivery d) {
        for (KafkaLease l : open) {
            Delivery x = l.delivery();
            if (x.offset() == d.offset() && x.epoch() == d.epoch() && x.tp().equals(d.tp())) {
                return true;
            }
        }
        return false;
    }

    /** @return the offsets of the partition's open leases */
    List<Long> openOffsets(TopicPartition tp) {
        List<Long> out = new ArrayList<>();
        for (KafkaLease l : open) {
            if (l.delivery().tp().equals(tp)) {
                out.add(l.delivery().offset());
            }
        }
        return out;
    }

    /**
     * Takes the partitions' open leases away: ending one then throws LeaseLostException.
     *
     * @param parts the partitions
     * @return how many were still active
     */
    int lose(Collection<TopicPartition> parts) {
        return lose(d -> parts.contains(d.tp()));
    }

    /**
     * Takes the open leases of the deliveries the predicate picks away.
     *
     * @param which picks deliveries
     * @return how many were still active
     */
    int lose(java.util.function.Predicate<Delivery> which) {
        int lost = 0;
        for (KafkaLease l : open) {
            if (which.test(l.delivery())) {
                if (l.markLost()) {
                    lost++;
                }
                open.remove(l);
            }
        }
        return lost;
    }
}
