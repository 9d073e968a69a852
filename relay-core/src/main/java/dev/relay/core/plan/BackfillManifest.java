package dev.relay.core.plan;

import dev.relay.api.SeriesKey;
import dev.relay.api.Window;

import java.time.LocalDate;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The source-local dates a backfill touched, per series (table and district), so that downstream jobs that
 * reprocess only recent days incrementally (dbt in PeMS: the last two days) can reprocess exactly these.
 *
 * <p>A window touches every local date from its start's date to the date of its last instant, so a window
 * ending at midnight touches only the day before. {@link #toCsv()} renders the manifest as
 * {@code source,parameters,date} lines, for example {@code vds30sec,district=7,2024-03-14}.
 *
 * <p>Instances are immutable and threadsafe. The {@link Builder} is not threadsafe.
 */
public final class BackfillManifest {

    private static final BackfillManifest EMPTY = new BackfillManifest(new TreeMap<>());

    private final SortedMap<SeriesKey, SortedSet<LocalDate>> dates;

    private BackfillManifest(TreeMap<SeriesKey, TreeSet<LocalDate>> dates) {
        TreeMap<SeriesKey, SortedSet<LocalDate>> copy = new TreeMap<>();
        dates.forEach((k, v) -> {
            if (!v.isEmpty()) {
                copy.put(k, Collections.unmodifiableSortedSet(new TreeSet<>(v)));
            }
        });
        this.dates = Collections.unmodifiableSortedMap(copy);
    }

    /** @return a manifest that touched nothing */
    public static BackfillManifest empty() {
        return EMPTY;
    }

    /** @return a builder of a manifest */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @param windows windows per series
     * @return the manifest of the dates they touch
     */
    public static BackfillManifest of(Map<SeriesKey, ? extends Collection<Window>> windows) {
        Builder b = builder();
        windows.forEach((series, ws) -> ws.forEach(w -> b.add(series, w)));
        return b.build();
    }

    /** @return the touched dates per series, in series order; unmodifiable */
    public SortedMap<SeriesKey, SortedSet<LocalDate>> dates() {
        return dates;
    }

    /**
     * @param series a series
     * @return the dates touched in that series, possibly none
     */
    public SortedSet<LocalDate> datesOf(SeriesKey series) {
        return dates.getOrDefault(series, Collections.emptySortedSet());
    }

    /** @return the dates touched in any series */
    public SortedSet<LocalDate> allDates() {
        TreeSet<LocalDate> all = new TreeSet<>();
        dates.values().forEach(all::addAll);
        return Collections.unmodifiableSortedSet(all);
    }

    /** @return whether no date was touched */
    public boolean isEmpty() {
        return dates.isEmpty();
    }

    /**
     * @param other another manifest
     * @return a manifest of the dates touched in either
     */
    public BackfillManifest merge(BackfillManifest other) {
        Builder b = builder();
        b.addAll(this);
        b.addAll(other);
        return b.build();
    }

    /**
     * Renders the manifest as CSV with a header line {@code source,parameters,date}; parameters are
     * {@code key=value} pairs joined by {@code ;} (values URL-encoded as in {@link SeriesKey#canonical()}).
     *
     * @return the CSV text, one line per series and date, ending with a newline
     */
    public String toCsv() {
        StringBuilder sb = new StringBuilder("source,parameters,date\n");
        dates.forEach((series, ds) -> {
            String canonical = series.canonical();
            String params = canonical.length() > series.source().length() ? canonical.substring(series.source().length() + 1) : "";
            for (LocalDate d : ds) {
                sb.append(series.source()).append(',').append(params).append(',').append(d).append('\n');
            }
        });
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BackfillManifest m && m.dates.equals(dates);
    }

    @Override
    public int hashCode() {
        return dates.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("BackfillManifest[");
        dates.forEach((s, ds) -> sb.append(s).append(": ").append(ds.size()).append(" dates ")
                .append(ds.first()).append("..").append(ds.last()).append("; "));
        return sb.append(']').toString();
    }

    /** Collects touched dates. Not threadsafe; {@link #build()} copies, so a builder may be reused. */
    public static final class Builder {
        private final TreeMap<SeriesKey, TreeSet<LocalDate>> dates = new TreeMap<>();

        private Builder() {
        }

        /**
         * @param series the series
         * @param window a window planned for it
         * @return this builder
         */
        public Builder add(SeriesKey series, Window window) {
            Objects.requireNonNull(window, "window");
            TreeSet<LocalDate> set = dates.computeIfAbsent(Objects.requireNonNull(series, "series"), k -> new TreeSet<>());
            LocalDate last = window.end().minusNanos(1).toLocalDate();
            for (LocalDate d = window.start().toLocalDate(); !d.isAfter(last); d = d.plusDays(1)) {
                set.add(d);
            }
            return this;
        }

        /**
         * @param series the series
         * @param date a date touched
         * @return this builder
         */
        public Builder add(SeriesKey series, LocalDate date) {
            dates.computeIfAbsent(Objects.requireNonNull(series, "series"), k -> new TreeSet<>())
                    .add(Objects.requireNonNull(date, "date"));
            return this;
        }

        /**
         * @param manifest a manifest whose dates to add
         * @return this builder
         */
        public Builder addAll(BackfillManifest manifest) {
            manifest.dates.forEach((s, ds) -> dates.computeIfAbsent(s, k -> new TreeSet<>()).addAll(ds));
            return this;
        }

        /** @return the manifest of the dates added so far */
        public BackfillManifest build() {
            return dates.isEmpty() ? EMPTY : new BackfillManifest(dates);
        }
    }
}
