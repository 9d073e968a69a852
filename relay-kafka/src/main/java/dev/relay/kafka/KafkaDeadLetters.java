package dev.relay.kafka;

import dev.relay.api.DeadLetter;
import dev.relay.api.DeadLetters;
import dev.relay.api.InvalidTaskException;
import dev.relay.api.QueueException;
import dev.relay.api.Task;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link DeadLetters} of a Kafka layout: the records of each lane's dead-letter topic ({@link KafkaTopics},
 * {@code <prefix><lane>.dlt}), as both Kafka backends write them ({@link TaskRecordCodec}'s dead-letter headers).
 * Obtained from a running queue ({@link KafkaTaskQueue#deadLetters()}, {@link KafkaShareTaskQueue#deadLetters()}) or
 * built on its own with {@link #builder()} — an operator's tool (the {@code relay deadletters} command) needs no
 * consumer group and disturbs none.
 *
 * <h2>How the contract maps onto an append-only topic</h2>
 * <ul>
 *   <li><b>Entry id</b>: {@code partition@offset} of the record in the lane's dead-letter topic, e.g. {@code 0@17}.
 *   <li>{@link #list}: reads the topic from its start to its end as of the call ({@code read_committed}) with an
 *       unassigned consumer (no group, no commits), oldest first by the dead-letter time. A record that does not
 *       decode as a task (it was dead-lettered because it was malformed) is listed with no task.
 *   <li><b>Markers</b>: a record cannot be deleted from the middle of a partition, so {@link #replay} and
 *       {@link #purge} append a <em>marker</em> record to the entry's partition — no value, the headers
 *       {@value #HEADER_MARKER} ({@code replayed} or {@code purged}), {@value #HEADER_MARKER_ENTRY} (the entry's
 *       offset) and {@value TaskRecordCodec#HEADER_DLT_TIME} — and an entry with a marker is no longer listed,
 *       replayed or purged.
 *   <li><b>Deleting records</b>: after writing markers, the topic is read again and each partition's records
 *       before its oldest entry that is still a dead letter are deleted ({@code Admin.deleteRecords}, as the
 *       {@code kafka-delete-records} tool does): an entry, and the markers, go for good once every entry before it
 *       was replayed or purged too; until then a purged entry stays on disk (until the topic's retention) but is
 *       never shown again. {@link #purgeAll} deletes every partition's records up to its end as of the call, no
 *       markers needed. Deleting never reaches past the end read at the start of the operation, so dead letters
 *       written meanwhile by a running relay, and other lanes' topics, are never touched. Deleting needs the
 *       {@code DELETE} permission on the topic; without it the purge still holds (by its markers), a warning is
 *       logged, and the records stay until the retention.
 *   <li>{@link #replay}: each task is produced to the target lane's topic (attempt 1, same id,
 *       {@code acks=all}, idempotent producer); only the entries whose task was acknowledged get a
 *       {@code replayed} marker. A replay that fails or is killed half way leaves the others listed; replaying them
 *       again costs at most a second delivery of a task (sinks are idempotent on the task id), never a lost one.
 * </ul>
 * The marker's headers and the entry ids are part of the documented wire format, so that other tools can read the
 * topic the same way. Counting a dead-letter topic's offsets (as {@code relay lanes} does) counts markers and
 * purged entries not yet deleted too; {@link #list} counts the dead letters.
 *
 * <p>Each call opens its own short-lived clients (a consumer without group, a producer, an admin client) and closes
 * them, so an instance holds no connection and needs no closing. Instances are immutable and threadsafe.
 */
public final class KafkaDeadLetters implements DeadLetters {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaDeadLetters.class);

    /** Marker records: {@code replayed} or {@code purged} (UTF-8). */
    public static final String HEADER_MARKER = "relay-dlt-marker";
    /** Marker records: the offset, in the marker's partition, of the entry it ends (decimal, UTF-8). */
    public static final String HEADER_MARKER_ENTRY = "relay-dlt-entry";

    /** The reading consumer's {@code fetch.max.wait.ms}: how long the broker holds a fetch at a partition's end. */
    private static final int READER_FETCH_WAIT_MILLIS = 20;

    /** How long one poll of the reading consumer waits. */
    private static final Duration READ_POLL = Duration.ofMillis(100);

    private final String bootstrapServers;
    private final Map<String, Object> clientProperties;
    private final KafkaTopics topics;
    private final Duration timeout;
    private final Clock clock;
    private final String clientId;

    private KafkaDeadLetters(String bootstrapServers, Map<String, Object> clientProperties, KafkaTopics topics,
            Duration timeout, Clock clock, String clientId) {
        this.bootstrapServers = bootstrapServers;
        this.clientProperties = Map.copyOf(clientProperties);
        this.topics = topics;
        this.timeout = timeout;
        this.clock = clock;
        this.clientId = clientId;
    }

    /** @return a builder; bootstrap servers are required */
    public static Builder builder() {
        return new Builder();
    }

    /** The dead letters of a queue's layout, with the queue's clients' settings. */
    static KafkaDeadLetters of(QueueConfig config) {
        return new KafkaDeadLetters(config.bootstrapServers(), config.clientProperties(), config.topics(),
                config.adminTimeout(), config.clock(), config.clientId() + "-deadletters");
    }

    /** @return the topic layout */
    public KafkaTopics topics() {
        return topics;
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if the lane's name is not acceptable ({@link KafkaTopics#requireLane})
     * @throws QueueException if the topic could not be read within the timeout
     */
    @Override
    public List<DeadLetter> list(String lane) {
        KafkaTopics.requireLane(lane);
        return read(lane).live();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException naming the ids that are not dead letters of the lane now or hold no task, or
     *         if {@code intoLane} has no topic; then nothing was replayed
     * @throws QueueException naming the entries that are still dead letters, if a task was not acknowledged in time
     *         (it may still arrive: a later replay of the entry delivers the task a second time)
     */
    @Override
    public List<DeadLetter> replay(String lane, Collection<String> ids, String intoLane) {
        KafkaTopics.requireLane(lane);
        KafkaTopics.requireLane(intoLane);
        List<String> wanted = DeadLetters.requireIds(ids);
        Scan scan = read(lane);
        List<Entry> chosen = scan.chosen(wanted, "replayed");
        List<String> taskless = new ArrayList<>();
        for (Entry e : chosen) {
            if (!e.letter.replayable()) {
                taskless.add(e.letter.id() + " (" + e.letter.reason() + ")");
            }
        }
        if (!taskless.isEmpty()) {
            throw new IllegalArgumentException("dead letters of lane '" + lane + "' that hold no task and cannot be replayed"
                    + " (purge them instead): " + taskless + "; nothing was replayed");
        }
        requireLaneTopic(intoLane);
        List<Entry> replayed = new ArrayList<>(chosen.size());
        List<String> failed = new ArrayList<>();
        Throwable firstFailure = null;
        try (Writer writer = writer()) {
            KafkaProducer<byte[], byte[]> producer = writer.producer();
            List<Future<RecordMetadata>> acks = new ArrayList<>(chosen.size());
            for (Entry e : chosen) {
                Task fresh = e.letter.task().withLane(intoLane).withAttempt(1);
                acks.add(send(producer, new ProducerRecord<>(topics.laneTopic(intoLane), utf8(fresh.id()),
                        TaskRecordCodec.encode(fresh))));
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            for (int i = 0; i < chosen.size(); i++) {
                Throwable error = await(acks.get(i), deadline);
                if (error == null) {
                    replayed.add(chosen.get(i));
                } else {
                    failed.add(chosen.get(i).letter.id());
                    firstFailure = firstFailure == null ? error : firstFailure;
                }
            }
            mark(producer, lane, replayed, "replayed");
        }
        deleteEnded(scan, replayed);
        if (firstFailure != null) {
            throw new QueueException("replay of lane '" + lane + "' into lane '" + intoLane + "': the tasks of dead letters "
                    + failed + " were not acknowledged (" + firstFailure.getMessage() + "); they are still dead letters"
                    + " (replaying them again is harmless), the other " + replayed.size() + " were replayed", firstFailure);
        }
        return letters(replayed);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Writes a {@code purged} marker per entry, then deletes the records before each partition's oldest remaining
     * dead letter (see the class comment).
     *
     * @throws QueueException if the topic could not be read or a marker was not acknowledged (then the entries are
     *         still listed, except those whose marker arrived)
     */
    @Override
    public List<DeadLetter> purge(String lane, Collection<String> ids) {
        KafkaTopics.requireLane(lane);
        List<String> wanted = DeadLetters.requireIds(ids);
        Scan scan = read(lane);
        List<Entry> chosen = scan.chosen(wanted, "purged");
        try (Writer writer = writer()) {
            KafkaProducer<byte[], byte[]> producer = writer.producer();
            mark(producer, lane, chosen, "purged");
        }
        deleteEnded(scan, chosen);
        return letters(chosen);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Deletes every partition's records up to its end as of the call ({@code Admin.deleteRecords}); records
     * written after that are kept.
     *
     * @throws QueueException if the topic could not be read or the records not deleted (for example without the
     *         {@code DELETE} permission on the topic)
     */
    @Override
    public long purgeAll(String lane) {
        KafkaTopics.requireLane(lane);
        Scan scan = read(lane);
        Map<TopicPartition, RecordsToDelete> cut = new HashMap<>();
        scan.end.forEach((tp, end) -> {
            if (end > scan.start.get(tp)) {
                cut.put(tp, RecordsToDelete.beforeOffset(end));
            }
        });
        if (!cut.isEmpty()) {
            try (AdminClient client = admin()) {
                client.admin().deleteRecords(cut).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new QueueException("could not delete the records of " + topics.deadLetterTopic(lane) + ": "
                        + e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new QueueException("timed out after " + timeout + " deleting the records of "
                        + topics.deadLetterTopic(lane), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new QueueException("interrupted while deleting the records of " + topics.deadLetterTopic(lane), e);
            }
        }
        return scan.live().size();
    }

    @Override
    public String toString() {
        return "KafkaDeadLetters[" + bootstrapServers + ", " + topics.prefix() + "<lane>" + KafkaTopics.DEAD_LETTER_SUFFIX + "]";
    }

    // ---- reading ----

    /** A dead letter and where it is. */
    private record Entry(DeadLetter letter, TopicPartition tp, long offset, byte[] key) {
    }

    /** One read of a lane's dead-letter topic: its entries and markers, from each partition's start to its end. */
    private static final class Scan {
        final String lane;
        /** Entry id → entry, every record that is no marker, in topic order. */
        final Map<String, Entry> entries = new LinkedHashMap<>();
        /** Partition → offsets of the entries that have a marker. */
        final Map<TopicPartition, Set<Long>> ended = new HashMap<>();
        final Map<TopicPartition, Long> start = new HashMap<>();
        final Map<TopicPartition, Long> end = new HashMap<>();

        Scan(String lane) {
            this.lane = lane;
        }

        boolean isLive(Entry e) {
            return !ended.getOrDefault(e.tp, Set.of()).contains(e.offset);
        }

        List<DeadLetter> live() {
            List<Entry> out = new ArrayList<>();
            for (Entry e : entries.values()) {
                if (isLive(e)) {
                    out.add(e);
                }
            }
            out.sort(Comparator.comparing((Entry e) -> e.letter.at()).thenComparingInt(e -> e.tp.partition())
                    .thenComparingLong(e -> e.offset));
            return letters(out);
        }

        /** The live entries of the ids, all or none: names every id that is not one. */
        List<Entry> chosen(List<String> ids, String what) {
            List<Entry> out = new ArrayList<>(ids.size());
            List<String> unknown = new ArrayList<>();
            for (String id : ids) {
                Entry e = entries.get(id);
                if (e == null || !isLive(e)) {
                    unknown.add(id);
                } else {
                    out.add(e);
                }
            }
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("not dead letters of lane '" + lane + "' (never were, or already "
                        + "replayed or purged; ids are partition@offset as listed): " + unknown + "; nothing was " + what);
            }
            return out;
        }
    }

    private static List<DeadLetter> letters(List<Entry> entries) {
        List<DeadLetter> out = new ArrayList<>(entries.size());
        entries.forEach(e -> out.add(e.letter));
        return out;
    }

    /** Reads the lane's dead-letter topic from each partition's start to its end now; empty if it does not exist. */
    private Scan read(String lane) {
        String topic = topics.deadLetterTopic(lane);
        Scan scan = new Scan(lane);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties())) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                return scan;
            }
            List<TopicPartition> parts = new ArrayList<>();
            infos.forEach(pi -> parts.add(new TopicPartition(topic, pi.partition())));
            consumer.assign(parts);
            scan.start.putAll(consumer.beginningOffsets(parts, timeout));
            scan.end.putAll(consumer.endOffsets(parts, timeout));
            consumer.seekToBeginning(parts);
            Set<TopicPartition> open = new HashSet<>();
            for (TopicPartition tp : parts) {
                if (scan.end.get(tp) > scan.start.get(tp)) {
                    open.add(tp);
                }
            }
            while (!open.isEmpty()) {
                if (System.nanoTime() - deadline > 0) {
                    throw new QueueException("could not read the dead letters of lane '" + lane + "' (" + topic
                            + ") within " + timeout + ": partitions " + open + " not read to their end", null);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(READ_POLL)) {
                    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() < scan.end.get(tp)) {
                        take(scan, tp, r);
                    }
                }
                open.removeIf(tp -> consumer.position(tp) >= scan.end.get(tp));
            }
            return scan;
        } catch (UnknownTopicOrPartitionException e) {
            return scan;
        } catch (KafkaException e) {
            throw new QueueException("could not read the dead letters of lane '" + lane + "' (" + topic + "): "
                    + e.getMessage(), e);
        }
    }

    private void take(Scan scan, TopicPartition tp, ConsumerRecord<byte[], byte[]> r) {
        String marker = header(r, HEADER_MARKER);
        if (marker != null) {
            String entry = header(r, HEADER_MARKER_ENTRY);
            try {
                scan.ended.computeIfAbsent(tp, k -> new HashSet<>()).add(Long.parseLong(entry));
            } catch (NumberFormatException e) {
                LOG.warn("marker {}@{} of {} names no entry offset ({}={}); ignored", tp.partition(), r.offset(),
                        tp.topic(), HEADER_MARKER_ENTRY, entry);
            }
            return;
        }
        String id = tp.partition() + "@" + r.offset();
        String reason = header(r, TaskRecordCodec.HEADER_DLT_REASON);
        if (reason == null) {
            reason = "(no reason recorded)";
        }
        Instant at = Instant.ofEpochMilli(r.timestamp());
        String time = header(r, TaskRecordCodec.HEADER_DLT_TIME);
        if (time != null) {
            try {
                at = Instant.parse(time);
            } catch (DateTimeParseException e) {
                LOG.debug("dead letter {} of {}: time header '{}' unreadable, the record's timestamp is used", id, tp.topic(), time);
            }
        }
        DeadLetter letter;
        try {
            Task task = TaskRecordCodec.decode(r.value());
            letter = new DeadLetter(id, scan.lane, task, task.attempt(), reason, at);
        } catch (InvalidTaskException e) {
            letter = new DeadLetter(id, scan.lane, null, 0, reason, at);
        }
        scan.entries.put(id, new Entry(letter, tp, r.offset(), r.key()));
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    // ---- writing ----

    /** Appends a marker per entry to its partition and waits for every acknowledgement. */
    private void mark(KafkaProducer<byte[], byte[]> producer, String lane, List<Entry> entries, String kind) {
        if (entries.isEmpty()) {
            return;
        }
        String now = clock.instant().toString();
        List<Future<RecordMetadata>> acks = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            RecordHeaders h = new RecordHeaders();
            h.add(HEADER_MARKER, utf8(kind));
            h.add(HEADER_MARKER_ENTRY, utf8(Long.toString(e.offset)));
            h.add(TaskRecordCodec.HEADER_DLT_TIME, utf8(now));
            acks.add(send(producer, new ProducerRecord<>(e.tp.topic(), e.tp.partition(), null, e.key, null, h)));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> unmarked = new ArrayList<>();
        Throwable first = null;
        for (int i = 0; i < entries.size(); i++) {
            Throwable error = await(acks.get(i), deadline);
            if (error != null) {
                unmarked.add(entries.get(i).letter.id());
                first = first == null ? error : first;
            }
        }
        if (first != null) {
            throw new QueueException("dead letters " + unmarked + " of lane '" + lane + "' could not be marked " + kind + " ("
                    + first.getMessage() + "); they are still listed", first);
        }
    }

    /**
     * After {@code marked} got their markers: deletes, per partition, the records before its oldest entry of the scan
     * still a dead letter, or up to the end of the scan if none is (the markers just written, after that end, go with
     * a later replay or purge). Entries written after the scan are never reached. Failures are logged: the markers
     * already hold.
     */
    private void deleteEnded(Scan scan, List<Entry> marked) {
        if (marked.isEmpty()) {
            return;
        }
        Set<Entry> gone = new HashSet<>(marked);
        Map<TopicPartition, RecordsToDelete> cut = new HashMap<>();
        String lane = scan.lane;
        try {
            Map<TopicPartition, Long> oldestLive = new HashMap<>(scan.end);
            for (Entry e : scan.entries.values()) {
                if (scan.isLive(e) && !gone.contains(e)) {
                    oldestLive.merge(e.tp, e.offset, Math::min);
                }
            }
            oldestLive.forEach((tp, offset) -> {
                if (offset > scan.start.get(tp)) {
                    cut.put(tp, RecordsToDelete.beforeOffset(offset));
                }
            });
            if (cut.isEmpty()) {
                return;
            }
            try (AdminClient client = admin()) {
                client.admin().deleteRecords(cut).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException | TimeoutException | KafkaException | QueueException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            LOG.warn("the dead letters of lane '{}' that were replayed or purged stay in {} until its retention: deleting "
                    + "records {} failed: {}", lane, topics.deadLetterTopic(lane), cut, String.valueOf(cause.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void requireLaneTopic(String lane) {
        String topic = topics.laneTopic(lane);
        try (AdminClient client = admin()) {
            client.admin().describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalArgumentException("cannot replay into lane '" + lane + "': its topic '" + topic
                        + "' does not exist; nothing was replayed");
            }
            throw new QueueException("could not check the topic '" + topic + "' of lane '" + lane + "': "
                    + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new QueueException("timed out after " + timeout + " checking the topic '" + topic + "'", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QueueException("interrupted while checking the topic '" + topic + "'", e);
        }
    }

    private static Future<RecordMetadata> send(KafkaProducer<byte[], byte[]> producer, ProducerRecord<byte[], byte[]> r) {
        try {
            return producer.send(r);
        } catch (KafkaException e) {
            return java.util.concurrent.CompletableFuture.failedFuture(e);
        }
    }

    /** @return null if acknowledged by the deadline, else the failure */
    private static Throwable await(Future<RecordMetadata> ack, long deadlineNanos) {
        try {
            ack.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            return e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ---- clients ----

    /**
     * A producer closed without waiting: every send of an operation is awaited (up to the timeout) before it ends, and
     * {@code KafkaProducer.close()} would wait for the ones that timed out until {@code delivery.timeout.ms}.
     */
    private record Writer(KafkaProducer<byte[], byte[]> producer) implements AutoCloseable {
        @Override
        public void close() {
            producer.close(Duration.ZERO);
        }
    }

    /** An admin client closed without waiting for a request this class stopped waiting for ({@code close()} would). */
    private record AdminClient(Admin admin) implements AutoCloseable {
        @Override
        public void close() {
            admin.close(Duration.ZERO);
        }
    }

    private Writer writer() {
        try {
            return new Writer(new KafkaProducer<>(producerProperties()));
        } catch (KafkaException e) {
            throw new QueueException("could not create a producer for " + bootstrapServers + ": " + e.getMessage(), e, false);
        }
    }

    private AdminClient admin() {
        try {
            return new AdminClient(Admin.create(adminProperties()));
        } catch (KafkaException e) {
            throw new QueueException("could not create an admin client for " + bootstrapServers + ": " + e.getMessage(), e, false);
        }
    }

    private Properties common(String suffix) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId + "-" + suffix);
        return p;
    }

    private Properties consumerProperties() {
        Properties p = common("reader");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // the consumer reads to an end known in advance, then closes: a fetch the broker holds open at that end
        // (up to fetch.max.wait.ms, 500 ms by default) would only delay the close
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, Integer.toString(READER_FETCH_WAIT_MILLIS));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    private Properties producerProperties() {
        Properties p = common("writer");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(timeout.toMillis()));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    private Properties adminProperties() {
        return common("admin");
    }

    /**
     * Builds {@link KafkaDeadLetters}. Setters check their argument at once and name a bad value; {@link #build()}
     * copies the settings, so a builder may be reused. Not threadsafe.
     */
    public static final class Builder {
        private String bootstrapServers;
        private final Map<String, Object> clientProperties = new HashMap<>();
        private KafkaTopics topics = KafkaTopics.builder().build();
        private Duration timeout = Duration.ofSeconds(30);
        private Clock clock = Clock.systemUTC();
        private String clientId = "relay-deadletters";

        private Builder() {
        }

        /**
         * @param servers the Kafka bootstrap servers, {@code host:port[,host:port…]}; required
         * @return this builder
         */
        public Builder bootstrapServers(String servers) {
            Objects.requireNonNull(servers, "bootstrapServers");
            if (servers.isBlank()) {
                throw new IllegalArgumentException("bootstrapServers must not be blank");
            }
            this.bootstrapServers = servers;
            return this;
        }

        /**
         * @param key a Kafka client config key (security, timeouts, …), for the consumer, producer and admin
         *        client; the settings the operations rest on ({@code acks}, idempotence, isolation level,
         *        (de)serializers, no group) cannot be overridden
         * @param value its value
         * @return this builder
         */
        public Builder clientProperty(String key, Object value) {
            Objects.requireNonNull(key, "client property key");
            Objects.requireNonNull(value, () -> "value of client property " + key);
            clientProperties.put(key, value);
            return this;
        }

        /**
         * @param properties client properties to add, see {@link #clientProperty}
         * @return this builder
         */
        public Builder clientProperties(Map<String, ?> properties) {
            Objects.requireNonNull(properties, "properties");
            properties.forEach(this::clientProperty);
            return this;
        }

        /**
         * @param topics the topic layout (its prefix names the dead-letter topics); default
         *        {@code KafkaTopics.builder().build()}
         * @return this builder
         */
        public Builder topics(KafkaTopics topics) {
            this.topics = Objects.requireNonNull(topics, "topics");
            return this;
        }

        /**
         * @param timeout how long one operation waits for the cluster (each of reading a topic, acknowledgements,
         *        admin requests); positive, default 30 s
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive but was " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * @param clock the clock of the markers' times; default UTC system clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param clientId the prefix of the clients' {@code client.id}; default {@code relay-deadletters}
         * @return this builder
         */
        public Builder clientId(String clientId) {
            Objects.requireNonNull(clientId, "clientId");
            if (clientId.isBlank()) {
                throw new IllegalArgumentException("clientId must not be blank");
            }
            this.clientId = clientId;
            return this;
        }

        /**
         * @return the dead letters of the layout
         * @throws IllegalStateException if the bootstrap servers are missing
         */
        public KafkaDeadLetters build() {
            if (bootstrapServers == null) {
                throw new IllegalStateException("bootstrapServers is required");
            }
            return new KafkaDeadLetters(bootstrapServers, clientProperties, topics, timeout, clock, clientId);
        }
    }
}
