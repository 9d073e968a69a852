package dev.relay.core.plan;

import dev.relay.api.SeriesKey;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;

/** PeMS facts used by the planning tests. */
final class Pems {

    static final ZoneId LA = ZoneId.of("America/Los_Angeles");
    static final Duration TEN_MINUTES = Duration.ofMinutes(10);
    static final List<Integer> DISTRICTS = List.of(3, 4, 5, 6, 7, 8, 10, 11, 12);
    static final List<SeriesKey> VDS30SEC = DISTRICTS.stream()
            .map(d -> SeriesKey.of("vds30sec", "district", Integer.toString(d))).toList();
    static final List<SeriesKey> CONFIG_TABLES = List.of("CONTROLLER_CONFIG", "CONTROLLER_CONFIG_LOG", "DETECTOR_CONFIG",
            "DETECTOR_CONFIG_LOG", "STATION_CONFIG", "STATION_CONFIG_LOG").stream()
            .map(t -> SeriesKey.of("pems.config", "table", t)).toList();

    private Pems() {
    }

    /** @return the instant of a Los Angeles wall-clock time (earlier offset if repeated) */
    static Instant la(String localDateTime) {
        return LocalDateTime.parse(localDateTime).atZone(LA).toInstant();
    }
}
