package nexflow.bench;

// Named although in the same package: Pants infers this file's dependency from the import.
import nexflow.bench.AuthorizationEvents;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.functions.TableFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The card-fraud screen in Flink SQL. The JSON lines become rows of text fields outside SQL (what
 * a table's {@code 'format' = 'json'} does; an unreadable line is a dead letter); everything else
 * is SQL: validation, resends (ROW_NUMBER deduplication), velocity (OVER windows on event time),
 * the profile lookup (a table function joined LATERAL), the signals and the decision table (CASE).
 *
 * <p>Where it differs from the DataStream jobs: OVER windows on event time hold each row until the
 * watermark passes it and then emit rows in event-time order (so every decision waits for the
 * watermark); their own idea of late (behind the card's last row they emitted) is replaced by
 * the DataStream jobs' (at or behind the watermark, CURRENT_WATERMARK) so that late rows go to
 * late_authorizations and never count.
 * The windows are (t - 59:59.999, t]: SQL's RANGE includes its lower bound, the DSL's hour does
 * not, and times are in milliseconds.
 */
public final class SqlCardFraud {
    static final OutputTag<String> DEAD_LETTERS = new OutputTag<>("dead-letters", Types.STRING);
    static final OutputTag<String> ALERTS = new OutputTag<>("alerts", Types.STRING);

    private static final String[] FIELDS = {
        "auth_id", "card_id", "amount", "currency", "billing_amount", "merchant_id", "merchant_name", "mcc",
        "merchant_country", "card_country", "channel",
    };

    private SqlCardFraud() {}

    static final String VALID = String.join("\n",
            "auth_id IS NOT NULL AND merchant_id IS NOT NULL AND merchant_name IS NOT NULL",
            "AND CHAR_LENGTH(card_id) BETWEEN 1 AND 64",
            "AND TRY_CAST(amount AS DECIMAL(12, 2)) BETWEEN 0.01 AND 999999.99",
            "AND TRY_CAST(billing_amount AS DECIMAL(12, 2)) BETWEEN 0.01 AND 999999.99",
            "AND REGEXP(currency, '^[A-Z]{3}$') AND REGEXP(mcc, '^[0-9]{4}$')",
            "AND REGEXP(merchant_country, '^[A-Z]{2}$') AND REGEXP(card_country, '^[A-Z]{2}$')",
            "AND channel IN ('CHIP', 'CONTACTLESS', 'MAGSTRIPE', 'ECOMMERCE', 'MAIL_PHONE', 'ATM')");

    public static void build(StreamExecutionEnvironment env, Source<String, ?, ?> source,
            Map<String, AuthorizationEvents.Profile> profiles, Sink<String> decisions, Sink<String> alerts,
            Sink<String> late, Sink<String> deadLetters) {
        StreamTableEnvironment tables = StreamTableEnvironment.create(env);

        SingleOutputStreamOperator<Row> rows = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "authorizations")
                .process(new JsonToRow())
                .returns(rowType())
                .name("json format");
        DataStream<Row> timed = rows.assignTimestampsAndWatermarks(
                WatermarkStrategy.<Row>forBoundedOutOfOrderness(Duration.ofMinutes(1))
                        .withTimestampAssigner((row, previous) -> (Long) row.getField("event_millis")));
        tables.createTemporaryView("authorizations", timed, Schema.newBuilder()
                .columnByMetadata("rowtime", "TIMESTAMP_LTZ(3)")
                .columnByExpression("proc", "PROCTIME()")
                .watermark("rowtime", "SOURCE_WATERMARK()")
                .build());
        tables.createTemporarySystemFunction("profile_of", new ProfileOf(profiles));

        tables.executeSql(String.join("\n",
                "CREATE TEMPORARY VIEW valid_authorizations AS",
                "SELECT auth_id, card_id, CAST(billing_amount AS DECIMAL(12, 2)) AS billing_amount, merchant_name,",
                "       mcc, merchant_country, card_country, channel, rowtime, proc",
                "FROM authorizations",
                "WHERE (" + VALID + ")",
                // Too late to count: at or behind the watermark (as the DataStream jobs decide).
                "  AND (CURRENT_WATERMARK(rowtime) IS NULL OR rowtime > CURRENT_WATERMARK(rowtime))"));
        // A resend repeats its auth_id on the same card: keep the first.
        tables.executeSql(String.join("\n",
                "CREATE TEMPORARY VIEW first_authorizations AS",
                "SELECT auth_id, card_id, billing_amount, merchant_name, mcc, merchant_country, card_country,",
                "       channel, rowtime",
                "FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY card_id, auth_id ORDER BY proc) AS n",
                "      FROM valid_authorizations)",
                "WHERE n = 1"));
        tables.executeSql(String.join("\n",
                "CREATE TEMPORARY VIEW hourly AS",
                "SELECT *, COUNT(*) OVER w AS auths_1h, SUM(billing_amount) OVER w AS spend_1h",
                "FROM first_authorizations",
                "WINDOW w AS (PARTITION BY card_id ORDER BY rowtime",
                "             RANGE BETWEEN INTERVAL '59:59.999' MINUTE TO SECOND(3) PRECEDING AND CURRENT ROW)"));
        tables.executeSql(String.join("\n",
                "CREATE TEMPORARY VIEW velocity AS",
                "SELECT *, COUNT(*) OVER w AS auths_24h, SUM(billing_amount) OVER w AS spend_24h",
                "FROM hourly",
                "WINDOW w AS (PARTITION BY card_id ORDER BY rowtime",
                "             RANGE BETWEEN INTERVAL '23:59:59.999' HOUR TO SECOND(3) PRECEDING AND CURRENT ROW)"));
        tables.executeSql(String.join("\n",
                "CREATE TEMPORARY VIEW signals AS",
                "SELECT v.*, p.customer_id, p.typical_spend,",
                "       mcc IN ('7995', '7800', '7801', '7802') AS gambling,",
                "       mcc IN ('4829', '6051', '6540') AS quasi_cash,",
                "       channel IN ('ECOMMERCE', 'MAIL_PHONE') AS cnp,",
                "       merchant_country <> COALESCE(p.home_country, card_country)",
                "         AND NOT COALESCE(p.travel_country = merchant_country AND rowtime <= p.travel_until, FALSE)",
                "         AS cross_border,",
                "       COALESCE(billing_amount > p.typical_spend * 5, FALSE) AS unusual",
                "FROM velocity AS v",
                "LEFT JOIN LATERAL TABLE(profile_of(card_id)) AS p(customer_id, home_country, typical_spend,",
                "    travel_country, travel_until) ON TRUE"));
        tables.executeSql(String.join("\n",
                "CREATE TEMPORARY VIEW reasons AS",
                "SELECT *, CASE",
                "    WHEN gambling THEN 'BLOCKED_MCC'",
                "    WHEN quasi_cash AND cnp THEN 'QUASI_CASH_CNP'",
                "    WHEN auths_1h >= 5 THEN 'VELOCITY_COUNT_1H'",
                "    WHEN spend_1h > 2500 THEN 'VELOCITY_AMOUNT_1H'",
                "    WHEN quasi_cash THEN 'QUASI_CASH'",
                "    WHEN auths_24h >= 8 THEN 'VELOCITY_COUNT_24H'",
                "    WHEN spend_24h > 5000 THEN 'VELOCITY_AMOUNT_24H'",
                "    WHEN customer_id IS NULL THEN 'UNKNOWN_CARD'",
                "    WHEN cnp AND cross_border THEN 'CROSS_BORDER_CNP'",
                "    WHEN unusual THEN 'UNUSUAL_AMOUNT'",
                "    ELSE 'NO_RISK_SIGNAL' END AS reason",
                "FROM signals"));
        Table decided = tables.sqlQuery(String.join("\n",
                "SELECT auth_id, card_id, customer_id, decision, reason, billing_amount, merchant_name, mcc,",
                "       merchant_country, channel, auths_1h, spend_1h, auths_24h, spend_24h, rowtime AS event_time,",
                "       CASE WHEN decision = 'APPROVE' OR customer_id IS NULL THEN CAST(NULL AS STRING)",
                "            WHEN decision = 'DECLINE' THEN 'Your card was declined at ' || merchant_name || ' for '",
                "                 || CAST(billing_amount AS STRING) || ' USD. Call us if this was you.'",
                "            ELSE 'Did you just pay ' || CAST(billing_amount AS STRING) || ' USD at ' || merchant_name",
                "                 || '? Reply YES or NO.' END AS alert",
                "FROM (SELECT *, CASE",
                "        WHEN reason IN ('BLOCKED_MCC', 'QUASI_CASH_CNP', 'VELOCITY_COUNT_1H', 'VELOCITY_AMOUNT_1H')",
                "          THEN 'DECLINE'",
                "        WHEN reason = 'NO_RISK_SIGNAL' THEN 'APPROVE'",
                "        ELSE 'REVIEW' END AS decision",
                "      FROM reasons)"));
        Table lateRows = tables.sqlQuery("SELECT line FROM authorizations WHERE (" + VALID + ")"
                + " AND rowtime <= CURRENT_WATERMARK(rowtime)");
        Table invalid = tables.sqlQuery(
                "SELECT line FROM authorizations WHERE (" + VALID + ") IS NOT TRUE");

        SingleOutputStreamOperator<String> out = tables.toDataStream(decided)
                .process(new ToJson())
                .name("json out");
        out.sinkTo(decisions).name("auth_decisions");
        out.getSideOutput(ALERTS).sinkTo(alerts).name("cardholder_alerts");
        tables.toDataStream(lateRows).map(row -> (String) row.getField("line")).returns(Types.STRING)
                .sinkTo(late).name("late_authorizations");
        rows.getSideOutput(DEAD_LETTERS)
                .union(tables.toDataStream(invalid).map(row -> "{\"reason\":\"VALIDATION_FAILED\",\"input\":"
                        + new ObjectMapper().writeValueAsString(row.getField("line")) + "}").returns(Types.STRING))
                .sinkTo(deadLetters).name("auth_dead_letters");
    }

    static TypeInformation<Row> rowType() {
        String[] names = new String[FIELDS.length + 2];
        TypeInformation<?>[] types = new TypeInformation<?>[FIELDS.length + 2];
        for (int i = 0; i < FIELDS.length; i++) {
            names[i] = FIELDS[i];
            types[i] = Types.STRING;
        }
        names[FIELDS.length] = "event_millis";
        types[FIELDS.length] = Types.LONG;
        names[FIELDS.length + 1] = "line";
        types[FIELDS.length + 1] = Types.STRING;
        return Types.ROW_NAMED(names, types);
    }

    /** A JSON line as a row of its text fields (the json format's job); unreadable lines are dead letters. */
    static final class JsonToRow extends ProcessFunction<String, Row> {
        private transient ObjectMapper json;

        @Override
        public void open(OpenContext context) {
            json = new ObjectMapper();
        }

        @Override
        public void processElement(String line, Context ctx, Collector<Row> out) {
            try {
                JsonNode node = json.readTree(line);
                Row row = Row.withNames();
                for (String field : FIELDS) {
                    JsonNode v = node.get(field);
                    row.setField(field, v == null || v.isNull() ? null : v.asText());
                }
                JsonNode time = node.get("event_time");
                row.setField("event_millis", Instant.parse(time.asText()).toEpochMilli());
                row.setField("line", line);
                out.collect(row);
            } catch (Exception e) {
                ObjectNode dead = json.createObjectNode();
                dead.put("reason", "MALFORMED_INPUT");
                dead.put("input", line);
                ctx.output(DEAD_LETTERS, dead.toString());
            }
        }
    }

    /** The decision (and its alert, if any) as JSON lines. */
    static final class ToJson extends ProcessFunction<Row, String> {
        private static final String[] DECISION_FIELDS = {
            "auth_id", "card_id", "customer_id", "decision", "reason", "billing_amount", "merchant_name", "mcc",
            "merchant_country", "channel", "auths_1h", "spend_1h", "auths_24h", "spend_24h",
        };
        private transient ObjectMapper json;

        @Override
        public void open(OpenContext context) {
            json = new ObjectMapper();
        }

        @Override
        public void processElement(Row row, Context ctx, Collector<String> out) {
            ObjectNode d = json.createObjectNode();
            for (String field : DECISION_FIELDS) {
                d.putPOJO(field, row.getField(field));
            }
            String eventTime = ((Instant) row.getField("event_time")).toString();
            d.put("event_time", eventTime);
            out.collect(d.toString());
            String alert = (String) row.getField("alert");
            if (alert != null) {
                ObjectNode a = json.createObjectNode();
                a.put("auth_id", (String) row.getField("auth_id"));
                a.put("customer_id", (String) row.getField("customer_id"));
                a.put("card_id", (String) row.getField("card_id"));
                a.put("decision", (String) row.getField("decision"));
                a.put("reason", (String) row.getField("reason"));
                a.put("message", alert);
                a.put("event_time", eventTime);
                ctx.output(ALERTS, a.toString());
            }
        }
    }

    /** The customer profile of a card: one row, or none for a card the issuer has no profile of. */
    @FunctionHint(output = @DataTypeHint("ROW<customer_id STRING, home_country STRING, typical_spend DECIMAL(12, 2), "
            + "travel_country STRING, travel_until TIMESTAMP_LTZ(3)>"))
    public static final class ProfileOf extends TableFunction<Row> {
        private static final long serialVersionUID = 1L;
        private final Map<String, AuthorizationEvents.Profile> profiles;

        public ProfileOf(Map<String, AuthorizationEvents.Profile> profiles) {
            this.profiles = profiles;
        }

        public void eval(String cardId) {
            AuthorizationEvents.Profile p = profiles.get(cardId);
            if (p != null) {
                collect(Row.of(p.customerId, p.homeCountry, p.typicalSpend, p.travelCountry,
                        p.travelUntilMillis == null ? null : Instant.ofEpochMilli(p.travelUntilMillis)));
            }
        }
    }

}
