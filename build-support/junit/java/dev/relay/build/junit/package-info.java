/**
 * Test-run plumbing shared by every module's tests (the build compiles these sources into each module's
 * test classes; see the parent pom): the console's one line per test class with every skip's reason
 * ({@link dev.relay.build.junit.ConsoleSummaryListener}), and a suite skipped in {@code @BeforeAll} counted
 * as skipped ({@link dev.relay.build.junit.SkippedSetupExtension}). Not part of any published artifact.
 */
package dev.relay.build.junit;
