package dev.relay.kafka;

import dev.relay.api.TaskQueue;
import dev.relay.testkit.TaskQueueContractTest;
import java.time.Duration;

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
    protected Duration patience() {
        return Duration.ofSeconds(60); // a bound on waits that end as soon as the tasks arrive: generous for a loaded machine
    }
}
