package nexflow.runtime;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.util.OutputTag;

/**
 * Alerts raised by rules ({@code emit alert "message" severity s}): every operator sends them
 * to the {@link #ALERT} side output as one JSON object each, {@code {"proc", "ruleset", "rule",
 * "message", "severity", "correlation_id", "record"}} (the record masked), and logs them.
 */
public final class Alerts {
    /** The side output alerts go to. */
    public static final OutputTag<String> ALERT = new OutputTag<>("nexflow-alert", Types.STRING);

    private Alerts() {}

    public static String envelope(
            String proc, String ruleset, RuleOutcome.Alert alert, String correlationId, String maskedRecord) {
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("proc", proc);
        out.put("ruleset", ruleset);
        out.put("rule", alert.rule);
        out.put("message", alert.message);
        if (alert.severity == null) {
            out.putNull("severity");
        } else {
            out.put("severity", alert.severity);
        }
        if (correlationId == null) {
            out.putNull("correlation_id");
        } else {
            out.put("correlation_id", correlationId);
        }
        out.put("record", maskedRecord);
        Log.warn("alert", proc + "/" + ruleset + "/" + alert.rule, correlationId, alert.message, null);
        return Json.toJson(out);
    }
}
