package dev.relay.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LocalSourcePermitsTest {

    @Test
    void start_grantsAllPermitsBeforeReturning() {
        SourcePermits pool = SourcePermits.local(3);
        List<Integer> granted = new ArrayList<>();
        pool.start(new PermitHolder() {
            @Override
            public void granted(int permit) {
                granted.add(permit);
            }

            @Override
            public void revoked(int permit, Duration grace, Runnable giveBack) {
                throw new AssertionError("the local pool never revokes");
            }

            @Override
            public void lost(int permit) {
                throw new AssertionError("the local pool never loses");
            }
        });
        assertEquals(List.of(0, 1, 2), granted);
        PermitStatus s = pool.status();
        assertEquals(3, s.total());
        assertEquals(3, s.held());
        assertEquals(Duration.ZERO, s.lease());
        pool.close();
        assertEquals(0, pool.status().held());
    }

    @Test
    void local_outOfRange_namesTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SourcePermits.local(0));
        assertTrue(e.getMessage().contains("was 0"), e.getMessage());
    }

    @Test
    void start_twice_fails() {
        SourcePermits pool = SourcePermits.local(1);
        PermitLeasesTest.RecordingHolder holder = new PermitLeasesTest.RecordingHolder();
        pool.start(holder);
        assertThrows(IllegalStateException.class, () -> pool.start(holder));
    }

    @Test
    void status_negativeFigure_rejected() {
        assertThrows(IllegalArgumentException.class,
                () -> new PermitStatus(2, 3, 0, Duration.ZERO, Duration.ZERO, 0, 0, 0, 0, 0, 0));
    }
}
