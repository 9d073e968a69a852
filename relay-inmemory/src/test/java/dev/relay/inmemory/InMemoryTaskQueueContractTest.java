package dev.relay.inmemory;

import dev.relay.api.TaskQueue;
import dev.relay.testkit.TaskQueueContractTest;
import java.time.Clock;
import java.time.Duration;

/** The in-memory backend passes the contract on a virtual clock. */
class InMemoryTaskQueueContractTest extends TaskQueueContractTest {

    private static final Duration LEASE_TIMEOUT = Duration.ofMinutes(5);
    private final InMemoryTaskQueueTest.MutableClock clock = new InMemoryTaskQueueTest.MutableClock();

    @Override
    protected TaskQueue createQueue() {
        TaskQueue q = InMemoryTaskQueue.builder().clock(clock).leaseTimeout(LEASE_TIMEOUT).build();
        q.subscribe(LANES);
        return q;
    }

    @Override
    protected void advance(Duration d) {
        clock.advance(d);
    }

    @Override
    protected TaskQueue crashAndRestart(TaskQueue crashed) {
        clock.advance(LEASE_TIMEOUT.plusSeconds(1)); // the dead holder's leases time out
        return crashed;
    }

    @Override
    protected Clock clock() {
        return clock;
    }

    @Override
    protected Duration patience() {
        return Duration.ofSeconds(10); // a deadline only: a synchronous queue answers at once
    }

    @Override
    protected Duration quietPeriod() {
        return Duration.ofMillis(20);
    }
}
