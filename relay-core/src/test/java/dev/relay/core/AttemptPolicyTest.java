package dev.relay.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.PullException;
import dev.relay.api.RetryPolicy;
import dev.relay.api.SinkException;
import dev.relay.api.Task;
import dev.relay.api.Window;
import dev.relay.core.AttemptPolicy.Action;
import dev.relay.core.AttemptPolicy.Verdict;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/** The failure handling as a pure function: no threads, no clock, no queue. */
class AttemptPolicyTest {

    static final RetryPolicy RETRY = RetryPolicy.builder().maxAttempts(3).initialDelay(Duration.ofSeconds(1))
            .maxDelay(Duration.ofSeconds(60)).multiplier(2).jitter(0).build();
    static final DoubleSupplier HALF = () -> 0.5;
    static final DoubleSupplier NEVER = () -> {
        throw new AssertionError("the jitter was asked for without a retry");
    };

    final AttemptPolicy policy = new AttemptPolicy(5);

    static Task task(int attempt) {
        return Task.window("a", "s", Window.starting(LocalDateTime.of(2024, 1, 1, 0, 0), Duration.ofMinutes(10)))
                .withAttempt(attempt);
    }

    @Test
    void afterAttempt_success_completes_withoutTheJitter() {
        assertSame(Verdict.COMPLETE, policy.afterAttempt(null, false, task(1), RETRY, false, NEVER));
        assertSame(Verdict.COMPLETE, policy.afterAttempt(null, false, task(1), RETRY, true, NEVER), "also while stopping");
    }

    @Test
    void afterAttempt_successWithdrawnAfterItsCommit_completes() {
        assertSame(Verdict.COMPLETE, policy.afterAttempt(null, true, task(1), RETRY, false, NEVER));
    }

    @Test
    void afterAttempt_withdrawnFailure_releases_withoutCountingAFailure() {
        Verdict v = policy.afterAttempt(new PullException("cancelled", null), true, task(2), RETRY, false, NEVER);
        assertEquals(Action.RELEASE, v.action());
        assertFalse(v.failure());
    }

    @Test
    void afterAttempt_retryableFailureWithAttemptsLeft_retriesAfterTheBackoff() {
        Verdict v = policy.afterAttempt(new SinkException("down", null), false, task(2), RETRY, false, HALF);
        assertEquals(Action.RETRY, v.action());
        assertEquals(Duration.ofSeconds(2), v.delay(), "second attempt failed: 1 s · 2");
        assertTrue(v.reason().contains("SinkException: down"), v.reason());
        assertTrue(v.failure());
    }

    @Test
    void afterAttempt_retryableFailureOfTheLastAttempt_deadLettersNamingTheAttempts() {
        Verdict v = policy.afterAttempt(new PullException("timeout", null), false, task(3), RETRY, false, NEVER);
        assertEquals(Action.DEAD_LETTER, v.action());
        assertTrue(v.reason().startsWith("failed 3 attempts; last: PullException: timeout"), v.reason());
        assertTrue(v.failure(), "a retryable failure counts toward suspension");
    }

    @Test
    void afterAttempt_nonRetryableFailure_deadLettersAtOnce_andDoesNotCountTowardSuspension() {
        Verdict v = policy.afterAttempt(new InvalidTaskException("unknown source 'x'"), false, task(1), RETRY, false, NEVER);
        assertEquals(Action.DEAD_LETTER, v.action());
        assertTrue(v.reason().startsWith("not retryable: "), v.reason());
        assertFalse(v.failure());
    }

    @Test
    void afterAttempt_retryableFailureWhileStopping_releases() {
        Verdict v = policy.afterAttempt(new SinkException("down", null), false, task(3), RETRY, true, NEVER);
        assertEquals(Action.RELEASE, v.action(), "a stopping relay schedules no retry and dead-letters nothing retryable");
        assertTrue(v.failure());
    }

    @Test
    void afterAttempt_errors_areRetryable_butAssertionErrorsAreNot() {
        assertEquals(Action.RETRY, policy.afterAttempt(new OutOfMemoryError("heap"), false, task(1), RETRY, false, HALF).action());
        assertEquals(Action.DEAD_LETTER, policy.afterAttempt(new AssertionError("bug"), false, task(1), RETRY, false, NEVER).action());
        assertEquals(Action.RETRY, policy.afterAttempt(new IllegalStateException("x"), false, task(1), RETRY, false, HALF).action(),
                "an unexpected exception is retried: it may be transient");
    }

    @Test
    void refusal_ofATaskOfAnotherLane_namesBothLanes() {
        String why = policy.refusal(task(1), "b", RETRY);
        assertTrue(why.contains("'a'") && why.contains("'b'"), why);
    }

    @Test
    void refusal_ofATaskBeyondItsAttempts_namesThem_andAdmitsTheLastOne() {
        assertNull(policy.refusal(task(3), "a", RETRY));
        String why = policy.refusal(task(4), "a", RETRY);
        assertTrue(why.contains("attempt 4") && why.contains("3 attempts"), why);
    }

    @Test
    void suspension_startsAtTheThreshold_andGrowsWithTheFailuresBeyondIt() {
        assertNull(policy.suspension(4, RETRY));
        assertEquals(Duration.ofSeconds(1), policy.suspension(5, RETRY));
        assertEquals(Duration.ofSeconds(4), policy.suspension(7, RETRY));
        assertNull(new AttemptPolicy(0).suspension(1_000, RETRY), "0 never suspends");
    }

    @Test
    void constructor_negativeThreshold_failsNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AttemptPolicy(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
    }

    @Test
    void describe_keepsTheCauses_andCapsTheLength() {
        String d = AttemptPolicy.describe(new SinkException("commit failed", new IllegalStateException("connection reset")));
        assertEquals("SinkException: commit failed <- IllegalStateException: connection reset", d);
        assertTrue(AttemptPolicy.describe(new RuntimeException("x".repeat(5000))).length() <= 2001);
    }
}
