package dev.relay.core;

import dev.relay.api.HealthIssue;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.NotCompliantMBeanException;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import javax.management.openmbean.CompositeDataSupport;
import javax.management.openmbean.CompositeType;
import javax.management.openmbean.OpenDataException;
import javax.management.openmbean.OpenType;
import javax.management.openmbean.SimpleType;
import javax.management.openmbean.TabularData;
import javax.management.openmbean.TabularDataSupport;
import javax.management.openmbean.TabularType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link RelayAdminMBean} of one relay: reads its snapshot and health, and runs its lane operations, waiting for
 * each to be applied. Also registers and unregisters itself ({@link #register}, {@link #unregister}).
 *
 * <p>Threadsafe: it holds only the relay (threadsafe) and immutable registration details.
 */
final class RelayAdmin implements RelayAdminMBean {

    private static final Logger LOG = LoggerFactory.getLogger(RelayAdmin.class);

    private static final String[] LANE_ITEMS = {"name", "state", "weight", "backlog", "buffered", "inFlight",
        "oldestWaitingSeconds", "started", "completed", "retried", "deadLettered", "rows", "waitP99Seconds",
        "dedicatedPermits"};
    private static final OpenType<?>[] LANE_TYPES = {SimpleType.STRING, SimpleType.STRING, SimpleType.INTEGER,
        SimpleType.LONG, SimpleType.INTEGER, SimpleType.INTEGER, SimpleType.DOUBLE, SimpleType.LONG, SimpleType.LONG,
        SimpleType.LONG, SimpleType.LONG, SimpleType.LONG, SimpleType.DOUBLE, SimpleType.INTEGER};
    private static final CompositeType LANE;
    private static final TabularType LANES;

    static {
        try {
            LANE = new CompositeType("dev.relay.Lane", "a lane's figures", LANE_ITEMS, LANE_ITEMS, LANE_TYPES);
            LANES = new TabularType("dev.relay.Lanes", "the relay's lanes", LANE, new String[] {"name"});
        } catch (OpenDataException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Relay relay;

    private RelayAdmin(Relay relay) {
        this.relay = relay;
    }

    /**
     * @param relayName a relay's name
     * @return its ObjectName, {@code dev.relay:type=Relay,name=<relayName>}
     */
    static ObjectName objectName(String relayName) {
        try {
            return new ObjectName(DOMAIN + ":type=Relay,name=" + relayName);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("relay name '" + relayName + "' does not fit in an ObjectName", e);
        }
    }

    /**
     * Registers a relay's MBean.
     *
     * @param relay the relay
     * @param server the MBean server, or null for the platform's
     * @return its name
     * @throws IllegalStateException if an MBean of that name is registered already (another relay of the same name)
     */
    static ObjectName register(Relay relay, MBeanServer server) {
        ObjectName name = objectName(relay.name());
        try {
            server(server).registerMBean(new StandardMBean(new RelayAdmin(relay), RelayAdminMBean.class), name);
        } catch (InstanceAlreadyExistsException e) {
            throw new IllegalStateException("an MBean named " + name + " is registered already: give each relay of this "
                    + "process its own name (Relay.Builder.name)", e);
        } catch (NotCompliantMBeanException | javax.management.MBeanRegistrationException e) {
            throw new IllegalStateException("could not register the MBean " + name, e);
        }
        return name;
    }

    /** Unregisters a relay's MBean, if it is still registered. */
    static void unregister(ObjectName name, MBeanServer server) {
        try {
            server(server).unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // someone else unregistered it: nothing left to do
        } catch (JMException e) {
            LOG.warn("could not unregister the MBean {}", name, e);
        }
    }

    private static MBeanServer server(MBeanServer server) {
        return server != null ? server : ManagementFactory.getPlatformMBeanServer();
    }

    // ------------------------------------------------------------------ attributes

    @Override
    public String getName() {
        return relay.name();
    }

    @Override
    public String getHealthStatus() {
        return relay.health().status().name();
    }

    @Override
    public String[] getHealthIssues() {
        return relay.health().issues().stream().map(HealthIssue::toString).toArray(String[]::new);
    }

    @Override
    public int getPermits() {
        return relay.snapshot().permits();
    }

    @Override
    public int getPermitLimit() {
        return relay.snapshot().permitLimit();
    }

    @Override
    public int getPermitsInUse() {
        return relay.snapshot().permitsInUse();
    }

    @Override
    public String[] getLaneNames() {
        return relay.snapshot().lanes().stream().map(LaneSnapshot::name).toArray(String[]::new);
    }

    @Override
    public TabularData getLanes() {
        TabularDataSupport table = new TabularDataSupport(LANES);
        for (LaneSnapshot l : relay.snapshot().lanes()) {
            try {
                table.put(new CompositeDataSupport(LANE, LANE_ITEMS, new Object[] {l.name(), l.state().name(), l.weight(),
                    l.backlog(), l.buffered(), l.inFlight(), l.oldestWaiting().toNanos() / 1e9, l.started(), l.completed(),
                    l.retried(), l.deadLettered(), l.rows(), l.waitP99().toNanos() / 1e9, l.dedicatedPermits()}));
            } catch (OpenDataException e) {
                throw new IllegalStateException("lane " + l.name() + " does not fit " + LANE, e);
            }
        }
        return table;
    }

    @Override
    public String getSnapshot() {
        RelaySnapshot s = relay.snapshot();
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "relay %s at %s: permits %d in use of %d (limit %d)%n", relay.name(), s.at(),
                s.permitsInUse(), s.permits(), s.permitLimit()));
        b.append(String.format(Locale.ROOT, "%-20s %-10s %6s %9s %8s %8s %10s %10s %8s %8s%n", "lane", "state", "weight",
                "backlog", "buffered", "inFlight", "oldest(s)", "completed", "retried", "dead"));
        for (LaneSnapshot l : s.lanes()) {
            b.append(String.format(Locale.ROOT, "%-20s %-10s %6d %9d %8d %8d %10.1f %10d %8d %8d%n", l.name(), l.state(),
                    l.weight(), l.backlog(), l.buffered(), l.inFlight(), l.oldestWaiting().toMillis() / 1000.0,
                    l.completed(), l.retried(), l.deadLettered()));
        }
        b.append("health ").append(s.health());
        return b.toString();
    }

    // ------------------------------------------------------------------ operations

    @Override
    public String pause(String lane) {
        await(relay.pause(lane), "pausing lane '" + lane + "'");
        return "lane '" + lane + "' paused";
    }

    @Override
    public String resume(String lane) {
        await(relay.resume(lane), "resuming lane '" + lane + "'");
        return "lane '" + lane + "' resumed";
    }

    @Override
    public String drain(String lane) {
        CompletableFuture<Void> drained = relay.drain(lane);
        try {
            drained.get(1, TimeUnit.SECONDS);
            return "lane '" + lane + "' drained";
        } catch (TimeoutException e) {
            return "lane '" + lane + "' draining: its state becomes DRAINED once it holds nothing";
        } catch (ExecutionException e) {
            throw failure(e, "draining lane '" + lane + "'");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while draining lane '" + lane + "'", e);
        }
    }

    @Override
    public String reweight(String lane, int weight) {
        await(relay.reweight(lane, weight), "re-weighting lane '" + lane + "'");
        return "lane '" + lane + "' has weight " + weight;
    }

    private static void await(CompletableFuture<?> change, String what) {
        try {
            change.get(APPLY_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw failure(e, what);
        } catch (TimeoutException e) {
            throw new IllegalStateException(what + " was not applied within " + APPLY_TIMEOUT_SECONDS + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + what, e);
        }
    }

    /** A failure as a JDK exception with the cause's message, so that a JMX client without relay's classes reads it. */
    private static RuntimeException failure(ExecutionException e, String what) {
        Throwable c = e.getCause();
        String message = what + " failed: " + c.getMessage();
        return c instanceof IllegalArgumentException ? new IllegalArgumentException(message) : new IllegalStateException(message);
    }

    @Override
    public String toString() {
        return "RelayAdmin[" + relay.name() + "]";
    }
}
