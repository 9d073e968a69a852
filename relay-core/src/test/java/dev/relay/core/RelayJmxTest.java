package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.HealthStatus;
import dev.relay.api.LaneSpec;
import dev.relay.inmemory.InMemoryTaskQueue;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.openmbean.CompositeData;
import javax.management.openmbean.TabularData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The relay's MBean as an operator's JMX client sees it: through the platform MBean server, attributes read and
 * operations invoked by name, with JDK types only.
 */
class RelayJmxTest {

    static final String[] STRING = {String.class.getName()};

    final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    final InMemoryTaskQueue queue = InMemoryTaskQueue.create();
    final List<Relay> relays = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Relay r : relays) {
            r.shutdown(Duration.ofSeconds(5));
        }
    }

    Relay start(String name) {
        Relay r = Relay.builder().name(name).jmx().queue(queue).puller(RelayTest.puller(2)).sink(new RelayTest.MemorySink())
                .idlePollInterval(Duration.ofMillis(5)).lane(LaneSpec.of("realtime"))
                .lane(LaneSpec.builder("backfill").weight(2).build()).build();
        relays.add(r);
        return r.start();
    }

    Object attr(ObjectName name, String attribute) throws Exception {
        return server.getAttribute(name, attribute);
    }

    @Test
    void mbean_isRegisteredWhileTheRelayRuns_underItsDocumentedName() throws Exception {
        ObjectName name = new ObjectName("dev.relay:type=Relay,name=jmx-lifecycle");
        Relay r = start("jmx-lifecycle");
        assertTrue(server.isRegistered(name));
        assertEquals("jmx-lifecycle", attr(name, "Name"));
        assertEquals("UP", attr(name, "HealthStatus"));
        assertArrayEquals(new String[0], (String[]) attr(name, "HealthIssues"));
        assertArrayEquals(new String[] {"realtime", "backfill"}, (String[]) attr(name, "LaneNames"));
        assertEquals(1, attr(name, "Permits"));

        assertTrue(r.shutdown(Duration.ofSeconds(5)));
        assertFalse(server.isRegistered(name), "unregistered when the relay has shut down");
    }

    @Test
    void operations_pauseResumeDrainReweight_changeTheLanes_andTheAttributesShowIt() throws Exception {
        ObjectName name = new ObjectName("dev.relay:type=Relay,name=jmx-ops");
        Relay r = start("jmx-ops");

        assertEquals("lane 'realtime' paused", server.invoke(name, "pause", new Object[] {"realtime"}, STRING));
        assertEquals(LaneState.PAUSED, r.snapshot().lane("realtime").orElseThrow().state());
        CompositeData row = ((TabularData) attr(name, "Lanes")).get(new Object[] {"realtime"});
        assertEquals("PAUSED", row.get("state"));

        assertEquals("lane 'realtime' resumed", server.invoke(name, "resume", new Object[] {"realtime"}, STRING));
        assertEquals(LaneState.RUNNING, r.snapshot().lane("realtime").orElseThrow().state());

        assertEquals("lane 'backfill' has weight 5", server.invoke(name, "reweight", new Object[] {"backfill", 5},
                new String[] {String.class.getName(), int.class.getName()}));
        assertEquals(5, r.snapshot().lane("backfill").orElseThrow().weight());
        assertEquals(5, ((TabularData) attr(name, "Lanes")).get(new Object[] {"backfill"}).get("weight"));

        String drained = (String) server.invoke(name, "drain", new Object[] {"backfill"}, STRING);
        assertTrue(drained.equals("lane 'backfill' drained") || drained.startsWith("lane 'backfill' draining"), drained);
        RelayTest.await(() -> r.snapshot().lane("backfill").orElseThrow().state() == LaneState.DRAINED, "drained");

        queue.offer(RelayTest.task("realtime", 1));
        RelayTest.await(() -> r.snapshot().completed() == 1, "the realtime task");
        String text = (String) attr(name, "Snapshot");
        assertTrue(text.contains("relay jmx-ops") && text.contains("backfill") && text.contains("DRAINED")
                && text.contains("health UP"), text);
        assertEquals(1L, ((TabularData) attr(name, "Lanes")).get(new Object[] {"realtime"}).get("completed"));
    }

    @Test
    void operations_onAnUnknownLaneOrABadWeight_failNamingIt() throws Exception {
        ObjectName name = new ObjectName("dev.relay:type=Relay,name=jmx-bad");
        start("jmx-bad");
        RuntimeMBeanException unknown = assertThrows(RuntimeMBeanException.class,
                () -> server.invoke(name, "pause", new Object[] {"nope"}, STRING));
        assertTrue(unknown.getCause() instanceof IllegalArgumentException, String.valueOf(unknown.getCause()));
        assertTrue(unknown.getCause().getMessage().contains("'nope'"), unknown.getCause().getMessage());
        RuntimeMBeanException weight = assertThrows(RuntimeMBeanException.class, () -> server.invoke(name, "reweight",
                new Object[] {"backfill", 0}, new String[] {String.class.getName(), int.class.getName()}));
        assertTrue(weight.getCause().getMessage().contains("0"), weight.getCause().getMessage());
    }

    @Test
    void start_withTheNameOfARunningRelay_failsNamingTheObjectName() throws Exception {
        Relay first = start("jmx-twice");
        Relay second = Relay.builder().name("jmx-twice").jmx().queue(queue).puller(RelayTest.puller(1))
                .sink(new RelayTest.MemorySink()).lane(LaneSpec.of("other")).build();
        relays.add(second);
        IllegalStateException e = assertThrows(IllegalStateException.class, second::start);
        assertTrue(e.getMessage().contains("dev.relay:type=Relay,name=jmx-twice") && e.getMessage().contains("name"),
                e.getMessage());
        assertTrue(second.terminated().isDone(), "the second relay is shut down");
        assertEquals(HealthStatus.DOWN, second.health().status());
        queue.offer(RelayTest.task("realtime", 7)); // the first relay still gets the queue's signals and runs
        RelayTest.await(() -> first.snapshot().completed() == 1, "the first relay's task");
    }
}
