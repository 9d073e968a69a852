package dev.relay.kafka;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that owns the {@link org.apache.kafka.clients.consumer.KafkaConsumer} of a
 * {@link KafkaTaskQueue}, and the turn it runs. The state is split by owner:
 * <ul>
 *   <li>{@link Partitions}/{@link PartitionState} — each assigned partition's offsets ({@link OffsetTracker}),
 *       held records and deliveries waiting to be armed;
 *   <li>{@link Intake} — fetched records to deliveries, the delay queues and the prefetch bound (pauses);
 *   <li>{@link OutcomeProducer} — retry and dead-letter records in flight;
 *   <li>{@link OffsetCommitter} — every commit (arming included);
 *   <li>{@link Probation} — suspects of a crash, run one at a time;
 *   <li>{@link LagMeter} — the lanes' lag;
 *   <li>{@link LeaseRegistry} — the one record of open leases (shared with the engine's thread);
 *   <li>{@link LaneBuffer} — per lane, the ready deliveries (shared with the engine's thread);
 *   <li>{@link Mailbox} — what other threads post: endings, send results, commands.
 * </ul>
 *
 * <h2>A turn</h2>
 * <ol>
 *   <li>the mailbox is drained: commands, lease endings, send results — the one point where endings are
 *       applied (a completion marks its offset done; a retry or dead letter is produced, its offset done when
 *       acknowledged; a release puts the delivery back at the head of its lane);
 *   <li>failed outcomes due are re-sent, due retries and held records are taken in as their lanes have room,
 *       probation takes its step, flushes whose outcomes are acknowledged commit;
 *   <li>deliveries waiting to be armed are committed (asynchronously), and published to the lane buffers once
 *       that commit is acknowledged;
 *   <li>full lanes' partitions are paused, drained ones resumed;
 *   <li>the consumer polls, for up to the poll interval or until the next thing is due — or not at all if
 *       someone woke the loop (a command, a release, room in a drained lane); the records are taken in and
 *       armed at once.
 * </ol>
 * One time source: the injected clock.
 *
 * <h2>Rebalance</h2>
 * In the consumer's callback, on this thread. Revoked partitions stop handing out at once (their ready, held,
 * delayed and arming deliveries are dropped); the callback then waits — parked on the mailbox, not spinning —
 * until no lease of those partitions is open and no outcome of theirs is in flight, or the revocation timeout
 * passed, applying endings as they arrive; commits them cleanly (nothing armed: a graceful hand-over counts no
 * crash) and takes the leases still open away (ending one throws LeaseLostException). An assigned partition gets
 * a new epoch and a tracker restored from its committed metadata, which counts a crash for what the previous
 * owner left armed ({@link OffsetTracker}); those records come back as suspects ({@link Probation}).
 *
 * <p>Not threadsafe, except {@link #subscribe}, {@link #flush} and {@link #stop}.
 */
final class ConsumerLoop implements Runnable, ConsumerRebalanceListener {

    private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoop.class);

    /**
     * Least wait after an error in the loop before the next turn; the consumer itself polls again only after
     * {@link ClientHealth}'s capped backoff.
     */
    private static final long ERROR_BACKOFF_MILLIS = 500;
    /** How often reading committed offsets at assignment is tried before the crash counts are given up. */
    private static final int COMMITTED_READ_TRIES = 3;

    /** How the loop ends. */
    enum Stop { CLOSE, CRASH_LEAVE_GROUP, CRASH_STAY_IN_GROUP }

    private record Subscribe(Set<String> lanes) {
    }

    private record Flush(CompletableFuture<Boolean> done, long deadline) {
    }

    private final QueueConfig config;
    private final Clock clock;
    private final KafkaTopics topics;
    private final Consumer<byte[], byte[]> consumer;
    private final Map<String, LaneBuffer> lanes;
    private final Supplier<Runnable> listener;
    private final Mailbox mailbox;
    private final LeaseRegistry registry;
    private final Partitions partitions = new Partitions();
    private final OutcomeProducer outcomes;
    private final Probation probation;
    private final Intake intake;
    private final OffsetCommitter committer;
    private final LagMeter lags;
    private final LaneCensus census;
    private final ClientHealth health;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread thread;
    private volatile Stop stop;

    // ---- owned by the loop thread ----
    private Set<String> subscribed = Set.of();
    private final List<Flush> flushes = new ArrayList<>();
    /** Commands posted while a rebalance callback runs: handled at the next turn. */
    private final List<Object> deferred = new ArrayList<>();
    private boolean inCallback;
    private boolean finishing;
    /** When the consumer last failed (epoch millis), or -1: it counts as working again after an assignment or records. */
    private long consumerFailedAt = -1;

    ConsumerLoop(QueueConfig config, Consumer<byte[], byte[]> consumer, LazyProducer producers, ClientHealth health,
            Map<String, LaneBuffer> lanes, LeaseRegistry registry, Mailbox mailbox, Supplier<Runnable> listener) {
        this.config = config;
        this.clock = config.clock();
        this.topics = config.topics();
        this.consumer = consumer;
        this.lanes = lanes;
        this.listener = listener;
        this.mailbox = mailbox;
        this.registry = registry;
        this.health = health;
        this.outcomes = new OutcomeProducer(producers, topics, partitions, mailbox, clock);
        this.probation = new Probation(config, lanes, registry, partitions);
        this.intake = new Intake(config, consumer, partitions, lanes, outcomes, probation);
        this.lags = new LagMeter(consumer, partitions, clock, config.lagRefreshInterval());
        this.census = new LaneCensus(consumer, topics, clock, config.lagRefreshInterval());
        this.committer = new OffsetCommitter(config, consumer, partitions, registry, intake, probation::gated, this::publish);
        this.thread = config.threadFactory().newThread(this);
        if (thread == null) {
            throw new IllegalStateException("the thread factory returned no thread");
        }
    }

    void start() {
        thread.start();
    }

    /** Posts a new subscription (any thread). */
    void subscribe(Set<String> laneNames) {
        mailbox.post(new Subscribe(Set.copyOf(laneNames)), true);
    }

    /** Asks for a synchronous commit of what completed, outcomes acknowledged included (any thread). */
    CompletableFuture<Boolean> flush(Duration timeout) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        mailbox.post(new Flush(f, clock.millis() + timeout.toMillis()), true);
        if (finished.getCount() == 0) {
            f.complete(false);
        }
        return f;
    }

    /**
     * Ends the loop (any thread) and waits for it up to the timeout.
     *
     * @return whether it ended in time
     */
    boolean stop(Stop how, Duration timeout) throws InterruptedException {
        if (stop == null) {
            stop = how;
        }
        mailbox.wake();
        if (Thread.currentThread() == thread) {
            return false;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return false;
        }
        thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        return !thread.isAlive();
    }

    // ------------------------------------------------------------------ the loop

    @Override
    public void run() {
        try {
            while (stop == null) {
                try {
                    turn();
                } catch (InterruptException e) {
                    LOG.warn("consumer thread interrupted; closing the queue's consumer", e);
                    if (stop == null) {
                        stop = Stop.CLOSE;
                    }
                } catch (WakeupException e) {
                    // a wake-up that missed poll: the next turn does what it was for
                } catch (RuntimeException e) {
                    // classified, logged at most once per interval per kind, and backed off (capped) by the health:
                    // turns go on (lease endings, commits), the consumer polls again after the backoff
                    consumerFailedAt = clock.millis();
                    health.failed(ClientHealth.Client.CONSUMER, e);
                    mailbox.await(TimeUnit.MILLISECONDS.toNanos(ERROR_BACKOFF_MILLIS));
                }
            }
            finish(stop);
        } catch (RuntimeException | Error e) {
            LOG.error("consumer loop of group {} failed while stopping", config.groupId(), e);
        } finally {
            finished.countDown();
            for (Flush f : flushes) {
                f.done().complete(false);
            }
            mailbox.drain(e -> {
                if (e instanceof Flush f) {
                    f.done().complete(false);
                }
            });
        }
    }

    private void turn() {
        processMailbox();
        outcomes.resendDue();
        intake.moveDueRetries();
        intake.drainHeld();
        probation.step(committer);
        handleFlushes();
        committer.maybeCommit();
        publish();
        intake.applyPauses();
        mailbox.eager(!flushes.isEmpty() || probation.active());
        long timeout = pollTimeout();
        long backoff = consumerFailedAt < 0 ? 0 : health.retryAt(ClientHealth.Client.CONSUMER) - clock.millis();
        if (subscribed.isEmpty() || backoff > 0) {
            // nothing to poll, or the consumer backs off after a failure: no request reaches the cluster meanwhile
            mailbox.await(TimeUnit.MILLISECONDS.toNanos(backoff > 0 ? Math.min(timeout, backoff) : timeout));
            return;
        }
        ConsumerRecords<byte[], byte[]> records;
        boolean woken = mailbox.beginPoll();
        try {
            records = consumer.poll(Duration.ofMillis(woken ? 0 : timeout));
        } catch (WakeupException e) {
            records = ConsumerRecords.empty();
        } finally {
            mailbox.endPoll();
        }
        if (consumerFailedAt >= 0 && (!records.isEmpty() || clock.millis() - consumerFailedAt > 2 * config.failureBackoffMax().toMillis())) {
            consumerWorks(); // else an assignment says so
        }
        intake.take(records);
        committer.maybeCommit(); // arm what was just fetched at once
        lags.update();
        census.refresh(subscribed);
        publish();
    }

    /** @return unserved lane → records waiting for the group, or null before the first census (any thread) */
    Map<String, Long> unservedLanes() {
        return census.unserved();
    }

    private long pollTimeout() {
        long now = clock.millis();
        long next = Math.min(Math.min(intake.nextDue(), outcomes.nextResend()),
                Math.min(committer.nextDue(), probation.nextDue()));
        for (Flush f : flushes) {
            next = Math.min(next, f.deadline());
        }
        long interval = config.pollInterval().toMillis();
        return Math.max(0, Math.min(interval, next - now));
    }

    /** Step 1 of the turn, and of every wait for endings: applies what other threads posted. */
    private void processMailbox() {
        if (!inCallback && !deferred.isEmpty()) {
            List<Object> commands = new ArrayList<>(deferred);
            deferred.clear();
            commands.forEach(this::apply);
        }
        mailbox.drain(this::apply);
    }

    private void apply(Object event) {
        if (event instanceof KafkaLease.Ending e) {
            ending(e);
        } else if (event instanceof OutcomeProducer.Sent s) {
            outcomes.sent(s);
        } else if (inCallback || finishing) {
            if (event instanceof Flush f && finishing) {
                f.done().complete(false);
            } else if (!finishing) {
                deferred.add(event);
            }
        } else if (event instanceof Subscribe s) {
            subscribed = s.lanes();
            if (subscribed.isEmpty()) {
                consumer.unsubscribe();
            } else {
                List<String> wanted = new ArrayList<>();
                for (String lane : subscribed) {
                    wanted.add(topics.laneTopic(lane));
                    wanted.add(topics.retryTopic(lane));
                }
                consumer.subscribe(wanted, this);
            }
        } else if (event instanceof Flush f) {
            flushes.add(f);
        }
    }

    private void ending(KafkaLease.Ending e) {
        KafkaLease lease = e.lease();
        Delivery d = lease.delivery();
        registry.closed(lease);
        PartitionState ps = partitions.current(d.tp(), d.epoch());
        if (ps == null) {
            return; // the partition was revoked since; the record will be delivered again
        }
        switch (e.kind()) {
            case COMPLETED -> ps.tracker.complete(d.offset());
            case RELEASED -> {
                if (!isOnProbation(d)) {
                    intake.released(d);
                }
            }
            case RETRIED -> outcomes.retry(d, e.notBefore(), e.reason());
            case DEAD_LETTERED -> outcomes.deadLetter(d, e.reason());
            default -> throw new AssertionError(e.kind());
        }
        probation.ended(d, e.kind() == KafkaLease.State.RELEASED);
    }

    private boolean isOnProbation(Delivery d) {
        PartitionState ps = partitions.current(d.tp(), d.epoch());
        return ps != null && ps.tracker.probation() == d.offset();
    }

    private void handleFlushes() {
        if (flushes.isEmpty()) {
            return;
        }
        long now = clock.millis();
        if (outcomes.pendingCount() > 0 && flushes.stream().allMatch(f -> now < f.deadline())) {
            return; // wait for the outcomes' acknowledgements (the mailbox wakes the loop)
        }
        long latest = flushes.stream().mapToLong(Flush::deadline).max().orElse(now);
        boolean ok = committer.commitSync(partitions.keys(), probation.gated() ? OffsetCommitter.Mode.GATED
                : OffsetCommitter.Mode.NORMAL, Duration.ofMillis(Math.max(1000, latest - now)));
        for (Flush f : flushes) {
            f.done().complete(ok);
        }
        flushes.clear();
    }

    /** Publishes ready deliveries and counts to the lane buffers; tells the engine if deliveries became ready. */
    private void publish() {
        if (intake.publish(lags)) {
            Runnable r = listener.get();
            if (r != null) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.warn("availability listener failed", e);
                }
            }
        }
    }

    // ------------------------------------------------------------------ rebalance

    private void consumerWorks() {
        consumerFailedAt = -1;
        health.succeeded(ClientHealth.Client.CONSUMER);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> parts) {
        if (consumerFailedAt >= 0) {
            consumerWorks(); // it joined the group: authenticated and authorized
        }
        lags.assigned();
        List<TopicPartition> ours = new ArrayList<>();
        for (TopicPartition tp : parts) {
            String lane = topics.laneOf(tp.topic()).orElse(null);
            if (lane != null && lanes.containsKey(lane)) {
                ours.add(tp);
            }
        }
        if (ours.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> committed = committed(new HashSet<>(ours));
        for (TopicPartition tp : ours) {
            OffsetAndMetadata om = committed.get(tp);
            OffsetTracker tracker = om == null ? OffsetTracker.fresh() : OffsetTracker.restore(om.offset(), om.metadata());
            PartitionState ps = new PartitionState(tp, topics.laneOf(tp.topic()).orElseThrow(), topics.isRetryTopic(tp.topic()),
                    partitions.nextEpoch(), tracker);
            if (om != null) {
                ps.lastCommitted = om.offset();
                ps.lastMetadata = om.metadata() == null ? "" : om.metadata();
            }
            if (tracker.crashesCounted() > 0) {
                LOG.warn("{}: its last owner stopped without a clean hand-over; a crash is counted for the {} record(s) it"
                        + " may have been running, which run again one at a time (probation)", tp, tracker.crashesCounted());
            }
            partitions.put(ps);
        }
        intake.applyPauses(); // re-apply the pause state of full lanes before the first fetch
    }

    private Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> parts) {
        KafkaException last = null;
        for (int i = 0; i < COMMITTED_READ_TRIES; i++) {
            try {
                Map<TopicPartition, OffsetAndMetadata> m = consumer.committed(parts, Duration.ofSeconds(10));
                return m == null ? Map.of() : m;
            } catch (WakeupException e) {
                i--; // woken for something else: not a failure
            } catch (KafkaException e) {
                last = e;
            }
        }
        LOG.warn("could not read the committed offsets of {}; records completed out of order before the last commit may"
                + " be delivered again, and crashes before it are not counted", parts, last);
        return Map.of();
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> parts) {
        if (!finishing && !parts.isEmpty()) {
            revoke(parts, true);
        }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> parts) {
        if (!finishing && !parts.isEmpty()) {
            revoke(parts, false);
        }
    }

    private void revoke(Collection<TopicPartition> parts, boolean graceful) {
        Set<TopicPartition> revoked = new HashSet<>(parts);
        lanes.values().forEach(lb -> lb.drop(revoked));
        intake.drop(revoked);
        probation.drop(revoked);
        for (TopicPartition tp : revoked) {
            PartitionState ps = partitions.get(tp);
            if (ps != null) {
                ps.held.clear();
                ps.arming.clear();
                ps.armingRaw.clear();
            }
        }
        if (graceful) {
            inCallback = true;
            try {
                awaitEndings(revoked, config.revocationTimeout());
            } finally {
                inCallback = false;
            }
            committer.commitSync(revoked, OffsetCommitter.Mode.CLEAN, config.revocationTimeout());
        }
        registry.lose(revoked);
        for (TopicPartition tp : revoked) {
            partitions.remove(tp);
        }
        lags.revoked(revoked);
        outcomes.forget(revoked);
    }

    /**
     * Waits, parked on the mailbox, until no lease of the partitions is open and no outcome of theirs is in
     * flight, or the timeout passed; applies endings as they arrive.
     *
     * @param parts the partitions, or null for all
     * @return whether everything ended in time
     */
    private boolean awaitEndings(Collection<TopicPartition> parts, Duration timeout) {
        mailbox.eager(true);
        long deadline = clock.millis() + timeout.toMillis();
        while (true) {
            processMailbox();
            boolean open = parts == null ? registry.openCount() > 0 : registry.hasOpen(parts);
            boolean sending = parts == null ? outcomes.pendingCount() > 0 : outcomes.hasPending(parts);
            if (!open && !sending) {
                return true;
            }
            long left = deadline - clock.millis();
            if (left <= 0) {
                LOG.warn("{} passed with {} of {} still {}; {}", timeout, open ? "leases" : "outcomes",
                        parts == null ? "the queue" : parts, open ? "open" : "in flight",
                        open ? "they are lost and their tasks will be delivered again" : "their records will be delivered again");
                return false;
            }
            mailbox.await(TimeUnit.MILLISECONDS.toNanos(left));
        }
    }

    // ------------------------------------------------------------------ stopping

    private void finish(Stop how) {
        finishing = true;
        lanes.values().forEach(LaneBuffer::close);
        int lost = registry.lose(d -> true);
        if (lost > 0) {
            LOG.info("{} open lease(s) lost at {}; their tasks will be delivered again", lost, how);
        }
        if (how == Stop.CLOSE) {
            // endings already made (and that won the race against close) are applied; outcomes awaited
            awaitEndings(null, config.revocationTimeout());
            committer.commitSync(partitions.keys(), OffsetCommitter.Mode.CLEAN, config.revocationTimeout());
            close(CloseOptions.timeout(config.revocationTimeout()));
        } else {
            // a crash: nothing more is committed or produced
            close(CloseOptions.groupMembershipOperation(how == Stop.CRASH_LEAVE_GROUP
                    ? CloseOptions.GroupMembershipOperation.LEAVE_GROUP
                    : CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP).withTimeout(Duration.ofSeconds(5)));
        }
    }

    private void close(CloseOptions options) {
        try {
            consumer.close(options);
        } catch (WakeupException e) {
            consumer.close(options);
        }
    }
}
