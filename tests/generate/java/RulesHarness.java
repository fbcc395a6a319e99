import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gen.rules.Adjust;
import gen.rules.AnyBig;
import gen.rules.CollectLabels;
import gen.rules.CountHits;
import gen.rules.FirstLabel;
import gen.rules.Level;
import gen.rules.MaxScore;
import gen.rules.MinScore;
import gen.rules.PaymentEvent;
import gen.rules.PaymentValidation;
import gen.rules.PriorityAction;
import gen.rules.Routing;
import gen.rules.SumScore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import nexflow.runtime.Json;
import nexflow.runtime.RuleOutcome;

/** Test harness: evaluates the generated rulesets and decision tables on each input record. */
public final class RulesHarness {
    static ObjectNode outcome(RuleOutcome<PaymentEvent> o) {
        ObjectNode out = Json.mapper().createObjectNode();
        ArrayNode fired = out.putArray("fired");
        o.firedRules().forEach(fired::add);
        ArrayNode flags = out.putArray("flags");
        o.flags().forEach(flags::add);
        out.put("reject", o.rejectReason());
        out.put("route", o.route());
        ArrayNode alerts = out.putArray("alerts");
        o.alerts().forEach(a -> alerts.add(a.toString()));
        out.set("record", Json.mapper().valueToTree(o.record()));
        return out;
    }

    static Object guard(java.util.function.Supplier<Object> f) {
        try {
            return f.get();
        } catch (RuntimeException e) {
            return "ERROR " + e.getClass().getSimpleName();
        }
    }

    public static void main(String[] args) throws Exception {
        for (String line : Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8)) {
            PaymentEvent p = Json.mapper().readValue(line, PaymentEvent.class);
            String before = Json.toJson(p);
            ObjectNode out = Json.mapper().createObjectNode();
            out.set("validation", outcome(PaymentValidation.evaluate(p)));
            out.set("routing", outcome(Routing.evaluate(p)));
            out.set("adjust", outcome(Adjust.evaluate(p)));
            out.put("input_unchanged", before.equals(Json.toJson(p)));
            out.set("level", Json.mapper().valueToTree(guard(() -> Level.evaluate(p))));
            out.set("first", Json.mapper().valueToTree(guard(() -> FirstLabel.evaluate(p))));
            out.set("priority", Json.mapper().valueToTree(guard(() -> PriorityAction.evaluate(p))));
            out.set("any", Json.mapper().valueToTree(guard(() -> AnyBig.evaluate(p))));
            out.set("collect", Json.mapper().valueToTree(guard(() -> CollectLabels.evaluate(p))));
            out.set("sum", Json.mapper().valueToTree(guard(() -> SumScore.evaluate(p))));
            out.set("min", Json.mapper().valueToTree(guard(() -> MinScore.evaluate(p))));
            out.set("max", Json.mapper().valueToTree(guard(() -> MaxScore.evaluate(p))));
            out.set("count", Json.mapper().valueToTree(guard(() -> CountHits.evaluate(p))));
            System.out.println(Json.toJson(out));
        }
    }
}
