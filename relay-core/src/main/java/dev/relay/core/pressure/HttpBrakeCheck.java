package dev.relay.core.pressure;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A {@link BrakeCheck} over HTTP ({@code java.net.http}): {@code GET} an endpoint that the source's owners run;
 * status 200 is go, any other status is stop, with the start of the response body as the reason. A refused
 * connection or a timeout is an error (the {@link Brake}'s error policy decides; by default, stop). Redirects are
 * not followed. The URI's query string is left out of every message (it may hold a token).
 *
 * <p>Immutable and threadsafe. The HTTP client is built once, at {@link Builder#build()}, unless one is given.
 */
public final class HttpBrakeCheck implements BrakeCheck {

    /** The most characters of a response body quoted in a verdict's reason. */
    static final int BODY_QUOTE = 200;

    private final URI uri;
    private final String shown;
    private final Duration timeout;
    private final List<String> headers;
    private final HttpClient client;

    private HttpBrakeCheck(Builder b) {
        this.uri = b.uri;
        this.shown = shown(b.uri);
        this.timeout = b.timeout;
        this.headers = List.copyOf(b.headers);
        this.client = b.client != null ? b.client
                : HttpClient.newBuilder().connectTimeout(b.timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    static Builder builder(URI uri) {
        return new Builder(uri);
    }

    private static String shown(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "")
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    @Override
    public Verdict check() throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
        for (int i = 0; i < headers.size(); i += 2) {
            request.header(headers.get(i), headers.get(i + 1));
        }
        HttpResponse<InputStream> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new IOException("brake check GET " + shown + " failed: " + e, e);
        }
        String body;
        try (InputStream in = response.body()) {
            body = new String(in.readNBytes(BODY_QUOTE * 4), StandardCharsets.UTF_8).strip()
                    .replaceAll("\\s+", " ");
        }
        if (body.length() > BODY_QUOTE) {
            body = body.substring(0, BODY_QUOTE) + "…";
        }
        String reason = "HTTP " + response.statusCode() + " from " + shown + (body.isEmpty() ? "" : ": " + body);
        return response.statusCode() == 200 ? Verdict.go(reason) : Verdict.stop(reason);
    }

    /** @return the endpoint, without its query string */
    public String endpoint() {
        return shown;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "HTTP brake check GET %s (timeout %s)", shown, timeout);
    }

    /** Builds an {@link HttpBrakeCheck}. Not threadsafe; reusable after {@link #build()}. */
    public static final class Builder {
        private final URI uri;
        private Duration timeout = Duration.ofSeconds(2);
        private final List<String> headers = new ArrayList<>();
        private HttpClient client;

        private Builder(URI uri) {
            Objects.requireNonNull(uri, "uri");
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw new IllegalArgumentException("brake check URI must be http or https but was '" + shown(uri) + "'");
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                throw new IllegalArgumentException("brake check URI must name a host but was '" + shown(uri) + "'");
            }
            this.uri = uri;
        }

        /**
         * @param timeout how long one check may take, to connect and to answer; within (0, 1 min], default 2 s
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("brake check timeout must be within (0, 1 min] but was " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * @param name a request header's name (an authorization token, say)
         * @param value its value
         * @return this builder
         */
        public Builder header(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            try {
                HttpRequest.newBuilder(uri).header(name, value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("brake check header '" + name + "' cannot be set: " + e.getMessage(), e);
            }
            headers.add(name);
            headers.add(value);
            return this;
        }

        /**
         * @param client the HTTP client to use (its executor, proxy, TLS settings); by default one is built with the
         *     timeout as its connect timeout and redirects not followed
         * @return this builder
         */
        public Builder client(HttpClient client) {
            this.client = Objects.requireNonNull(client, "client");
            return this;
        }

        /** @return the check */
        public HttpBrakeCheck build() {
            return new HttpBrakeCheck(this);
        }
    }
}
