package dev.relay.faults;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * A counting log appender for tests: an SLF4J provider that keeps every event at INFO and above (the level a user's
 * default logging configuration shows) in memory, with its text and the text of its throwable, and writes it to
 * {@code target/counted-logs.log}. Selected with {@code -Dslf4j.provider=dev.relay.faults.CountingLogs} (the
 * {@code secured-kafka} surefire execution of this module), so the tests can count how many lines the Kafka clients
 * and relay write per minute and check that no secret appears in them.
 *
 * <p>Threadsafe: loggers are called from any thread; events are appended to a lock-guarded list (bounded at
 * {@value #KEPT} events; the count goes on beyond).
 */
public final class CountingLogs implements SLF4JServiceProvider {

    /** The most events kept in memory; a flood beyond is counted, not kept. */
    static final int KEPT = 200_000;

    /** One log line. */
    record Event(long nanos, Level level, String logger, String thread, String text) {
        /** @return whether the line (message and stack trace) contains the string */
        boolean contains(String s) {
            return text.contains(s);
        }
    }

    private static final Object LOCK = new Object();
    private static final List<Event> EVENTS = new ArrayList<>(); // guarded by LOCK
    private static final AtomicLong COUNT = new AtomicLong();
    private static Writer file; // guarded by LOCK

    private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
    private final ILoggerFactory factory = name -> loggers.computeIfAbsent(name, CountingLogger::new);
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new BasicMDCAdapter();

    /** @return whether this provider is the one SLF4J uses in this JVM */
    static boolean active() {
        return org.slf4j.LoggerFactory.getLogger(CountingLogs.class) instanceof CountingLogger;
    }

    /** @return every event logged so far that matches, in order */
    static List<Event> events(Predicate<Event> filter) {
        synchronized (LOCK) {
            return EVENTS.stream().filter(filter).toList();
        }
    }

    /** @return the events logged at or after {@code sinceNanos} ({@link System#nanoTime()}) */
    static List<Event> since(long sinceNanos) {
        return events(e -> e.nanos() - sinceNanos >= 0);
    }

    /** @return how many events were logged in all (kept or not) */
    static long count() {
        return COUNT.get();
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return factory;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }

    @Override
    public void initialize() {
        try {
            Path target = Path.of("target");
            Files.createDirectories(target);
            synchronized (LOCK) {
                file = Files.newBufferedWriter(target.resolve("counted-logs.log"), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void append(Level level, String logger, String message, Throwable t) {
        String text = message;
        if (t != null) {
            StringWriter sw = new StringWriter();
            t.printStackTrace(new PrintWriter(sw));
            text = message + System.lineSeparator() + sw;
        }
        Event e = new Event(System.nanoTime(), level, logger, Thread.currentThread().getName(), text);
        COUNT.incrementAndGet();
        synchronized (LOCK) {
            if (EVENTS.size() < KEPT) {
                EVENTS.add(e);
            }
            if (file != null) {
                try {
                    file.write(Instant.now() + " [" + e.thread() + "] " + level + " " + logger + " - " + text
                            + System.lineSeparator());
                    file.flush();
                } catch (IOException ignored) {
                    // the file is a convenience; the events in memory are what the tests read
                }
            }
        }
    }

    /** Keeps INFO and above. */
    private static final class CountingLogger extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;

        CountingLogger(String name) {
            this.name = name;
        }

        @Override
        public boolean isTraceEnabled() {
            return false;
        }

        @Override
        public boolean isDebugEnabled() {
            return false;
        }

        @Override
        public boolean isInfoEnabled() {
            return true;
        }

        @Override
        public boolean isWarnEnabled() {
            return true;
        }

        @Override
        public boolean isErrorEnabled() {
            return true;
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args, Throwable t) {
            if (level.toInt() < Level.INFO.toInt()) {
                return;
            }
            append(level, name, MessageFormatter.basicArrayFormat(pattern, args), t);
        }
    }
}
