package nexflow.e2e;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * A fixture-test job (tests/e2e): writes {"n": 0} .. {"n": count-1} to a Kafka topic through an
 * exactly-once KafkaSink, slowly enough that a test can kill a TaskManager while it runs.
 *
 * <p>Arguments: --bootstrap-servers=HOST:PORT --topic=NAME [--count=N (-1: unbounded)]
 * [--sleep-ms=MS per record and subtask] [--checkpoint-ms=MS] [--transactional-id-prefix=P].
 * The sequence source is checkpointed and the sink commits one Kafka transaction per checkpoint,
 * so a read_committed consumer must see every number exactly once, also across restarts.
 */
public final class SequenceToKafkaJob {

    private SequenceToKafkaJob() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        String bootstrapServers = require(options, "bootstrap-servers");
        String topic = require(options, "topic");
        long count = Long.parseLong(options.getOrDefault("count", "1000"));
        long sleepMs = Long.parseLong(options.getOrDefault("sleep-ms", "0"));
        long checkpointMs = Long.parseLong(options.getOrDefault("checkpoint-ms", "1000"));
        String prefix = options.getOrDefault("transactional-id-prefix", "e2e-" + topic);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(checkpointMs);

        long last = count < 0 ? Long.MAX_VALUE : count - 1;
        DataStream<String> json = env.fromSequence(0, last)
                .name("sequence")
                .map(new ToJson(sleepMs))
                .name("to-json");

        KafkaSink<String> sink = KafkaSink.<String>builder()
                .setBootstrapServers(bootstrapServers)
                .setRecordSerializer(KafkaRecordSerializationSchema.<String>builder()
                        .setTopic(topic)
                        .setValueSerializationSchema(new SimpleStringSchema())
                        .build())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(prefix)
                // At most the broker's transaction.max.timeout.ms (15 min by default).
                .setProperty("transaction.timeout.ms", "120000")
                .build();
        json.sinkTo(sink).name("kafka: " + topic);

        env.execute("sequence-to-kafka " + topic);
    }

    /** Formats a number as a JSON record, sleeping first to pace the job. */
    static final class ToJson implements MapFunction<Long, String> {
        private static final long serialVersionUID = 1L;
        private final long sleepMs;

        ToJson(long sleepMs) {
            this.sleepMs = sleepMs;
        }

        @Override
        public String map(Long n) throws Exception {
            if (sleepMs > 0) {
                Thread.sleep(sleepMs);
            }
            return "{\"n\":" + n + "}";
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("expected --name=value, got: " + arg);
            }
            int eq = arg.indexOf('=');
            options.put(arg.substring(2, eq), arg.substring(eq + 1));
        }
        return options;
    }

    private static String require(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("missing --" + name + "=...");
        }
        return value;
    }
}
