package dev.relay.build.junit;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Prints one line per test class on the build's console, in Surefire's format, followed by one line per
 * distinct skip reason in that class: the build redirects test output to files and turns Surefire's own
 * per-class lines off (they carry no skip reasons), so this is what the console shows of the tests.
 *
 * <p>It writes to the process's native standard error, which Surefire copies to the console as it is
 * (its own channel is standard output, and {@code System.out}/{@code System.err} are captured into
 * {@code target/surefire-reports/*-output.txt}). It is silent unless the system property
 * {@code relay.console.summary} is {@code true} (the parent pom sets it for Surefire), so an IDE run is
 * unaffected.
 *
 * <p>Counts follow Surefire's: an {@link AssertionError} is a failure, any other throwable an error; a
 * skipped or aborted test is skipped; a class container that fails counts one error; a skipped class
 * counts each of its tests as skipped. Thread-safe: every callback is synchronized.
 */
public final class ConsoleSummaryListener implements TestExecutionListener {

    private final boolean enabled;
    private final PrintStream console;
    private final Map<String, ClassRun> running = new HashMap<>();
    private TestPlan plan;

    /** Creates the listener (called by the JUnit Platform's service loader): native standard error, if enabled. */
    public ConsoleSummaryListener() {
        this(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8),
                Boolean.getBoolean("relay.console.summary"));
    }

    /**
     * @param console where the lines go
     * @param enabled whether to print at all
     */
    public ConsoleSummaryListener(PrintStream console, boolean enabled) {
        this.console = console;
        this.enabled = enabled;
    }

    @Override
    public synchronized void testPlanExecutionStarted(TestPlan testPlan) {
        plan = testPlan;
    }

    @Override
    public synchronized void executionStarted(TestIdentifier id) {
        if (enabled && isTopLevelClass(id)) {
            running.put(id.getUniqueId(), new ClassRun(className(id)));
        }
    }

    @Override
    public synchronized void executionSkipped(TestIdentifier id, String reason) {
        if (!enabled) {
            return;
        }
        String why = reason == null || reason.isBlank() ? "no reason given" : reason;
        if (isTopLevelClass(id)) {
            ClassRun run = new ClassRun(className(id));
            run.skip(Math.max(1, testsUnder(id)), "all tests", why);
            print(run);
            return;
        }
        classRunOf(id).ifPresent(run -> run.skip(id.isTest() ? 1 : Math.max(1, testsUnder(id)), name(id), why));
    }

    @Override
    public synchronized void executionFinished(TestIdentifier id, TestExecutionResult result) {
        if (!enabled) {
            return;
        }
        Optional<ClassRun> run = classRunOf(id);
        if (run.isEmpty()) {
            return;
        }
        ClassRun r = run.get();
        Throwable thrown = result.getThrowable().orElse(null);
        if (id.isTest()) {
            switch (result.getStatus()) {
                case SUCCESSFUL:
                    r.tests++;
                    break;
                case ABORTED:
                    r.skip(1, name(id), thrown == null || thrown.getMessage() == null ? "aborted" : thrown.getMessage());
                    break;
                case FAILED:
                    r.tests++;
                    if (thrown instanceof AssertionError) {
                        r.failures++;
                    } else {
                        r.errors++;
                    }
                    break;
            }
        } else if (result.getStatus() == TestExecutionResult.Status.FAILED) {
            r.errors++;
        } else if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            r.skip(1, name(id), thrown == null || thrown.getMessage() == null ? "aborted" : thrown.getMessage());
        }
        if (isTopLevelClass(id)) {
            running.remove(id.getUniqueId());
            print(r);
        }
    }

    private void print(ClassRun run) {
        double seconds = (System.nanoTime() - run.startNanos) / 1e9;
        boolean failed = run.failures + run.errors > 0;
        String level = failed ? "[ERROR] " : run.skipped > 0 ? "[WARNING] " : "[INFO] ";
        console.printf(Locale.ROOT, "%sTests run: %d, Failures: %d, Errors: %d, Skipped: %d, Time elapsed: %.3f s -- in %s%s%n",
                level, run.tests + run.skipped, run.failures, run.errors, run.skipped, seconds, run.className,
                failed ? " <<< FAILURE!" : "");
        for (Map.Entry<String, List<String>> skip : run.reasons.entrySet()) {
            List<String> names = skip.getValue();
            String which = names.size() == 1 ? names.get(0)
                    : names.size() + " tests (" + String.join(", ", names.subList(0, Math.min(3, names.size())))
                            + (names.size() > 3 ? ", …" : "") + ")";
            console.printf(Locale.ROOT, "[WARNING]   skipped %s: %s%n", which, skip.getKey().replace('\n', ' '));
        }
    }

    private Optional<ClassRun> classRunOf(TestIdentifier id) {
        TestIdentifier at = id;
        while (at != null) {
            ClassRun run = running.get(at.getUniqueId());
            if (run != null) {
                return Optional.of(run);
            }
            at = plan == null ? null : plan.getParent(at).orElse(null);
        }
        return Optional.empty();
    }

    private boolean isTopLevelClass(TestIdentifier id) {
        if (!isClass(id)) {
            return false;
        }
        return plan == null || plan.getParent(id).map(parent -> !isClass(parent)).orElse(true);
    }

    private static boolean isClass(TestIdentifier id) {
        return id.getSource().map(source -> source instanceof ClassSource).orElse(false);
    }

    private int testsUnder(TestIdentifier id) {
        if (plan == null) {
            return 0;
        }
        return (int) plan.getDescendants(id).stream().filter(TestIdentifier::isTest).count();
    }

    private static String className(TestIdentifier id) {
        return id.getSource().filter(ClassSource.class::isInstance).map(s -> ((ClassSource) s).getClassName())
                .orElse(id.getDisplayName());
    }

    private static String name(TestIdentifier id) {
        Optional<TestSource> source = id.getSource();
        if (source.isPresent() && source.get() instanceof MethodSource) {
            MethodSource method = (MethodSource) source.get();
            String simple = method.getClassName().substring(method.getClassName().lastIndexOf('.') + 1);
            return simple + "." + method.getMethodName() + (id.isTest() ? "" : "[" + id.getDisplayName() + "]");
        }
        if (source.isPresent() && source.get() instanceof ClassSource) {
            return className(id);
        }
        return id.getDisplayName();
    }

    /** The counts and skip reasons of one top-level test class. */
    private static final class ClassRun {
        final String className;
        final long startNanos = System.nanoTime();
        final Map<String, List<String>> reasons = new LinkedHashMap<>();
        int tests;
        int failures;
        int errors;
        int skipped;

        ClassRun(String className) {
            this.className = className;
        }

        void skip(int count, String name, String reason) {
            skipped += count;
            reasons.computeIfAbsent(reason, k -> new ArrayList<>()).add(name);
        }
    }
}
