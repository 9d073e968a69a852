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
 * The relay-testkit contract suite against a real (in-process KRaft) broker: every test gets its own topic
 * prefix and consumer group. A crash is a consumer that commits what completed, then dies without leaving
 * anything else behind; the restarted consumer joins the same group.
 */
class KafkaTaskQueueContractTest extends TaskQueueContractTest {

    private String prefix;
    private String group;

    @Override
    protected TaskQueue createQueue() {
        prefix = EmbeddedKafka.unique("contract") + ".";
        group = prefix + "group";
        return newQueue();
    }

    private KafkaTaskQueue newQueue() {
        KafkaTaskQueue q = KafkaTaskQueue.builder()
                .bootstrapServers(EmbeddedKafka.bootstrapServers())
                .groupId(group)
                .topics(KafkaTopics.builder().prefix(prefix).partitions(2).replicationFactor(1).build())
                .createTopics(true)
                .commitInterval(Duration.ofMillis(100))
                .revocationTimeout(Duration.ofSeconds(5))
                .probationTimeout(Duration.ofSeconds(1))
                .lagRefreshInterval(Duration.ofMillis(200))
                .clientProperty("session.timeout.ms", "6000")
                .clientProperty("heartbeat.interval.ms", "500")
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
        KafkaTaskQueue k = (KafkaTaskQueue) crashed;
        k.flush(Duration.ofSeconds(10)); // what completed before the crash is committed
        k.crash(true);
        return newQueue();
    }

    @Override
    protected Map<String, String> deadLetters(TaskQueue q, String lane) throws InterruptedException {
        String topic = ((KafkaTaskQueue) q).topics().deadLetterTopic(lane);
        Map<String, String> out = new LinkedHashMap<>();
        // the dead letters are produced before the contract asks for them; an empty lane is confirmed sooner
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
        return Duration.ofSeconds(15);
    }
}
