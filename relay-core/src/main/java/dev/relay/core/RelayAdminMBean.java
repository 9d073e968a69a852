package dev.relay.core;

import javax.management.openmbean.TabularData;

/**
 * A running relay as a standard JMX MBean, for operators with any JMX client (jconsole, VisualVM, jmxterm, a JMX
 * exporter) and no framework: its figures, its health, and the lane operations of {@link Relay}. A relay built with
 * {@link Relay.Builder#jmx()} registers it when it {@linkplain Relay#start() starts} under the ObjectName
 * <pre>  dev.relay:type=Relay,name=&lt;the relay's name&gt;</pre>
 * ({@link Relay.Builder#name}) and unregisters it when it has shut down. Every value is an open type (strings,
 * numbers, {@link TabularData}), so a client needs no relay classes.
 *
 * <p>The operations apply a change in a control turn and wait for it up to {@link #APPLY_TIMEOUT_SECONDS} seconds;
 * a bad argument (an unknown lane, a weight out of range) fails with an {@link IllegalArgumentException} naming it.
 * Implementations are threadsafe: JMX calls them from its own threads.
 */
public interface RelayAdminMBean {

    /** The domain of relay's ObjectNames. */
    String DOMAIN = "dev.relay";

    /** How long an operation waits for its change to be applied, in seconds. */
    int APPLY_TIMEOUT_SECONDS = 10;

    /** @return the relay's name */
    String getName();

    /** @return the relay's health status: {@code UP}, {@code DEGRADED} or {@code DOWN} ({@link Relay#health()}) */
    String getHealthStatus();

    /** @return one line per health issue: severity, component, kind, since, message; empty when up */
    String[] getHealthIssues();

    /** @return the source permits {@code P} */
    int getPermits();

    /** @return the permits the relay may use now */
    int getPermitLimit();

    /** @return the permits in use now */
    int getPermitsInUse();

    /** @return the lanes' names, in the order they were added */
    String[] getLaneNames();

    /**
     * @return one row per lane, indexed by {@code name}: {@code state}, {@code weight}, {@code backlog},
     *     {@code buffered}, {@code inFlight}, {@code oldestWaitingSeconds}, {@code started}, {@code completed},
     *     {@code retried}, {@code deadLettered}, {@code rows}, {@code waitP99Seconds}, {@code dedicatedPermits}
     */
    TabularData getLanes();

    /** @return the whole snapshot as text: the permits, then one line per lane, then the health */
    String getSnapshot();

    /**
     * Pauses a lane ({@link Relay#pause}).
     *
     * @param lane the lane
     * @return what was done
     */
    String pause(String lane);

    /**
     * Resumes a paused, drained or suspended lane ({@link Relay#resume}).
     *
     * @param lane the lane
     * @return what was done
     */
    String resume(String lane);

    /**
     * Starts draining a lane ({@link Relay#drain}): it takes no new tasks and finishes what it holds. Returns once
     * the drain began (or ended, if that is quick); the lane's state shows {@code DRAINING}, then {@code DRAINED}.
     *
     * @param lane the lane
     * @return what was done
     */
    String drain(String lane);

    /**
     * Changes a lane's weight ({@link Relay#reweight}).
     *
     * @param lane the lane
     * @param weight the new weight
     * @return what was done
     */
    String reweight(String lane, int weight);
}
