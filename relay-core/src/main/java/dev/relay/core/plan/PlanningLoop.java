package dev.relay.core.plan;

import static com.google.common.base.Preconditions.checkArgument;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Runnable} that runs planning steps in turn — typically {@code ticker::tick},
 * {@code snapshots::tick} and {@code backfill::planMore} — isolating their failures: a step that throws is
 * logged and counted, and the steps after it still run. It never throws, so a
 * {@link java.util.concurrent.ScheduledExecutorService} that runs it periodically is never silently cancelled
 * by one failure (which is what happens to a periodic task that throws).
 *
 * <pre>{@code
 * Runnable planning = PlanningLoop.builder()
 *         .step("realtime", ticker::tick)
 *         .step("config", snapshots::tick)
 *         .step("backfill", backfill::planMore)
 *         .build();
 * timer.scheduleWithFixedDelay(planning, 0, 1, TimeUnit.MINUTES);
 * }</pre>
 *
 * <p>This class is threadsafe, but it is meant to be run by one thread at a time (the steps serialize
 * themselves anyway).
 */
public final class PlanningLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(PlanningLoop.class);

    private final List<String> names;
    private final List<Runnable> steps;
    private final Map<String, AtomicLong> failures = new LinkedHashMap<>();

    private PlanningLoop(Builder b) {
        this.names = List.copyOf(b.names);
        this.steps = List.copyOf(b.steps);
        for (String n : names) {
            failures.put(n, new AtomicLong());
        }
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /** Runs every step once, in order; logs and counts a step's failure and goes on. */
    @Override
    public void run() {
        for (int i = 0; i < steps.size(); i++) {
            try {
                steps.get(i).run();
            } catch (RuntimeException | Error e) {
                if (e instanceof VirtualMachineError) {
                    throw e;
                }
                long n = failures.get(names.get(i)).incrementAndGet();
                LOG.warn("planning step '{}' failed (failure {}); the next run tries again", names.get(i), n, e);
            }
        }
    }

    /**
     * @param step a step name
     * @return how often the step has failed
     * @throws IllegalArgumentException if there is no such step
     */
    public long failures(String step) {
        AtomicLong n = failures.get(step);
        if (n == null) {
            throw new IllegalArgumentException("no planning step '" + step + "'; the steps are " + names);
        }
        return n.get();
    }

    @Override
    public String toString() {
        return "PlanningLoop" + names;
    }

    /** Builds a {@link PlanningLoop}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private final List<String> names = new ArrayList<>();
        private final List<Runnable> steps = new ArrayList<>();

        private Builder() {
        }

        /**
         * @param name a name for logs, unique in the loop
         * @param step what to run, e.g. {@code ticker::tick}
         * @return this builder
         */
        public Builder step(String name, Runnable step) {
            Objects.requireNonNull(name, "step name");
            Objects.requireNonNull(step, () -> "step '" + name + "'");
            checkArgument(!names.contains(name), "planning step '%s' was already added", name);
            names.add(name);
            steps.add(step);
            return this;
        }

        /**
         * @return the loop
         * @throws IllegalStateException if no step was added
         */
        public PlanningLoop build() {
            if (steps.isEmpty()) {
                throw new IllegalStateException("a planning loop needs at least one step: call step(name, runnable)");
            }
            return new PlanningLoop(this);
        }
    }
}
