import com.fasterxml.jackson.databind.node.ObjectNode;
import gen.tx.Customer;
import gen.tx.display_name;
import gen.tx.fee;
import gen.tx.outer_fails;
import gen.tx.outer_skips;
import gen.tx.outer_skips_undeclared;
import gen.tx.parse_amount;
import gen.tx.parse_or_dead_letter;
import gen.tx.parse_or_skip;
import gen.tx.split_evenly;
import java.math.BigDecimal;
import java.util.function.Supplier;
import nexflow.runtime.Errors;
import nexflow.runtime.Json;
import nexflow.runtime.OnError;

/**
 * Test harness: calls generated transforms (plain static functions, no Flink) and prints one JSON
 * object per call: the result, or the error's class, classification and reason.
 */
public final class TransformHarness {
    static void call(String name, Supplier<Object> f) {
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("call", name);
        try {
            Object value = f.get();
            out.put("result", value == null ? null : value.toString());
        } catch (RuntimeException e) {
            out.put("error", e.getClass().getSimpleName());
            out.put("classification", e instanceof OnError.Skip ? "skipped" : Errors.classify(e));
            out.put("reason", Errors.reason(e));
        }
        System.out.println(Json.toJson(out));
    }

    public static void main(String[] args) throws Exception {
        call("fee(100.00)", () -> fee.apply(new BigDecimal("100.00")));
        call("fee(0.01)", () -> fee.apply(new BigDecimal("0.01")));
        call("fee(null)", () -> fee.apply(null));
        call("split_evenly(10.00, 3)", () -> split_evenly.apply(new BigDecimal("10.00"), 3));
        call("split_evenly(10.00, 0)", () -> split_evenly.apply(new BigDecimal("10.00"), 0));
        Customer ann = new Customer();
        ann.customer_id = "c1";
        ann.name = "Ann";
        Customer nameless = new Customer();
        nameless.customer_id = "c2";
        call("display_name(null)", () -> display_name.apply(null));
        call("display_name(nameless)", () -> display_name.apply(nameless));
        call("display_name(ann)", () -> display_name.apply(ann));
        call("parse_amount(12.5)", () -> parse_amount.apply("12.5"));
        call("parse_amount(abc)", () -> parse_amount.apply("abc"));
        call("parse_or_skip(abc)", () -> parse_or_skip.apply("abc"));
        call("parse_or_skip(null)", () -> parse_or_skip.apply(null));
        call("outer_fails(abc)", () -> outer_fails.apply("abc"));
        call("outer_fails(2)", () -> outer_fails.apply("2"));
        call("parse_or_dead_letter(abc)", () -> parse_or_dead_letter.apply("abc"));
        call("outer_skips(abc)", () -> outer_skips.apply("abc"));
        call("outer_skips(2)", () -> outer_skips.apply("2"));
        call("outer_skips_undeclared(abc)", () -> outer_skips_undeclared.apply("abc"));
        call("map(1)", () -> {
            try {
                return new parse_amount.AsMapFunction().map("1");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }
}
