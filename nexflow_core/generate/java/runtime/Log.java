package nexflow.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Structured logging: every line a generated job logs is one JSON object with the event name,
 * the operator, the correlation id of the record (its key) and the record with sensitive fields
 * masked. Search logs by {@code correlation_id} to follow one business event through a job (a
 * sensitive key's token, never its value: {@link Tokens}). Details and stack traces carry no
 * value of a record ({@link Errors#message}).
 */
public final class Log {
    private static final Logger LOG = LoggerFactory.getLogger("nexflow");

    private Log() {}

    public static String line(String event, String operator, String correlationId, String detail, String maskedRecord) {
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("event", event);
        out.put("operator", operator);
        if (correlationId == null) {
            out.putNull("correlation_id");
        } else {
            out.put("correlation_id", correlationId);
        }
        if (detail != null) {
            out.put("detail", detail);
        }
        if (maskedRecord != null) {
            out.put("record", maskedRecord);
        }
        return Json.toJson(out);
    }

    public static void info(String event, String operator, String correlationId, String detail, String maskedRecord) {
        if (LOG.isInfoEnabled()) {
            LOG.info(line(event, operator, correlationId, detail, maskedRecord));
        }
    }

    public static void warn(String event, String operator, String correlationId, String detail, String maskedRecord) {
        if (LOG.isWarnEnabled()) {
            LOG.warn(line(event, operator, correlationId, detail, maskedRecord));
        }
    }

    public static void error(String event, String operator, String correlationId, String detail, Throwable error) {
        // The stack trace without the messages' values (Errors.redacted).
        LOG.error(line(event, operator, correlationId, detail, null), Errors.redacted(error));
    }
}
