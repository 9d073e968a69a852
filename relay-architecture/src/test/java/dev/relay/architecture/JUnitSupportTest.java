package dev.relay.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.relay.build.junit.ConsoleSummaryListener;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The build's test-run plumbing (build-support/junit, compiled into every module's tests): a class skipped in
 * {@code @BeforeAll} counts its tests as skipped, each with the reason, and the console line of each class carries
 * its counts and every skip's reason. The fixtures are nested classes, which Surefire does not run on its own.
 */
class JUnitSupportTest {

    /** Runs a fixture only under {@link #run} (a -Dtest pattern may select the nested classes directly). */
    static boolean runByJUnitSupportTest(ExtensionContext context) {
        return context.getConfigurationParameter(FIXTURE).isPresent();
    }

    private static final String FIXTURE = "relay.junit.fixture";

    /** A suite whose setup finds no server. */
    @EnabledIf("dev.relay.architecture.JUnitSupportTest#runByJUnitSupportTest")
    static class SkippedInBeforeAll {
        static int afterAll;

        @BeforeAll
        static void server() {
            Assumptions.assumeTrue(false, "no server here");
        }

        @AfterAll
        static void close() {
            afterAll++;
        }

        @Test
        void one() {
            Assertions.fail("must not run");
        }

        @Test
        void two() {
            Assertions.fail("must not run");
        }
    }

    /** A suite with a pass, a failure, an error, an assumption and a disabled test. */
    @EnabledIf("dev.relay.architecture.JUnitSupportTest#runByJUnitSupportTest")
    static class Mixed {
        @Test
        void passes() {
        }

        @Test
        void fails() {
            Assertions.fail("expected failure");
        }

        @Test
        void errs() {
            throw new IllegalStateException("expected error");
        }

        @Test
        void assumes() {
            Assumptions.assumeTrue(false, "not on this machine");
        }

        @Disabled("not today")
        @Test
        void disabled() {
        }
    }

    private static TestExecutionSummary run(Class<?> fixture, ConsoleSummaryListener console) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectClass(fixture))
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .configurationParameter(FIXTURE, "true").build();
        // only the listeners given here: not the service-loaded ones, which would print this fixture's run on the build's console
        Launcher launcher = LauncherFactory.create(LauncherConfig.builder().enableTestExecutionListenerAutoRegistration(false).build());
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request, summary, console);
        return summary.getSummary();
    }

    @Test
    void skippedSetupExtension_beforeAllAborted_countsEachTestAsSkippedWithTheReason() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TestExecutionSummary summary = run(SkippedInBeforeAll.class, new ConsoleSummaryListener(new PrintStream(bytes, true, StandardCharsets.UTF_8), true));
        assertEquals(2, summary.getTestsSkippedCount(), "both tests skipped, not vanished");
        assertEquals(0, summary.getTestsStartedCount(), "no test ran against the missing setup");
        assertEquals(0, summary.getTotalFailureCount());
        assertEquals(1, SkippedInBeforeAll.afterAll, "@AfterAll still runs, as without the extension");
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("[WARNING] Tests run: 2, Failures: 0, Errors: 0, Skipped: 2, Time elapsed: "), lines.get(0));
        assertTrue(lines.get(0).endsWith(" -- in " + SkippedInBeforeAll.class.getName()), lines.get(0));
        assertTrue(lines.get(1).startsWith("[WARNING]   skipped 2 tests (JUnitSupportTest$SkippedInBeforeAll."), lines.get(1));
        assertTrue(lines.get(1).contains("SkippedInBeforeAll.one") && lines.get(1).contains("SkippedInBeforeAll.two"), lines.get(1));
        assertTrue(lines.get(1).endsWith(": skipped in @BeforeAll: Assumption failed: no server here"), lines.get(1));
    }

    @Test
    void consoleSummaryListener_mixedClass_oneLineWithSurefiresCountsAndEachSkipsReason() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        run(Mixed.class, new ConsoleSummaryListener(new PrintStream(bytes, true, StandardCharsets.UTF_8), true));
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("[ERROR] Tests run: 5, Failures: 1, Errors: 1, Skipped: 2, Time elapsed: "), lines.get(0));
        assertTrue(lines.get(0).endsWith(" -- in " + Mixed.class.getName() + " <<< FAILURE!"), lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.equals("[WARNING]   skipped JUnitSupportTest$Mixed.disabled: not today")), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.equals("[WARNING]   skipped JUnitSupportTest$Mixed.assumes: Assumption failed: not on this machine")),
                lines.toString());
    }

    @Test
    void consoleSummaryListener_disabled_printsNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        run(Mixed.class, new ConsoleSummaryListener(new PrintStream(bytes, true, StandardCharsets.UTF_8), false));
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }
}
