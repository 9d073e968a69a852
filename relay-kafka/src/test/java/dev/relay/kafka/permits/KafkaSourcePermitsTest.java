package dev.relay.kafka.permits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.RelayException;
import dev.relay.kafka.PermitsTestBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

/**
 * Kafka-coordinated permits on the JVM's in-process broker: spread, revocation handed over only after the give-back,
 * leaving, misconfiguration, and 100 crash cycles at the store level (a member that stops without leaving the group,
 * as kill -9 leaves it), sampled all along for a permit used twice.
 */
class KafkaSourcePermitsTest {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final Duration LEASE = Duration.ofMillis(1_500);

    /** A cluster of members sharing one topic and group, whose holders share one lock. */
    static final class Cluster implements AutoCloseable {
        final String topic = "permits-test-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        final String group = topic + "-group";
        final int total;
        final Object lock = new Object();
        final Map<KafkaSourcePermits, ProbeHolder> live = new ConcurrentHashMap<>();
        final List<String> violations = new CopyOnWriteArrayList<>();
        private final Thread sampler;
        private volatile boolean sampling = true;
        private int members;

        Cluster(int total) {
            this.total = total;
            sampler = new Thread(() -> {
                while (sampling) {
                    sample();
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "permit-sampler");
            sampler.setDaemon(true);
            sampler.start();
        }

        KafkaSourcePermits.Builder builder() {
            return KafkaSourcePermits.builder().bootstrapServers(PermitsTestBroker.bootstrapServers()).groupId(group)
                    .topic(topic).permits(total).createTopic(true, 1).lease(LEASE).renewInterval(Duration.ofMillis(200))
                    .margin(Duration.ofMillis(300)).revocationGrace(Duration.ofSeconds(5)).cancelTimeout(Duration.ofSeconds(5))
                    .clientId(topic + "-m" + ++members).startTimeout(Duration.ofSeconds(90));
        }

        KafkaSourcePermits join(boolean giveBackAtOnce) {
            KafkaSourcePermits p = builder().build();
            ProbeHolder h = new ProbeHolder(lock, giveBackAtOnce);
            live.put(p, h);
            p.start(h);
            return p;
        }

        ProbeHolder holder(KafkaSourcePermits p) {
            return live.get(p);
        }

        /** The permits held by the live members, read at one instant; a permit held twice is a violation. */
        Set<Integer> sample() {
            Set<Integer> seen = new TreeSet<>();
            synchronized (lock) {
                for (ProbeHolder h : live.values()) {
                    for (int k : h.held()) {
                        if (!seen.add(k)) {
                            violations.add("permit " + k + " held twice: " + live.values().stream().map(ProbeHolder::held).toList());
                        }
                    }
                }
            }
            return seen;
        }

        List<Integer> sizes() {
            synchronized (lock) {
                List<Integer> sizes = new ArrayList<>();
                live.values().forEach(h -> sizes.add(h.held().size()));
                sizes.sort(null);
                return sizes;
            }
        }

        void crash(KafkaSourcePermits p) {
            live.remove(p); // its queries died with it
            p.crash();
        }

        void leave(KafkaSourcePermits p) {
            live.remove(p); // its engine stopped first: its holder runs nothing any more
            p.close();
        }

        @Override
        public void close() {
            sampling = false;
            live.keySet().forEach(KafkaSourcePermits::close);
            try {
                sampler.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void threeMembers_permitsSpreadEvenlyAndNeverHeldTwice() throws Exception {
        try (Cluster cluster = new Cluster(4)) {
            cluster.join(true);
            KafkaSourcePermits second = cluster.join(true);
            cluster.join(true);
            waitFor(() -> cluster.sizes().equals(List.of(1, 1, 2)), 20, () -> "an even spread: " + cluster.sizes());
            cluster.leave(second);
            waitFor(() -> cluster.sample().size() == 4 && cluster.sizes().equals(List.of(2, 2)), 20,
                    () -> "the leaver's permits moved: " + cluster.sizes());
            assertEquals(List.of(), cluster.violations);
        }
    }

    @Test
    void newcomer_revokedPermitReachesItOnlyAfterGiveBack() throws Exception {
        try (Cluster cluster = new Cluster(2)) {
            KafkaSourcePermits first = cluster.join(false);
            waitFor(() -> cluster.holder(first).held().size() == 2, 1, () -> "first holds both");
            KafkaSourcePermits second = cluster.join(true);
            waitFor(() -> cluster.holder(first).revoking().size() == 1, 1, () -> "one permit revoked from first");
            Thread.sleep(LEASE.toMillis() * 2); // longer than a lease: renewed meanwhile, never handed over
            assertEquals(Set.of(), cluster.holder(second).held(), "not handed over before given back");
            assertEquals(2, cluster.holder(first).held().size());
            assertEquals(0, first.status().forcedReleases());
            cluster.holder(first).giveBackAll();
            waitFor(() -> cluster.holder(second).held().size() == 1, 1, () -> "second got the given-back permit");
            assertEquals(1, first.status().revocations());
            assertEquals(List.of(), cluster.violations);
        }
    }

    @Test
    void start_topicWithOtherPartitionCount_failsNamingBoth() throws Exception {
        String topic = "permits-test-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, PermitsTestBroker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        KafkaSourcePermits p = KafkaSourcePermits.builder().bootstrapServers(PermitsTestBroker.bootstrapServers())
                .groupId(topic + "-group").topic(topic).permits(4).build();
        RelayException e = assertThrows(RelayException.class, () -> p.start(new ProbeHolder(new Object(), true)));
        assertTrue(e.getMessage().contains("has 3 partitions") && e.getMessage().contains("configured for 4"), e.getMessage());
        assertFalse(e.retryable());
        p.close();
    }

    @Test
    void start_topicMissing_failsNamingIt() {
        String topic = "permits-missing-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        KafkaSourcePermits p = KafkaSourcePermits.builder().bootstrapServers(PermitsTestBroker.bootstrapServers())
                .groupId(topic + "-group").topic(topic).permits(2).startTimeout(Duration.ofSeconds(30)).build();
        RelayException e = assertThrows(RelayException.class, () -> p.start(new ProbeHolder(new Object(), true)));
        assertTrue(e.getMessage().contains(topic) && e.getMessage().contains("does not exist"), e.getMessage());
        p.close();
    }

    @Test
    void builder_badSettings_failNamingTheValue() {
        IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
                () -> KafkaSourcePermits.builder().clientProperty("session.timeout.ms", 45_000));
        assertTrue(reserved.getMessage().contains("session.timeout.ms"), reserved.getMessage());
        IllegalStateException group = assertThrows(IllegalStateException.class,
                () -> KafkaSourcePermits.builder().bootstrapServers("localhost:9092").build());
        assertTrue(group.getMessage().contains("groupId"), group.getMessage());
        IllegalStateException renew = assertThrows(IllegalStateException.class, () -> KafkaSourcePermits.builder()
                .bootstrapServers("localhost:9092").groupId("g").lease(Duration.ofSeconds(10))
                .renewInterval(Duration.ofSeconds(5)).build());
        assertTrue(renew.getMessage().contains("PT5S"), renew.getMessage());
        IllegalArgumentException topic = assertThrows(IllegalArgumentException.class,
                () -> KafkaSourcePermits.builder().topic("permits/1"));
        assertTrue(topic.getMessage().contains("permits/1"), topic.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KafkaSourcePermits.builder().lease(Duration.ofMillis(500)));
        assertThrows(IllegalArgumentException.class, () -> KafkaSourcePermits.builder().permits(0));
    }

    /**
     * 100 crash cycles at the store level, ten clusters at a time: each cycle crashes a member that holds permits
     * (it stops without leaving the group, as kill -9 leaves it; the coordinator expels it after the lease), starts a
     * new one, and waits until the live members hold all {@code P} again. A sampler checks all along that no permit is
     * held by two live members.
     */
    @Test
    void crashCycles_hundredAtTheStoreLevel_noPermitLeakedOrHeldTwice() throws Exception {
        int clusters = 10;
        int cycles = 10;
        ExecutorService pool = Executors.newFixedThreadPool(clusters);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int c = 0; c < clusters; c++) {
                long seed = c;
                results.add(pool.submit(() -> {
                    try (Cluster cluster = new Cluster(4)) {
                        Random random = new Random(seed);
                        List<KafkaSourcePermits> members = new ArrayList<>();
                        for (int i = 0; i < 3; i++) {
                            members.add(cluster.join(true));
                        }
                        for (int cycle = 0; cycle < cycles; cycle++) {
                            waitFor(() -> cluster.sample().size() == 4, 1, () -> "all 4 held: " + cluster.sizes());
                            List<KafkaSourcePermits> holders = new ArrayList<>();
                            for (KafkaSourcePermits m : members) {
                                if (!cluster.holder(m).held().isEmpty()) {
                                    holders.add(m);
                                }
                            }
                            KafkaSourcePermits victim = holders.get(random.nextInt(holders.size()));
                            members.remove(victim);
                            cluster.crash(victim);
                            members.add(cluster.join(true));
                        }
                        waitFor(() -> cluster.sample().size() == 4, 1, () -> "all 4 held at the end: " + cluster.sizes());
                        return new ArrayList<>(cluster.violations);
                    }
                }));
            }
            for (Future<List<String>> r : results) {
                assertEquals(List.of(), r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Waits until the condition held {@code times} checks in a row (10 ms apart), up to a generous deadline. */
    static void waitFor(BooleanSupplier condition, int times, java.util.function.Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        int inARow = 0;
        while (inARow < times) {
            inARow = condition.getAsBoolean() ? inARow + 1 : 0;
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            Thread.sleep(10);
        }
    }
}
