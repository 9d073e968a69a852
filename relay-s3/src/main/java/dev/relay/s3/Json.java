package dev.relay.s3;

import dev.relay.api.Task;

import java.util.Map;

/**
 * The little JSON this module writes (the meta column, the footer's parameters): objects of strings, keys in the
 * order given. Stateless and threadsafe.
 */
final class Json {

    private Json() {
    }

    /**
     * @param task a task
     * @return {@code {"relay_task_id":…,"source":…,"scope":…,"parameters":{…}}}: what the task pulls, nothing of
     *     its attempt or lane
     */
    static String taskMeta(Task task) {
        StringBuilder sb = new StringBuilder(160).append('{');
        field(sb, "relay_task_id", task.id()).append(',');
        field(sb, "source", task.source()).append(',');
        field(sb, "scope", task.scope().canonical()).append(',');
        string(sb, "parameters").append(':').append(object(task.parameters()));
        return sb.append('}').toString();
    }

    /**
     * @param values string values by key
     * @return a JSON object of them
     */
    static String object(Map<String, String> values) {
        StringBuilder sb = new StringBuilder().append('{');
        boolean first = true;
        for (Map.Entry<String, String> e : values.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            field(sb, e.getKey(), e.getValue());
        }
        return sb.append('}').toString();
    }

    private static StringBuilder field(StringBuilder sb, String key, String value) {
        return string(string(sb, key).append(':'), value);
    }

    private static StringBuilder string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"':
                    sb.append("\\\"");
                    break;
                case '\\':
                    sb.append("\\\\");
                    break;
                case '\n':
                    sb.append("\\n");
                    break;
                case '\r':
                    sb.append("\\r");
                    break;
                case '\t':
                    sb.append("\\t");
                    break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"');
    }
}
