package dev.relay.examples;

import dev.relay.simulation.RunRecorder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The outcome of a run, judged: the stated bounds and the sink checked against the source.
 *
 * <ul>
 *   <li>the first config task of each day starts within the scheduler's stated bound
 *       ({@link SourceTimeModel#configHeadBound()}) of becoming ready;
 *   <li>all config snapshots of a day are done within the deadline after 19:00 (the incident: a week);
 *   <li>never more than {@code P} source permits in use;
 *   <li>nothing dead-lettered; the sink holds every planned window exactly as the source does, no row twice, and
 *       every config table; the completion ledger's watermarks reached the end of the planned windows.
 * </ul>
 * Immutable and threadsafe.
 *
 * @param configDays per day the config snapshots were due
 * @param bound the stated bound on a config head's wait
 * @param worstFirstWait the longest wait of a day's first config task
 * @param worstConfigWait the longest wait of any config task
 * @param deadline the deadline for a day's config snapshots
 * @param worstConfigDone the longest time from 19:00 until a day's config snapshots were all done
 * @param permits the source permits
 * @param maxPermitsInUse the most permits held at once
 * @param deadLettered tasks dead-lettered
 * @param realtimeWorstWait the longest wait of a realtime task
 * @param check the sink compared with the source
 * @param failures what broke, empty when all held
 */
record Verdict(List<ConfigDay> configDays, Duration bound, Duration worstFirstWait, Duration worstConfigWait,
        Duration deadline, Duration worstConfigDone, int permits, int maxPermitsInUse, int deadLettered,
        Duration realtimeWorstWait, Warehouse.Check check, List<String> failures) {

    /**
     * One day's config snapshots.
     *
     * @param due when they were due (19:00)
     * @param firstWait the wait of the first to start
     * @param done from due until the last was done, or null if not all were done
     */
    record ConfigDay(Instant due, Duration firstWait, Duration done) {
    }

    /** @return whether every bound held and the sink matches the source */
    boolean passed() {
        return failures.isEmpty();
    }

    static Verdict judge(IncidentScenario scenario, Warehouse.Check check) {
        RunRecorder rec = scenario.recorder();
        Duration bound = SourceTimeModel.configHeadBound();
        Duration deadline = Duration.ofMinutes(scenario.options().configDeadlineMinutes());
        List<String> failures = new ArrayList<>();
        List<ConfigDay> days = new ArrayList<>();
        Duration worstFirst = Duration.ZERO;
        Duration worstDone = Duration.ZERO;
        int tables = PemsSource.CONFIG_TABLES.size();
        for (Instant due : scenario.planner().snapshotTimes()) {
            Instant nextDay = due.plus(Duration.ofDays(1));
            List<RunRecorder.Start> starts = rec.starts().stream()
                    .filter(s -> s.task().lane().equals(IncidentScenario.CONFIG) && !s.at().isBefore(due) && s.at().isBefore(nextDay))
                    .sorted(Comparator.comparing(RunRecorder.Start::at)).toList();
            List<RunRecorder.Completion> done = rec.completions().stream()
                    .filter(c -> c.task().lane().equals(IncidentScenario.CONFIG) && !c.at().isBefore(due) && c.at().isBefore(nextDay))
                    .toList();
            Duration first = starts.isEmpty() ? null : starts.get(0).waited();
            Duration all = done.size() >= tables
                    ? Duration.between(due, done.stream().map(RunRecorder.Completion::at).max(Instant::compareTo).orElseThrow())
                    : null;
            days.add(new ConfigDay(due, first, all));
            if (first == null) {
                failures.add("the config snapshots due " + due + " never started");
            } else {
                worstFirst = max(worstFirst, first);
                if (first.compareTo(bound) > 0) {
                    failures.add("the first config snapshot due " + due + " waited " + fmt(first) + " > bound " + fmt(bound));
                }
            }
            if (all == null) {
                failures.add("only " + done.size() + " of " + tables + " config snapshots due " + due + " were done");
            } else {
                worstDone = max(worstDone, all);
                if (all.compareTo(deadline) > 0) {
                    failures.add("the config snapshots due " + due + " took " + fmt(all) + " > deadline " + fmt(deadline));
                }
            }
        }
        if (days.isEmpty()) {
            failures.add("no config snapshot was due during the run");
        }
        List<Duration> configWaits = rec.waits(IncidentScenario.CONFIG);
        List<Duration> realtimeWaits = rec.waits(IncidentScenario.REALTIME);
        int permits = scenario.options().permits();
        if (rec.maxPermitsInUse() > permits) {
            failures.add(rec.maxPermitsInUse() + " source permits were in use at once > P = " + permits);
        }
        int dead = rec.deadLettered().size();
        if (dead > 0) {
            failures.add(dead + " tasks were dead-lettered");
        }
        if (check.rowsDuplicated() > 0) {
            failures.add(check.rowsDuplicated() + " rows are duplicated in the sink");
        }
        if (check.windowsMissing() > 0) {
            failures.add(check.windowsMissing() + " windows are missing or differ in the sink");
        }
        List<String> behind = scenario.ledgerBehind();
        if (!behind.isEmpty()) {
            failures.add("the completion ledger's watermark is behind the planned windows for " + behind);
        }
        if (check.configTablesMatching() != check.configTables()) {
            failures.add((check.configTables() - check.configTablesMatching()) + " config tables differ from the source");
        }
        return new Verdict(List.copyOf(days), bound, worstFirst, last(configWaits), deadline, worstDone, permits,
                rec.maxPermitsInUse(), dead, last(realtimeWaits), check, List.copyOf(failures));
    }

    /** @return the one-line verdict */
    String line() {
        return String.format("%s: config first wait %s (bound %s), worst config wait %s, all config done %s after 19:00"
                        + " (deadline %s), permits used %d/%d, rows relayed %,d, rows duplicated %d, windows missing %d%s",
                passed() ? "PASS" : "FAIL", fmt(worstFirstWait), fmt(bound), fmt(worstConfigWait), fmt(worstConfigDone),
                fmt(deadline),
                maxPermitsInUse, permits, check.rowsRelayed(), check.rowsDuplicated(), check.windowsMissing(),
                passed() ? "" : " -- " + String.join("; ", failures));
    }

    private static Duration last(List<Duration> sorted) {
        return sorted.isEmpty() ? Duration.ZERO : sorted.get(sorted.size() - 1);
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    static String fmt(Duration d) {
        return d == null ? "-" : RunRecorder.fmt(d);
    }
}
