package dev.relay.faults;

import dev.relay.api.LaneSpec;
import dev.relay.api.Row;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.core.Relay;
import dev.relay.core.RelaySnapshot;
import dev.relay.handoff.HandoffSource;
import dev.relay.handoff.HandoffTopics;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * The uploader host of the bounded-memory test, run in {@code -Xmx64m}: a relay on the hand-off source whose sink
 * counts and checksums the rows of the one big task ({@link BigTask#hash}). Writes rows, checksum, the heap's peak
 * use (sampled) and the old generation's largest occupancy after a collection to its result file once the task is
 * loaded. Arguments: bootstrap servers, topic prefix, group, result file, the suite's pid.
 */
public final class BigTaskUploaderChild {

    private BigTaskUploaderChild() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        HandoffTopics topics = HandoffTopics.builder().prefix(args[1]).partitions(1).build();
        Path result = Path.of(args[3]);
        long parent = Long.parseLong(args[4]);
        AtomicLong peak = new AtomicLong();
        Thread sampler = new Thread(() -> {
            var memory = ManagementFactory.getMemoryMXBean();
            while (true) {
                peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                if (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false) == Boolean.FALSE) {
                    Runtime.getRuntime().halt(3);
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "heap-sampler");
        sampler.setDaemon(true);
        sampler.start();
        AtomicLong rows = new AtomicLong();
        CRC32C crc = new CRC32C();
        Sink counting = (Task task, RowSchema schema) -> new SinkSession() {
            @Override
            public void write(List<Row> chunk) {
                for (Row r : chunk) {
                    BigTask.hash(crc, r);
                }
                rows.addAndGet(chunk.size());
            }

            @Override
            public void commit() {
            }

            @Override
            public void abort() {
                rows.set(0);
                crc.reset();
            }

            @Override
            public void close() {
            }
        };
        HandoffSource handoff = HandoffSource.builder().bootstrapServers(bootstrap).groupId(args[2]).topics(topics)
                .prefetchPerLane(2).build();
        Relay relay = Relay.builder().queue(handoff.queue()).puller(handoff.puller()).sourcePermits(1)
                .lane(LaneSpec.builder("backfill").build(), counting).build().start();
        while (true) {
            RelaySnapshot s = relay.snapshot();
            if (s.completed() + s.lanes().get(0).retried() + s.lanes().get(0).deadLettered() > 0) {
                long oldGenAfterGc = 0;
                for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                    if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null && pool.getName().contains("Tenured")) {
                        oldGenAfterGc = Math.max(oldGenAfterGc, pool.getPeakUsage().getUsed());
                    }
                }
                Properties out = new Properties();
                out.setProperty("completed", Long.toString(s.completed()));
                out.setProperty("retried", Long.toString(s.lanes().get(0).retried()));
                out.setProperty("rows", Long.toString(rows.get()));
                out.setProperty("crc", Long.toString(crc.getValue()));
                out.setProperty("peakHeapUsed", Long.toString(peak.get()));
                out.setProperty("peakOldGen", Long.toString(oldGenAfterGc));
                out.setProperty("maxHeap", Long.toString(Runtime.getRuntime().maxMemory()));
                Path tmp = result.resolveSibling(result.getFileName() + ".tmp");
                try (var w = Files.newBufferedWriter(tmp)) {
                    out.store(w, null);
                }
                Files.move(tmp, result, StandardCopyOption.ATOMIC_MOVE);
                break;
            }
            Thread.sleep(50);
        }
        relay.shutdown(Duration.ofSeconds(10));
        handoff.close();
        System.exit(0);
    }
}
