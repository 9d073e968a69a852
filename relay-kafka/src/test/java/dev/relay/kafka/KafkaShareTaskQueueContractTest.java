package dev.relay.kafka;

import dev.relay.api.TaskQueue;
import dev.relay.testkit.TaskQueueContractTest;
import java.time.Duration;

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
    protected Duration patience() {
        return Duration.ofSeconds(60); // a bound on waits that end as soon as the tasks arrive: generous for a loaded machine
    }
}
