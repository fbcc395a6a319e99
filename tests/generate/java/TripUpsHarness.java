import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gen.trip.Labels;
import gen.trip.Points;
import gen.trip.Tie;
import gen.trip.Trip;
import gen.trip.TripContract;
import gen.trip.dec_div;
import gen.trip.dec_div_8;
import gen.trip.dec_rem;
import gen.trip.in_list;
import gen.trip.int_div;
import gen.trip.int_rem;
import gen.trip.not_in_list;
import gen.trip.round_one;
import gen.trip.round_whole;
import gen.trip.store_two;
import gen.trip.whole_match;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import nexflow.runtime.Errors;
import nexflow.runtime.Json;
import nexflow.runtime.Parsed;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.MergingWindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;

/**
 * Test harness for what users trip over (docs/language/*.md): calls generated transforms and
 * tables, decodes JSON lines as a source does, and asks the session-window assigner the
 * generated jobs use whether two records' sessions merge. One JSON object per line.
 * Usage: TripUpsHarness <input lines file>
 */
public final class TripUpsHarness {
    static void call(String name, Supplier<Object> f) {
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("call", name);
        try {
            Object value = f.get();
            out.put("result", value == null ? null : value.toString());
        } catch (RuntimeException e) {
            out.put("error", e.getClass().getSimpleName());
            out.put("reason", Errors.reason(e));
        }
        System.out.println(Json.toJson(out));
    }

    static Trip trip(String amount) {
        Trip t = new Trip();
        t.id = "t";
        t.amount = new BigDecimal(amount);
        return t;
    }

    /** The sessions of records at these times (ms) with a gap of {@code gap} ms, merged as Flink merges them. */
    static List<String> sessions(long gap, long... times) {
        EventTimeSessionWindows assigner = EventTimeSessionWindows.withGap(Duration.ofMillis(gap));
        List<TimeWindow> windows = new ArrayList<>();
        for (long t : times) {
            for (TimeWindow w : assigner.assignWindows("record", t, null)) {
                windows.add(w);
            }
        }
        List<TimeWindow> merged = new ArrayList<>(windows);
        assigner.mergeWindows(windows, new MergingWindowAssigner.MergeCallback<TimeWindow>() {
            @Override
            public void merge(Collection<TimeWindow> toBeMerged, TimeWindow mergeResult) {
                merged.removeAll(toBeMerged);
                merged.add(mergeResult);
            }
        });
        List<String> out = new ArrayList<>();
        for (TimeWindow w : merged) {
            out.add("[" + w.getStart() + "," + w.getEnd() + ")");
        }
        out.sort(null);
        return out;
    }

    public static void main(String[] args) throws Exception {
        call("int_div(7, 2)", () -> int_div.apply(7, 2));
        call("int_div(2, 3)", () -> int_div.apply(2, 3));
        call("dec_div(10.00, 3.00)", () -> dec_div.apply(new BigDecimal("10.00"), new BigDecimal("3.00")));
        call("dec_div_8(1.00000000, 3.00)",
                () -> dec_div_8.apply(new BigDecimal("1.00000000"), new BigDecimal("3.00")));
        call("dec_div(1.00, 0.00)", () -> dec_div.apply(new BigDecimal("1.00"), new BigDecimal("0.00")));
        call("int_rem(-7, 3)", () -> int_rem.apply(-7, 3));
        call("int_rem(7, -3)", () -> int_rem.apply(7, -3));
        call("dec_rem(-7.50, 2.00)", () -> dec_rem.apply(new BigDecimal("-7.50"), new BigDecimal("2.00")));
        call("round_whole(2.50)", () -> round_whole.apply(new BigDecimal("2.50")));
        call("round_whole(3.50)", () -> round_whole.apply(new BigDecimal("3.50")));
        call("round_whole(-2.51)", () -> round_whole.apply(new BigDecimal("-2.51")));
        call("round_one(1.25)", () -> round_one.apply(new BigDecimal("1.25")));
        call("round_one(1.35)", () -> round_one.apply(new BigDecimal("1.35")));
        call("store_two(1.0050)", () -> store_two.apply(new BigDecimal("1.0050")));
        call("store_two(1.0150)", () -> store_two.apply(new BigDecimal("1.0150")));
        call("store_two(1.0051)", () -> store_two.apply(new BigDecimal("1.0051")));
        call("in_list(null)", () -> in_list.apply(null));
        call("not_in_list(null)", () -> not_in_list.apply(null));
        call("not_in_list(C)", () -> not_in_list.apply("C"));
        call("whole_match(123)", () -> whole_match.apply("123"));
        call("whole_match(123a)", () -> whole_match.apply("123a"));
        call("whole_match(a123)", () -> whole_match.apply("a123"));
        call("Tie(30)", () -> Tie.evaluate(trip("30")));
        call("Points(30)", () -> Points.evaluate(trip("30")));
        call("Labels(30)", () -> Labels.evaluate(trip("30")));
        call("sessions(gap 900000: 0, 900000)", () -> sessions(900_000L, 0L, 900_000L));
        call("sessions(gap 900000: 0, 900001)", () -> sessions(900_000L, 0L, 900_001L));
        call("sessions(gap 900000: 0, 899999)", () -> sessions(900_000L, 0L, 899_999L));
        for (String line : Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8)) {
            ObjectNode out = Json.mapper().createObjectNode();
            out.put("line", line);
            Parsed<Trip> parsed = Parsed.decode("trips", TripContract.INSTANCE, line);
            if (parsed.isRecord()) {
                out.set("record", Json.mapper().readTree(Json.toJson(parsed.record)));
            } else {
                JsonNode envelope = Json.mapper().readTree(parsed.deadLetter);
                out.put("reason", parsed.reason);
                out.set("violations", envelope.get("violations"));
            }
            System.out.println(Json.toJson(out));
        }
    }
}
