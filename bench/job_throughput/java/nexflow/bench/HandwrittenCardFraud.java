package nexflow.bench;

// Named although in the same package: Pants infers this file's dependency from the import.
import nexflow.bench.AuthorizationEvents;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The card-fraud screen (examples/card-fraud/card_fraud.proc) as a Flink developer would write it
 * by hand with the DataStream API: parse and validate, event time with a one-minute bound, per
 * card (keyed state) drop resends and count the hour's and the day's authorizations and spend,
 * then the profile lookup, the risk signals, the decision table, alerts; late authorizations and
 * dead letters on side outputs. Inputs and outputs are JSON lines, as for the generated job.
 */
public final class HandwrittenCardFraud {
    static final OutputTag<String> DEAD_LETTERS = new OutputTag<>("dead-letters", Types.STRING);
    static final OutputTag<String> LATE = new OutputTag<>("late", Types.STRING);
    static final OutputTag<String> ALERTS = new OutputTag<>("alerts", Types.STRING);

    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;

    private HandwrittenCardFraud() {}

    /** An authorization as read (the fields the screen uses; the raw line for the late stream). */
    public static final class Auth {
        public String authId;
        public String cardId;
        public BigDecimal billingAmount;
        public String merchantName;
        public String mcc;
        public String merchantCountry;
        public String cardCountry;
        public String channel;
        public long eventTime;
        public String line;

        public Auth() {}
    }

    /** An authorization with its card's velocity. */
    public static final class Checked {
        public Auth auth;
        public long auths1h;
        public BigDecimal spend1h;
        public long auths24h;
        public BigDecimal spend24h;

        public Checked() {}
    }

