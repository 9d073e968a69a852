package dev.relay.jdbc;

import dev.relay.api.Puller;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;

import java.util.ArrayList;
import java.util.List;

/** What the engine does with one task, reduced to the puller → sink loop. */
final class TestRelay {

    private TestRelay() {
    }

    /**
     * @param puller the puller
     * @param sink the sink
     * @param task the task
     * @return rows relayed
     */
    static long relay(Puller puller, Sink sink, Task task) {
        long rows = 0;
        try (RowCursor cursor = puller.open(task); SinkSession session = sink.open(task, cursor.schema())) {
            for (List<Row> chunk = cursor.next(); !chunk.isEmpty(); chunk = cursor.next()) {
                session.write(chunk);
                rows += chunk.size();
            }
            session.commit();
        }
        return rows;
    }

    /**
     * @param puller the puller
     * @param task the task
     * @return all rows of the task
     */
    static List<Row> pullAll(Puller puller, Task task) {
        List<Row> rows = new ArrayList<>();
        try (RowCursor cursor = puller.open(task)) {
            for (List<Row> chunk = cursor.next(); !chunk.isEmpty(); chunk = cursor.next()) {
                rows.addAll(chunk);
            }
        }
        return rows;
    }
}
