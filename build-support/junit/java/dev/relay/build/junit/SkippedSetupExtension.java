package dev.relay.build.junit;

import java.lang.reflect.Method;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.opentest4j.TestAbortedException;

/**
 * Counts a test class whose {@code @BeforeAll} aborts (an assumption that failed: "PostgreSQL not
 * reachable", "no broker") as that many skipped tests, each with the reason, instead of a class that
 * vanishes from the counts ("Tests run: 0"), which is how the JUnit Platform and Surefire report it.
 *
 * <p>Invariants: (1) only a {@link TestAbortedException} thrown by a {@code @BeforeAll} method is caught;
 * any other exception propagates unchanged, so a broken setup still fails the class. (2) Once one
 * {@code @BeforeAll} method aborted, the class's remaining {@code @BeforeAll} methods do not run, and each
 * test of the class (and of its nested classes) is disabled with the reason
 * {@code "skipped in @BeforeAll: <reason>"}, so no test runs against a setup that did not complete.
 * (3) {@code @AfterAll} methods run as they do without this extension (JUnit runs them after a failed
 * {@code @BeforeAll} too).
 *
 * <p>Registered through {@code junit.jupiter.extensions.autodetection.enabled} (set by the parent pom's
 * Surefire configuration). Stateless; the reason is kept in the class's extension store, so it is safe
 * under parallel execution.
 */
public final class SkippedSetupExtension implements InvocationInterceptor, ExecutionCondition {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SkippedSetupExtension.class);
    private static final String REASON = "reason";

    /** Creates the extension (called by the JUnit Platform's service loader). */
    public SkippedSetupExtension() {
    }

    @Override
    public void interceptBeforeAllMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
            ExtensionContext extensionContext) throws Throwable {
        if (reason(extensionContext).isPresent()) {
            invocation.skip();
            return;
        }
        try {
            invocation.proceed();
        } catch (TestAbortedException e) {
            String message = e.getMessage() == null || e.getMessage().isBlank() ? "an assumption failed" : e.getMessage();
            extensionContext.getStore(NAMESPACE).put(REASON, message);
        }
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return reason(context)
                .map(reason -> ConditionEvaluationResult.disabled("skipped in @BeforeAll: " + reason))
                .orElseGet(() -> ConditionEvaluationResult.enabled("setup completed"));
    }

    /** The store is hierarchical: a test's context sees what its class's context put there. */
    private static Optional<String> reason(ExtensionContext context) {
        return Optional.ofNullable(context.getStore(NAMESPACE).get(REASON, String.class));
    }
}
