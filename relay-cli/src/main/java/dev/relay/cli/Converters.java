package dev.relay.cli;

import dev.relay.api.SeriesKey;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import picocli.CommandLine;

/** Argument types: each names what it expected when the text is not of its kind. Stateless and threadsafe. */
final class Converters {

    private Converters() {
    }

    /** Raises a usage error (exit status 2) from a command's checks. */
    interface Usage {
        /**
         * @param message what is wrong, naming the argument
         * @return the exception to throw
         */
        CommandLine.ParameterException error(String message);
    }

    /** An ISO-8601 duration such as {@code PT10M} or {@code P2D}, strictly positive. */
    static final class PositiveDuration implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String text) {
            Duration d;
            try {
                d = Duration.parse(text);
            } catch (DateTimeParseException e) {
                throw new CommandLine.TypeConversionException("'" + text + "' is not an ISO-8601 duration (PT10M, PT30S, P2D)");
            }
            if (d.isZero() || d.isNegative()) {
                throw new CommandLine.TypeConversionException("'" + text + "' must be longer than zero");
            }
            return d;
        }
    }

    /** A source-local date and time such as {@code 2024-03-14T10:00} (no zone: the source's own clock). */
    static final class LocalTime implements CommandLine.ITypeConverter<LocalDateTime> {
        @Override
        public LocalDateTime convert(String text) {
            try {
                return text.length() == 10 ? java.time.LocalDate.parse(text).atStartOfDay() : LocalDateTime.parse(text);
            } catch (DateTimeParseException e) {
                throw new CommandLine.TypeConversionException("'" + text
                        + "' is not a local date or date-time (2024-03-14 or 2024-03-14T10:00)");
            }
        }
    }

    /** An instant such as {@code 2024-03-14T00:00:00Z}. */
    static final class UtcInstant implements CommandLine.ITypeConverter<Instant> {
        @Override
        public Instant convert(String text) {
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw new CommandLine.TypeConversionException("'" + text + "' is not an instant in UTC (2024-03-14T00:00:00Z)");
            }
        }
    }

    /** A series key in its canonical form, such as {@code vds30sec;district=D7}. */
    static final class Series implements CommandLine.ITypeConverter<SeriesKey> {
        @Override
        public SeriesKey convert(String text) {
            try {
                return SeriesKey.parse(text);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + text + "' is not a series key (source;key=value;…, e.g. "
                        + "vds30sec;district=D7): " + e.getMessage());
            }
        }
    }
}
