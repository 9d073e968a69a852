package dev.relay.benchmarks;

import dev.relay.api.Column;
import dev.relay.api.Puller;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import dev.relay.api.Sink;
import dev.relay.api.SinkSession;
import dev.relay.api.Task;
import dev.relay.api.Window;
import java.sql.JDBCType;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.List;

/**
 * The no-op work of the engine benchmarks: a puller whose cursor is empty and a sink that writes nothing, and
 * {@link #work(Task)}, the same open → drain → commit → close sequence the engine's worker runs, for the
 * baselines. Threadsafe: everything here is stateless.
 */
final class NoOp {

    static final RowSchema SCHEMA = RowSchema.of(new Column("ID", JDBCType.BIGINT));

    /** A cursor with no rows. */
    static final RowCursor EMPTY = new RowCursor() {
        @Override
        public RowSchema schema() {
            return SCHEMA;
        }

        @Override
        public List<Row> next() {
            return List.of();
        }

        @Override
        public void cancel() {
        }

        @Override
        public void close() {
        }
    };

    /** A session that writes nothing. */
    static final SinkSession SESSION = new SinkSession() {
        @Override
        public void write(List<Row> rows) {
        }

        @Override
        public void commit() {
        }

        @Override
        public void abort() {
        }

        @Override
        public void close() {
        }
    };

    static final Puller PULLER = task -> EMPTY;
    static final Sink SINK = (task, schema) -> SESSION;

    private NoOp() {
    }

    /**
     * What the engine's worker does for a task, with the no-op puller and sink.
     *
     * @param task the task
     * @return rows written (0)
     */
    static long work(Task task) {
        long rows = 0;
        RowCursor cursor = PULLER.open(task);
        try {
            SinkSession session = SINK.open(task, cursor.schema());
            try {
                while (true) {
                    List<Row> chunk = cursor.next();
                    if (chunk.isEmpty()) {
                        break;
                    }
                    session.write(chunk);
                    rows += chunk.size();
                }
                session.commit();
            } finally {
                session.close();
            }
        } finally {
            cursor.close();
        }
        return rows;
    }

    /**
     * Distinct tasks (distinct ids) spread round-robin over lanes {@code lane-0 … lane-(lanes−1)}.
     *
     * @param count how many
     * @param lanes over how many lanes
     * @return the tasks
     */
    static Task[] tasks(int count, int lanes) {
        Task[] tasks = new Task[count];
        LocalDateTime start = LocalDateTime.of(2024, 3, 14, 0, 0);
        for (int i = 0; i < count; i++) {
            tasks[i] = Task.window(lane(i % lanes), "noop", Window.starting(start.plusMinutes(i), Duration.ofMinutes(1)));
        }
        return tasks;
    }

    static String lane(int i) {
        return "lane-" + i;
    }
}
