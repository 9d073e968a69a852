package dev.relay.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.relay.api.InvalidTaskException;
import dev.relay.api.Snapshot;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TaskRecordCodecTest {

    private static final Task WINDOW_TASK = Task.builder("realtime", "D7.VDS30SEC")
            .scope(Window.starting(LocalDateTime.of(2024, 11, 3, 1, 0), Duration.ofMinutes(10)))
            .parameter("district", "7").parameter("zone", "Pacific/Los Angeles ü").attempt(3).build();

    @Test
    void encode_decode_roundTripsEveryField() {
        Task back = TaskRecordCodec.decode(TaskRecordCodec.encode(WINDOW_TASK));
        assertEquals(WINDOW_TASK, back);
        assertEquals(WINDOW_TASK.scope(), back.scope());
        assertEquals(WINDOW_TASK.parameters(), back.parameters());
        assertEquals(WINDOW_TASK.source(), back.source());
        assertEquals(3, back.attempt());
    }

    @Test
    void encode_decode_snapshot() {
        Task t = Task.snapshot("config", "PEMS.CONTROLLER_CONFIG_LOG", Snapshot.of(LocalDate.of(2024, 6, 1)));
        Task back = TaskRecordCodec.decode(TaskRecordCodec.encode(t));
        assertEquals(t, back);
        assertEquals(t.scope(), back.scope());
    }

    @Test
    void encode_isStable_headerFirst() {
        byte[] b = TaskRecordCodec.encode(WINDOW_TASK);
        assertEquals(TaskRecordCodec.MAGIC, b[0] & 0xff);
        assertEquals(1, b[1]);
        assertArrayEquals(b, TaskRecordCodec.encode(WINDOW_TASK));
    }

    @Test
    void decode_unknownVersion_namesTheVersion() {
        byte[] b = TaskRecordCodec.encode(WINDOW_TASK);
        b[1] = 7;
        InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> TaskRecordCodec.decode(b));
        assertTrue(e.getMessage().contains("unknown schema version 7"), e.getMessage());
    }

    @Test
    void decode_garbage_isMalformed() {
        for (byte[] bad : new byte[][] {null, {}, {0x52}, "SELECT * FROM D7.VDS30SEC".getBytes(StandardCharsets.UTF_8),
                {0x52, 1, 0, 40}}) {
            InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> TaskRecordCodec.decode(bad));
            assertTrue(e.getMessage().startsWith("malformed"), e.getMessage());
        }
    }

    @Test
    void decode_everyTruncation_isRejected() {
        byte[] b = TaskRecordCodec.encode(WINDOW_TASK);
        for (int len = 0; len < b.length; len++) {
            byte[] cut = Arrays.copyOf(b, len);
            assertThrows(InvalidTaskException.class, () -> TaskRecordCodec.decode(cut), "length " + len);
        }
    }

    @Test
    void decode_trailingBytes_isRejected() {
        byte[] b = TaskRecordCodec.encode(WINDOW_TASK);
        byte[] longer = Arrays.copyOf(b, b.length + 1);
        assertThrows(InvalidTaskException.class, () -> TaskRecordCodec.decode(longer));
    }

    @Test
    void decode_idMismatch_isRejected() {
        byte[] b = TaskRecordCodec.encode(WINDOW_TASK);
        // the id starts at byte 4 (after magic, version and its 2-byte length): alter one hex digit
        b[4] = (byte) (b[4] == 'a' ? 'b' : 'a');
        InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> TaskRecordCodec.decode(b));
        assertTrue(e.getMessage().contains("id mismatch"), e.getMessage());
    }

    @Test
    void decode_alteredWindow_isAnIdMismatch() {
        byte[] b = TaskRecordCodec.encode(Task.window("realtime", "D7.VDS30SEC",
                Window.starting(LocalDateTime.of(2024, 3, 14, 10, 0), Duration.ofMinutes(10))));
        String s = new String(b, StandardCharsets.ISO_8859_1).replace("2024-03-14T10:10", "2024-03-14T10:20");
        byte[] altered = s.getBytes(StandardCharsets.ISO_8859_1);
        InvalidTaskException e = assertThrows(InvalidTaskException.class, () -> TaskRecordCodec.decode(altered));
        assertTrue(e.getMessage().contains("id mismatch"), e.getMessage());
    }

    @Test
    void decode_badLaneName_isRejected() {
        byte[] b = TaskRecordCodec.encode(WINDOW_TASK);
        String s = new String(b, StandardCharsets.ISO_8859_1).replace("realtime", "REALTIME");
        InvalidTaskException e = assertThrows(InvalidTaskException.class,
                () -> TaskRecordCodec.decode(s.getBytes(StandardCharsets.ISO_8859_1)));
        assertTrue(e.getMessage().contains("lane name"), e.getMessage());
    }
}
