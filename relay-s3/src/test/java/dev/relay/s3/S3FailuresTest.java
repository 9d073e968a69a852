package dev.relay.s3;

import dev.relay.api.SinkException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which S3 failures a retry can fix, and that no credential survives into a message or a cause. */
class S3FailuresTest {

    static S3Exception s3(int status, String code, String message) {
        return (S3Exception) S3Exception.builder().statusCode(status).requestId("REQ1")
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(message).build()).message(message).build();
    }

    static SinkException translate(RuntimeException e) {
        return S3Failures.translate("PutObject", "s3://pems/k", "t1", e);
    }

    @Test
    void translate_eachKindOfFailure_isRetryableOnlyWhenARetryCanSucceed() {
        assertTrue(translate(s3(500, "InternalError", "We encountered an internal error")).retryable());
        assertTrue(translate(s3(503, "SlowDown", "Reduce your request rate")).retryable());
        assertTrue(translate(s3(400, "RequestTimeout", "idle")).retryable());
        assertTrue(translate(s3(400, "ExpiredToken", "The provided token has expired")).retryable());
        assertTrue(translate(s3(404, "NoSuchUpload", "gone")).retryable());
        assertTrue(translate(SdkClientException.create("Unable to execute HTTP request", new ConnectException("refused"))).retryable());

        SinkException bucket = translate(s3(404, "NoSuchBucket", "The specified bucket does not exist"));
        assertFalse(bucket.retryable());
        assertTrue(bucket.getMessage().contains("does not exist") && bucket.getMessage().contains("REQ1"), bucket.getMessage());
        assertFalse(translate(s3(403, "InvalidAccessKeyId", "unknown key")).retryable());
        assertFalse(translate(s3(403, "SignatureDoesNotMatch", "bad signature")).retryable());
        assertTrue(translate(s3(403, "AccessDenied", "Access Denied")).getMessage().contains("s3:PutObject"));
        assertFalse(translate(s3(301, "PermanentRedirect", "use the bucket's endpoint")).retryable());
        assertFalse(translate(s3(400, "EntityTooSmall", "part too small")).retryable());
        assertFalse(translate(SdkClientException.create("Unable to load credentials from any of the providers in the chain")).retryable());
    }

    @Test
    void redact_awsSecretsAndSigningMaterial_areMasked() {
        String text = "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY; X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE&"
                + " Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240314/us-west-2/s3/aws4_request, "
                + "SignedHeaders=host, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024 "
                + "<AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20240314</StringToSign>"
                + " jdbc:x://relay:hunter2@host password=hunter2";
        String out = S3Failures.redact(text);
        for (String secret : new String[] {"wJalrXUtnFEMI", "FQoGZXIvYXdz", "AKIAIOSFODNN7EXAMPLE", "fe5f80f77d5f", "hunter2",
                "AWS4-HMAC-SHA256\n20240314"}) {
            assertFalse(out.contains(secret), secret + " in " + out);
        }
        assertTrue(out.contains("SignedHeaders=host"), out);
    }

    @Test
    void translate_causeChain_isRedactedToo() {
        SdkClientException e = SdkClientException.create("call failed", new IllegalStateException(
                "secret=s3cr3t-value token=t0ken-value"));
        SinkException s = translate(e);
        StringWriter w = new StringWriter();
        s.printStackTrace(new PrintWriter(w));
        assertFalse(w.toString().contains("s3cr3t-value"), w.toString());
        assertFalse(w.toString().contains("t0ken-value"), w.toString());
        assertEquals(S3Failures.RedactedException.class, s.getCause().getClass());
    }
}