    public static void build(StreamExecutionEnvironment env, Source<String, ?, ?> source,
            Map<String, AuthorizationEvents.Profile> profiles, Sink<String> decisions, Sink<String> alerts, Sink<String> late,
            Sink<String> deadLetters) {
        SingleOutputStreamOperator<Auth> auths = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "authorizations")
                .process(new Parse())
                .name("parse");
        SingleOutputStreamOperator<Checked> checked = auths
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Auth>forBoundedOutOfOrderness(Duration.ofMinutes(1))
                        .withTimestampAssigner((auth, previous) -> auth.eventTime))
                .keyBy(auth -> auth.cardId, Types.STRING)
                .process(new CardVelocity())
                .name("resends and velocity");
        SingleOutputStreamOperator<String> decided = checked
                .process(new Screen(profiles))
                .name("screen");
        decided.sinkTo(decisions).name("auth_decisions");
        decided.getSideOutput(ALERTS).sinkTo(alerts).name("cardholder_alerts");
        checked.getSideOutput(LATE).sinkTo(late).name("late_authorizations");
        DataStream<String> dead = auths.getSideOutput(DEAD_LETTERS);
        dead.sinkTo(deadLetters).name("auth_dead_letters");
    }

    /** JSON line to Auth; anything unreadable or invalid becomes a dead letter. */
    static final class Parse extends ProcessFunction<String, Auth> {
        private static final Pattern MCC = Pattern.compile("[0-9]{4}");
        private static final Pattern COUNTRY = Pattern.compile("[A-Z]{2}");
        private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");
        private static final Set<String> CHANNELS = Set.of("CHIP", "CONTACTLESS", "MAGSTRIPE", "ECOMMERCE", "MAIL_PHONE", "ATM");
        private static final BigDecimal MIN = new BigDecimal("0.01");
        private static final BigDecimal MAX = new BigDecimal("999999.99");
        private transient ObjectMapper json;

        @Override
        public void open(OpenContext context) {
            json = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        }

        @Override
        public void processElement(String line, Context ctx, Collector<Auth> out) {
            JsonNode node;
            try {
                node = json.readTree(line);
            } catch (Exception e) {
                ctx.output(DEAD_LETTERS, deadLetter("MALFORMED_INPUT", e.getMessage(), line));
                return;
            }
            List<String> violations = new ArrayList<>();
            Auth a = new Auth();
            a.authId = text(node, "auth_id", null, violations);
            a.cardId = text(node, "card_id", null, violations);
            BigDecimal amount = amount(node, "amount", violations);
            text(node, "currency", CURRENCY, violations);
            a.billingAmount = amount(node, "billing_amount", violations);
            text(node, "merchant_id", null, violations);
            a.merchantName = text(node, "merchant_name", null, violations);
            a.mcc = text(node, "mcc", MCC, violations);
            a.merchantCountry = text(node, "merchant_country", COUNTRY, violations);
            a.cardCountry = text(node, "card_country", COUNTRY, violations);
            a.channel = text(node, "channel", null, violations);
            String time = text(node, "event_time", null, violations);
            if (a.cardId != null && (a.cardId.isEmpty() || a.cardId.length() > 64)) {
                violations.add("card_id");
            }
            if (a.channel != null && !CHANNELS.contains(a.channel)) {
                ctx.output(DEAD_LETTERS, deadLetter("MALFORMED_INPUT", "unknown channel " + a.channel, line));
                return;
            }
            try {
                a.eventTime = time == null ? 0L : Instant.parse(time).toEpochMilli();
            } catch (Exception e) {
                ctx.output(DEAD_LETTERS, deadLetter("MALFORMED_INPUT", e.getMessage(), line));
                return;
            }
            if (amount == null && !violations.contains("amount")) {
                violations.add("amount");
            }
            if (!violations.isEmpty()) {
                ctx.output(DEAD_LETTERS, deadLetter("VALIDATION_FAILED", String.join(",", violations), line));
                return;
            }
            a.line = line;
            out.collect(a);
        }

        private static String text(JsonNode node, String field, Pattern pattern, List<String> violations) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                violations.add(field);
                return null;
            }
            String s = v.asText();
            if (pattern != null && !pattern.matcher(s).matches()) {
                violations.add(field);
            }
            return s;
        }

        private static BigDecimal amount(JsonNode node, String field, List<String> violations) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                violations.add(field);
                return null;
            }
            try {
                BigDecimal d = new BigDecimal(v.asText());
                if (d.compareTo(MIN) < 0 || d.compareTo(MAX) > 0 || d.scale() > 2) {
                    violations.add(field);
                    return null;
                }
                return d.setScale(2);
            } catch (NumberFormatException e) {
                violations.add(field);
                return null;
            }
        }

        private String deadLetter(String reason, String detail, String line) {
            ObjectNode dead = json.createObjectNode();
            dead.put("reason", reason);
            dead.put("detail", detail);
            dead.put("input", line);
            return dead.toString();
        }
    }

    /**
     * Per card: drops a resend (same auth_id as the card's previous authorization), sends a late
     * authorization aside, and counts the card's authorizations and spend in the hour and the 24
     * hours up to each one (that one included) from one list of (time, amount) the card keeps
     * for a day.
     */
    static final class CardVelocity extends KeyedProcessFunction<String, Auth, Checked> {
        private transient ValueState<String> previousAuthId;
        private transient ListState<Tuple2<Long, BigDecimal>> recent;

        @Override
        public void open(OpenContext context) {
            ValueStateDescriptor<String> previous = new ValueStateDescriptor<>("previous_auth_id", Types.STRING);
            previous.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofMinutes(10)).build());
            previousAuthId = getRuntimeContext().getState(previous);
            recent = getRuntimeContext().getListState(
                    new ListStateDescriptor<>("recent", Types.TUPLE(Types.LONG, Types.BIG_DEC)));
        }

        @Override
        public void processElement(Auth auth, Context ctx, Collector<Checked> out) throws Exception {
            if (auth.authId.equals(previousAuthId.value())) {
                return;
            }
            previousAuthId.update(auth.authId);
            long time = ctx.timestamp();
            long watermark = ctx.timerService().currentWatermark();
            if (watermark != Long.MIN_VALUE && time <= watermark) {
                ctx.output(LATE, auth.line);
                return;
            }
            // Entries no later authorization can count any more: a day before the watermark.
            long horizon = watermark == Long.MIN_VALUE ? Long.MIN_VALUE : watermark - DAY;
            Checked c = new Checked();
            c.auth = auth;
            c.auths1h = 1;
            c.spend1h = auth.billingAmount;
            c.auths24h = 1;
            c.spend24h = auth.billingAmount;
            List<Tuple2<Long, BigDecimal>> keep = new ArrayList<>();
            for (Tuple2<Long, BigDecimal> e : recent.get()) {
                long t = e.f0;
                if (t <= horizon) {
                    continue;
                }
                keep.add(e);
                if (t > time) {
                    continue;
                }
                if (t > time - DAY) {
                    c.auths24h++;
                    c.spend24h = c.spend24h.add(e.f1);
                    if (t > time - HOUR) {
                        c.auths1h++;
                        c.spend1h = c.spend1h.add(e.f1);
                    }
                }
            }
            keep.add(Tuple2.of(time, auth.billingAmount));
            recent.update(keep);
            out.collect(c);
        }
    }

    /** Profile lookup, risk signals, the FraudDecision table; writes the decision and any alert. */
    static final class Screen extends ProcessFunction<Checked, String> {
        private static final Set<String> GAMBLING = Set.of("7995", "7800", "7801", "7802");
        private static final Set<String> QUASI_CASH = Set.of("4829", "6051", "6540");
        private static final BigDecimal SPEND_1H = new BigDecimal("2500");
        private static final BigDecimal SPEND_24H = new BigDecimal("5000");
        private static final BigDecimal FIVE = new BigDecimal("5");
        private final Map<String, AuthorizationEvents.Profile> profiles;
        private transient ObjectMapper json;

        Screen(Map<String, AuthorizationEvents.Profile> profiles) {
            this.profiles = profiles;
        }

        @Override
        public void open(OpenContext context) {
            json = new ObjectMapper();
        }

        @Override
        public void processElement(Checked c, Context ctx, Collector<String> out) {
            Auth a = c.auth;
            AuthorizationEvents.Profile p = profiles.get(a.cardId);
            boolean cnp = a.channel.equals("ECOMMERCE") || a.channel.equals("MAIL_PHONE");
            String home = p != null && p.homeCountry != null ? p.homeCountry : a.cardCountry;
            boolean travelling = p != null && a.merchantCountry.equals(p.travelCountry)
                    && p.travelUntilMillis != null && a.eventTime <= p.travelUntilMillis;
            boolean crossBorder = !a.merchantCountry.equals(home) && !travelling;
            boolean unusual = p != null && a.billingAmount.compareTo(p.typicalSpend.multiply(FIVE)) > 0;
            boolean gambling = GAMBLING.contains(a.mcc);
            boolean quasiCash = QUASI_CASH.contains(a.mcc);

            String decision;
            String reason;
            if (gambling) {
                decision = "DECLINE";
                reason = "BLOCKED_MCC";
            } else if (quasiCash && cnp) {
                decision = "DECLINE";
                reason = "QUASI_CASH_CNP";
            } else if (c.auths1h >= 5) {
                decision = "DECLINE";
                reason = "VELOCITY_COUNT_1H";
            } else if (c.spend1h.compareTo(SPEND_1H) > 0) {
                decision = "DECLINE";
                reason = "VELOCITY_AMOUNT_1H";
            } else if (quasiCash) {
                decision = "REVIEW";
                reason = "QUASI_CASH";
            } else if (c.auths24h >= 8) {
                decision = "REVIEW";
                reason = "VELOCITY_COUNT_24H";
            } else if (c.spend24h.compareTo(SPEND_24H) > 0) {
                decision = "REVIEW";
                reason = "VELOCITY_AMOUNT_24H";
            } else if (p == null) {
                decision = "REVIEW";
                reason = "UNKNOWN_CARD";
            } else if (cnp && crossBorder) {
                decision = "REVIEW";
                reason = "CROSS_BORDER_CNP";
            } else if (unusual) {
                decision = "REVIEW";
                reason = "UNUSUAL_AMOUNT";
            } else {
                decision = "APPROVE";
                reason = "NO_RISK_SIGNAL";
            }

            String customerId = p == null ? null : p.customerId;
            String eventTime = Instant.ofEpochMilli(a.eventTime).toString();
            ObjectNode d = json.createObjectNode();
            d.put("auth_id", a.authId);
            d.put("card_id", a.cardId);
            d.put("customer_id", customerId);
            d.put("decision", decision);
            d.put("reason", reason);
            d.put("billing_amount", a.billingAmount);
            d.put("merchant_name", a.merchantName);
            d.put("mcc", a.mcc);
            d.put("merchant_country", a.merchantCountry);
            d.put("channel", a.channel);
            d.put("auths_1h", c.auths1h);
            d.put("spend_1h", c.spend1h);
            d.put("auths_24h", c.auths24h);
            d.put("spend_24h", c.spend24h);
            d.put("event_time", eventTime);
            out.collect(d.toString());

            if (!decision.equals("APPROVE") && customerId != null) {
                String amount = a.billingAmount.toPlainString();
                ObjectNode alert = json.createObjectNode();
                alert.put("auth_id", a.authId);
                alert.put("customer_id", customerId);
                alert.put("card_id", a.cardId);
                alert.put("decision", decision);
                alert.put("reason", reason);
                alert.put("message", decision.equals("DECLINE")
                        ? "Your card was declined at " + a.merchantName + " for " + amount + " USD. Call us if this was you."
                        : "Did you just pay " + amount + " USD at " + a.merchantName + "? Reply YES or NO.");
                alert.put("event_time", eventTime);
                ctx.output(ALERTS, alert.toString());
            }
        }
    }
}
