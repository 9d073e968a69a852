package dev.relay.s3;

import dev.relay.api.SinkException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns AWS SDK failures into {@link SinkException}s that say what failed, whether a retry can help, and what to do,
 * without a credential in any message along the cause chain (the redaction rules of relay-jdbc's redactor, plus
 * AWS's own secrets: secret keys, session tokens, signatures, access key ids and the signing material S3 echoes in
 * a {@code SignatureDoesNotMatch} error).
 *
 * <p>Retryable: 5xx, throttling, timeouts, expired session tokens (the SDK's provider chain refreshes them), an
 * upload that vanished, network failures. Not retryable (the task would fail again until an operator acts): a
 * missing bucket, rejected or missing credentials, a missing permission, a bucket in another region, and every other
 * 4xx.
 *
 * <p>Stateless and threadsafe.
 */
final class S3Failures {

    /** What replaces a secret. */
    static final String MASK = "***";

    private static final Set<String> RETRYABLE_CODES = Set.of("ExpiredToken", "TokenRefreshRequired",
            "RequestTimeTooSkewed", "RequestTimeout", "SlowDown", "Throttling", "ThrottlingException",
            "OperationAborted", "NoSuchUpload", "InternalError", "ServiceUnavailable");
    private static final Set<String> CREDENTIAL_CODES = Set.of("InvalidAccessKeyId", "SignatureDoesNotMatch",
            "InvalidToken", "InvalidSecurity", "AuthorizationHeaderMalformed");

    private static final Pattern KEY_VALUE = Pattern.compile(
            "(?i)\\b(password|passwd|pwd|passcode|secret|token|secret_?access_?key|aws_?secret_?access_?key|session_?token|"
                    + "security_?token|x-amz-security-token|x-amz-signature|x-amz-credential|signature|credential|"
                    + "access_?key(?:_?id)?|aws_?access_?key_?id|client_?secret|private_?key)"
                    + "(\\s*[=:]\\s*)(\"[^\"]*\"|'[^']*'|[^;&,\\s)\"'<]+)");
    private static final Pattern XML_SECRET = Pattern.compile(
            "(?is)<(AWSAccessKeyId|SignatureProvided|StringToSign|StringToSignBytes|CanonicalRequest|CanonicalRequestBytes|"
                    + "SecretAccessKey|SessionToken|Token)>.*?</\\1>");
    private static final Pattern ACCESS_KEY_ID = Pattern.compile("\\b(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\\b");
    private static final Pattern USER_INFO = Pattern.compile("((?://)?[\\w.%+-]+):([^@/\\s;?]+)@(?=[\\w.\\[-])");

    private S3Failures() {
    }

    /**
     * @param operation the S3 operation, e.g. {@code UploadPart}
     * @param target what it acted on, e.g. {@code s3://bucket/key}
     * @param taskId the task, or null
     * @param failure the SDK's exception
     * @return a sink exception with a redacted message and a redacted cause chain
     */
    static SinkException translate(String operation, String target, String taskId, RuntimeException failure) {
        String subject = "S3 " + operation + " of " + target + (taskId == null ? "" : " for task " + taskId);
        if (failure instanceof AwsServiceException aws) {
            int status = aws.statusCode();
            String code = aws.awsErrorDetails() == null ? null : aws.awsErrorDetails().errorCode();
            String message = aws.awsErrorDetails() == null ? aws.getMessage() : aws.awsErrorDetails().errorMessage();
            boolean retryable = status >= 500 || status == 429 || status == 408 || (code != null && RETRYABLE_CODES.contains(code));
            String detail = status + " " + (code == null ? "" : code + ": ") + (message == null ? "" : message)
                    + (aws.requestId() == null ? "" : " (request id " + aws.requestId() + ")");
            String hint = retryable ? "" : "; not retryable: " + hint(status, code);
            return new SinkException(redact(subject + " failed: " + detail + hint), sanitize(failure), retryable);
        }
        if (failure instanceof SdkClientException client) {
            String message = client.getMessage() == null ? "" : client.getMessage();
            String lower = message.toLowerCase(Locale.ROOT);
            if (lower.contains("unable to load credentials") || lower.contains("unable to load region")
                    || lower.contains("credentials must") || lower.contains("access key id cannot be blank")) {
                return new SinkException(redact(subject + " failed: " + rootMessage(failure) + "; not retryable: the SDK "
                        + "found no usable credentials or region (default provider chains: environment variables, Java "
                        + "system properties, ~/.aws profiles, web identity, container and instance credentials)"),
                        sanitize(failure), false);
            }
        }
        return new SinkException(redact(subject + " failed: " + rootMessage(failure)), sanitize(failure), true);
    }

    private static String hint(int status, String code) {
        if ("NoSuchBucket".equals(code)) {
            return "the bucket does not exist (or not for these credentials); create it or fix the sink's bucket";
        }
        if (code != null && CREDENTIAL_CODES.contains(code)) {
            return "S3 rejected the credentials the SDK's provider chain supplied; fix them (they are never logged)";
        }
        if ("AccessDenied".equals(code) || "AllAccessDisabled".equals(code) || status == 403) {
            return "the credentials lack a permission on the bucket: the sink needs s3:PutObject and "
                    + "s3:AbortMultipartUpload, and s3:ListBucket for verifyBucket(true), split tasks and abortStaleUploads(…)";
        }
        if (status == 301 || "PermanentRedirect".equals(code) || "IllegalLocationConstraintException".equals(code)) {
            return "the bucket is in another region than the S3 client's; build the client for the bucket's region";
        }
        return "S3 refused the request itself; a retry would be refused again";
    }

    /**
     * @param text any text, may be null
     * @return the text with secrets masked
     */
    static String redact(String text) {
        if (text == null) {
            return "null";
        }
        String out = XML_SECRET.matcher(text).replaceAll(m -> Matcher.quoteReplacement("<" + m.group(1) + ">" + MASK + "</" + m.group(1) + ">"));
        out = KEY_VALUE.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + MASK));
        out = ACCESS_KEY_ID.matcher(out).replaceAll(MASK);
        out = USER_INFO.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + ":" + MASK + "@"));
        return out;
    }

    /**
     * A copy of a failure's cause chain with redacted messages and the original stack traces: SDK exceptions are
     * attached as causes, and a logged stack trace prints every cause's message.
     *
     * @param failure a failure
     * @return a redacted copy, or null for null
     */
    static Throwable sanitize(Throwable failure) {
        return sanitize(failure, 0);
    }

    private static Throwable sanitize(Throwable failure, int depth) {
        if (failure == null || depth > 16) {
            return null;
        }
        Throwable copy = new RedactedException(failure.getClass().getName() + ": " + redact(failure.getMessage()));
        copy.setStackTrace(failure.getStackTrace());
        Throwable cause = failure.getCause();
        if (cause != null && cause != failure) {
            copy.initCause(sanitize(cause, depth + 1));
        }
        return copy;
    }

    /** The message of the innermost cause that has one, with its class's simple name. */
    static String rootMessage(Throwable failure) {
        String message = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t.getMessage() != null) {
                message = t.getClass().getSimpleName() + ": " + t.getMessage();
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return message == null ? failure.getClass().getName() : message;
    }

    /** A redacted stand-in for an exception of a cause chain. */
    static final class RedactedException extends Exception {
        private static final long serialVersionUID = 1L;

        RedactedException(String message) {
            super(message);
        }
    }
}
