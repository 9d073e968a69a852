package dev.relay.kafka;

import dev.relay.api.TaskQueue;
import dev.relay.testkit.TaskQueueContractTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The relay-testkit contract suite against the share-group backend (KIP-932) on the in-process broker, which
 * enables share groups (see {@link EmbeddedKafka}). Every test gets its own topic prefix and share groups; the
 * groups' locks and sessions are short so that a crashed consumer's records come back within the test.
 */
class KafkaShareTaskQueueContractTest extends TaskQueueContractTest {

    private String prefix;

    @Override
    protected TaskQueue createQueue() {
        prefix = EmbeddedKafka.unique("share") + ".";
        return newQueue();
    }

    private KafkaShareTaskQueue newQueue() {
        KafkaShareTaskQueue q = KafkaShareTaskQueue.builder()
                .bootstrapServers(EmbeddedKafka.bootstrapServers())
                .groupId(prefix + "group")
                .topics(KafkaTopics.builder().prefix(prefix).partitions(2).replicationFactor(1).build())
                .createTopics(true)
                .prefetchPerLane(256) // a share consumer holding records acquires nothing more: big batches
                .consumersPerLane(8)
                .groupConfig("share.heartbeat.interval.ms", "200")
                .groupConfig("share.assignment.interval.ms", "100")
                .groupConfig("share.session.timeout.ms", "3000")
                .groupConfig("share.record.lock.duration.ms", "10000")
                .build();
        q.subscribe(LANES);
        return q;
    }

    @Override
    protected void advance(Duration d) throws InterruptedException {
        Thread.sleep(d.toMillis());
    }

    @Override
    protected TaskQueue crashAndRestart(TaskQueue crashed) {
        KafkaShareTaskQueue k = (KafkaShareTaskQueue) crashed;
        k.flush(Duration.ofSeconds(10)); // what completed before the crash is acknowledged
        k.crash();
        return newQueue();
    }

    @Override
    protected Map<String, String> deadLetters(TaskQueue q, String lane) throws InterruptedException {
        String topic = ((KafkaShareTaskQueue) q).topics().deadLetterTopic(lane);
        Map<String, String> out = new LinkedHashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        do {
            out.clear();
            for (ConsumerRecord<byte[], byte[]> r : EmbeddedKafka.readAll(EmbeddedKafka.bootstrapServers(), topic,
                    Duration.ofSeconds(10))) {
                Header h = r.headers().lastHeader(TaskRecordCodec.HEADER_DLT_REASON);
                out.put(new String(r.key(), StandardCharsets.UTF_8),
                        h == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
            }
            if (!out.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return out;
    }

    @Override
    protected Duration patience() {
        return Duration.ofSeconds(20);
    }
}
