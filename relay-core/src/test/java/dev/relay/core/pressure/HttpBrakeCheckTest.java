package dev.relay.core.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP check against an endpoint served by the test ({@code com.sun.net.httpserver}, a free port). */
class HttpBrakeCheckTest {

    HttpServer server;
    final AtomicInteger status = new AtomicInteger(200);
    final AtomicReference<String> body = new AtomicReference<>("go");
    final AtomicReference<String> authorization = new AtomicReference<>();
    final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/throttle", exchange -> {
            authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status.get(), b.length == 0 ? -1 : b.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(b);
            }
        });
        server.createContext("/hang", exchange -> {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    @Test
    void check_200_goes() throws Exception {
        BrakeCheck.Verdict v = BrakeCheck.http(uri("/throttle")).build().check();
        assertTrue(v.go());
        assertTrue(v.reason().startsWith("HTTP 200 from http://127.0.0.1:"), v.reason());
    }

    @Test
    void check_otherStatus_stopsQuotingTheBody() throws Exception {
        status.set(503);
        body.set("batch job running\n  until 03:00");
        BrakeCheck.Verdict v = BrakeCheck.http(uri("/throttle")).build().check();
        assertFalse(v.go());
        assertTrue(v.reason().startsWith("HTTP 503 from ") && v.reason().endsWith(": batch job running until 03:00"), v.reason());
        status.set(204);
        body.set("");
        assertFalse(BrakeCheck.http(uri("/throttle")).build().check().go(), "only 200 is go");
    }

    @Test
    void check_longBody_isCut() throws Exception {
        status.set(429);
        body.set("x".repeat(5_000));
        String reason = BrakeCheck.http(uri("/throttle")).build().check().reason();
        assertTrue(reason.length() < HttpBrakeCheck.BODY_QUOTE + 100, reason);
        assertTrue(reason.endsWith("…"));
    }

    @Test
    void check_sendsHeadersAndHidesTheQueryString() throws Exception {
        HttpBrakeCheck check = BrakeCheck.http(uri("/throttle?token=secret")).header("Authorization", "Bearer t0k3n").build();
        BrakeCheck.Verdict v = check.check();
        assertEquals("Bearer t0k3n", authorization.get());
        assertFalse(v.reason().contains("secret"), v.reason());
        assertFalse(check.toString().contains("secret"));
    }

    @Test
    void check_refusedConnection_throwsNamingTheEndpoint() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HttpBrakeCheck check = BrakeCheck.http(URI.create("http://127.0.0.1:" + port + "/throttle")).build();
        IOException e = assertThrows(IOException.class, check::check);
        assertTrue(e.getMessage().contains("127.0.0.1:" + port + "/throttle"), e.getMessage());
    }

    @Test
    void check_endpointThatDoesNotAnswer_timesOut() {
        HttpBrakeCheck check = BrakeCheck.http(uri("/hang")).timeout(Duration.ofMillis(200)).build();
        IOException e = assertThrows(IOException.class, check::check);
        assertTrue(e.getMessage().contains("/hang"), e.getMessage());
    }

    @Test
    void builder_badUriOrHeader_failsNamingIt() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BrakeCheck.http(URI.create("ftp://db/x")))
                .getMessage().contains("ftp://db/x"));
        assertThrows(IllegalArgumentException.class, () -> BrakeCheck.http(URI.create("http:///x")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BrakeCheck.http(uri("/t")).header("Host", "x"))
                .getMessage().contains("Host"));
        assertThrows(IllegalArgumentException.class, () -> BrakeCheck.http(uri("/t")).timeout(Duration.ZERO));
    }
}
