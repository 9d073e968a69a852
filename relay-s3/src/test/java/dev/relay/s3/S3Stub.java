package dev.relay.s3;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback HTTP server that answers every request the way S3 answers a request signed with an unknown access
 * key: {@code 403 InvalidAccessKeyId} with S3's XML error body, which (like S3's own {@code SignatureDoesNotMatch}
 * body) echoes the access key id and, here, the request's {@code Authorization} header. S3Mock accepts any
 * credentials, so this is how the tests see the sink's handling of rejected ones.
 */
final class S3Stub implements AutoCloseable {

    private final HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();

    private S3Stub(HttpServer server) {
        this.server = server;
    }

    /** @return a started stub on a free loopback port */
    static S3Stub rejectingCredentials() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        S3Stub stub = new S3Stub(server);
        server.createContext("/", exchange -> {
            stub.requests.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            String key = auth != null && auth.contains("Credential=") ? auth.substring(auth.indexOf("Credential=") + 11).split("/")[0] : "";
            String body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidAccessKeyId</Code>"
                    + "<Message>The AWS Access Key Id you provided does not exist in our records. Authorization=" + auth
                    + "</Message><AWSAccessKeyId>" + key + "</AWSAccessKeyId><RequestId>STUB0001</RequestId>"
                    + "<HostId>stub</HostId></Error>";
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/xml");
            exchange.getResponseHeaders().add("x-amz-request-id", "STUB0001");
            if ("HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(403, -1);
            } else {
                exchange.sendResponseHeaders(403, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
            exchange.close();
        });
        server.start();
        return stub;
    }

    /** @return the endpoint */
    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** @return requests answered so far */
    int requests() {
        return requests.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
