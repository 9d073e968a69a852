package dev.relay.core.pressure;

import com.sun.net.httpserver.HttpServer;
import dev.relay.api.Puller;
import dev.relay.api.Row;
import dev.relay.api.RowCursor;
import dev.relay.api.RowSchema;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The brake end to end on real threads, with an HTTP check served by the test ({@code com.sun.net.httpserver} on a
 * free port): while it answers 503, no new pull starts, and the pulls in flight finish.
 */
class HttpBrakeRelayTest {

    @Test
    void httpBrake_503_startsNoPullAndLetsPullsInFlightFinish() throws Exception {
        AtomicInteger status = new AtomicInteger(200);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/throttle", exchange -> {
            byte[] body = (status.get() == 200 ? "go" : "batch job running").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status.get(), body.length);
            try (var out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        // pulls wait on a gate while it is closed: they are in flight on the "source" until the test opens it
        AtomicReference<CountDownLatch> gate = new AtomicReference<>(new CountDownLatch(0));
        AtomicInteger waiting = new AtomicInteger();
        Puller puller = task -> new RowCursor() {
            boolean done;

            @Override
            public RowSchema schema() {
                return BrakeRelayHarness.SCHEMA;
            }

            @Override
            public List<Row> next() {
                if (done) {
                    return List.of();
                }
                CountDownLatch g = gate.get();
                waiting.incrementAndGet();
                try {
                    if (!g.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("gate never opened");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                } finally {
                    waiting.decrementAndGet();
                }
                done = true;
                return List.of(Row.of(BrakeRelayHarness.SCHEMA, 1), Row.of(BrakeRelayHarness.SCHEMA, 2));
            }

            @Override
            public void cancel() {
            }

            @Override
            public void close() {
            }
        };
        Brake brake = Brake.builder(BrakeCheck.http(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/throttle"))
                .timeout(Duration.ofSeconds(5)).build()).interval(Duration.ofMillis(50)).build();
        try (BrakeRelayHarness h = new BrakeRelayHarness(puller, brake)) {
            CountDownLatch held = new CountDownLatch(1);
            h.run(() -> gate.set(held), () -> waiting.get() == 2, () -> status.set(503), held::countDown,
                    () -> status.set(200));
        } finally {
            server.stop(0);
        }
    }
}
