package dev.relay.jdbc;

import java.sql.SQLException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes credentials from text that may reach a log or an exception message: JDBC URLs with
 * {@code password=…}, {@code user:password@host} and Oracle's {@code user/password@host}, and the messages of
 * driver exceptions (some drivers repeat the URL they were given).
 *
 * <p>Stateless and threadsafe.
 */
final class Redactor {

    /** What replaces a secret. */
    static final String MASK = "***";

    /** key=value pairs whose value is a secret; the value ends at ; & , whitespace ) or a quote. */
    private static final Pattern KEY_VALUE = Pattern.compile(
            "(?i)\\b(password|passwd|pwd|passcode|secret|token|private_?key(?:_?pwd)?|private_?key_?file_?pwd|access_?key|"
                    + "client_?secret|oauth_?token|sslpassword|proxy_?password)(\\s*=\\s*)(\"[^\"]*\"|'[^']*'|[^;&,\\s)\"']+)");

    /** password: value (properties or YAML echoed in a message); only for password words, so "token: x" stays. */
    private static final Pattern PASSWORD_COLON = Pattern.compile(
            "(?i)\\b(password|passwd|pwd|passcode)(\\s*:\\s*)(\"[^\"]*\"|'[^']*'|[^;&,\\s)\"']+)");

    /**
     * user:password@host, after {@code //} or alone: drivers that do not parse user info echo it as a host name
     * (PostgreSQL: {@code UnknownHostException: relay:secret@127.0.0.1}).
     */
    private static final Pattern USER_INFO = Pattern.compile("((?://)?[\\w.%+-]+):([^@/\\s;?]+)@(?=[\\w.\\[-])");

    /** Oracle thin: jdbc:oracle:thin:user/password@host */
    private static final Pattern ORACLE_THIN = Pattern.compile("(?i)(jdbc:oracle:[a-z]+:[^/@\\s:]+)/([^@\\s]+)@");

    private Redactor() {
    }

    /**
     * @param text any text, may be null
     * @return the text with credentials masked ("null" for null)
     */
    static String redact(String text) {
        if (text == null) {
            return "null";
        }
        String out = text;
        if (out.toLowerCase(Locale.ROOT).matches("(?s).*(pass|pwd|secret|token|key).*")) {
            out = KEY_VALUE.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + MASK));
            out = PASSWORD_COLON.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + m.group(2) + MASK));
        }
        out = USER_INFO.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + ":" + MASK + "@"));
        out = ORACLE_THIN.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + "/" + MASK + "@"));
        return out;
    }

    /**
     * A copy of a failure whose messages, along the whole cause chain, are redacted, keeping classes where
     * they are SQLExceptions (with SQL state and vendor code) and the stack traces. Exceptions are attached as
     * causes to relay's own exceptions, and a logged stack trace prints every cause's message.
     *
     * @param failure a failure from a driver or from Jdbi
     * @return a redacted copy
     */
    static Throwable sanitize(Throwable failure) {
        return sanitize(failure, 0);
    }

    private static Throwable sanitize(Throwable failure, int depth) {
        if (failure == null || depth > 16) {
            return null;
        }
        Throwable copy;
        if (failure instanceof SQLException sql) {
            SQLException s = new SQLException(failure.getClass().getName() + ": " + redact(sql.getMessage()),
                    sql.getSQLState(), sql.getErrorCode());
            SQLException next = sql.getNextException();
            if (next != null && depth < 16) {
                Throwable n = sanitize(next, depth + 1);
                if (n instanceof SQLException ns) {
                    s.setNextException(ns);
                }
            }
            copy = s;
        } else {
            copy = new RedactedException(failure.getClass().getName() + ": " + redact(failure.getMessage()));
        }
        copy.setStackTrace(failure.getStackTrace());
        Throwable cause = failure.getCause();
        if (cause != null && cause != failure) {
            copy.initCause(sanitize(cause, depth + 1));
        }
        return copy;
    }

    /**
     * @param failure a failure
     * @return the message of its innermost cause that has one, redacted
     */
    static String rootMessage(Throwable failure) {
        String message = null;
        for (Throwable t = failure; t != null && t.getCause() != t; t = t.getCause()) {
            if (t.getMessage() != null) {
                message = t.getClass().getSimpleName() + ": " + t.getMessage();
            }
            if (t.getCause() == null) {
                break;
            }
        }
        return redact(message == null ? failure.getClass().getName() : message);
    }

    /**
     * @param failure a failure
     * @return its first SQLException along the cause chain, or null
     */
    static SQLException sqlException(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                return s;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    /** A redacted stand-in for a non-SQL exception of a cause chain. */
    static final class RedactedException extends Exception {
        private static final long serialVersionUID = 1L;

        RedactedException(String message) {
            super(message);
        }
    }
}
