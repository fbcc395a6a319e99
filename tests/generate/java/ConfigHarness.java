import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import nexflow.runtime.JobArgs;
import nexflow.runtime.Json;
import nexflow.runtime.StreamBindings;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Test harness: what a generated job starts from. Arguments: the job class, then program
 * arguments (several such groups separated by {@code --next}). Prints one JSON object per group: the job's defaults, its settings after the arguments, the
 * Flink options, the Kafka client properties as the Kafka client resolves them (secrets read
 * from the environment and files here, at run time), and whether the job graph can be built.
 */
public final class ConfigHarness {
    public static void main(String[] args) throws Exception {
        int start = 0;
        for (int i = 0; i <= args.length; i++) {
            if (i == args.length || args[i].equals("--next")) {
                run(Arrays.copyOfRange(args, start, i));
                start = i + 1;
            }
        }
    }

    private static void run(String[] args) throws Exception {
        Class<?> job = Class.forName(args[0]);
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        @SuppressWarnings("unchecked")
        Map<String, String> defaults = (Map<String, String>) job.getMethod("defaults").invoke(null);
        ObjectNode out = Json.mapper().createObjectNode();
        JobArgs jobArgs;
        try {
            jobArgs = JobArgs.parse(rest, defaults);
        } catch (IllegalArgumentException e) {
            // What the job's main does too: it stops before it builds anything.
            out.put("refused", e.getMessage());
            System.out.println(out);
            return;
        }
        out.set("defaults", Json.mapper().valueToTree(defaults));
        out.set("settings", Json.mapper().valueToTree(jobArgs.settings()));
        Configuration flink = jobArgs.flinkConfiguration();
        out.set("flink", Json.mapper().valueToTree(new TreeMap<>(flink.toMap())));
        StreamBindings streams = jobArgs.streams();
        Map<String, Object> kafka = new HashMap<>(streams.kafkaProperties());
        kafka.put("key.serializer", ByteArraySerializer.class.getName());
        kafka.put("value.serializer", ByteArraySerializer.class.getName());
        ProducerConfig resolved = new ProducerConfig(kafka);
        ObjectNode secrets = out.putObject("resolved");
        for (String key : new String[] {"sasl.jaas.config", "ssl.truststore.password"}) {
            if (kafka.containsKey(key)) {
                secrets.put(key, resolved.getPassword(key).value());
            }
        }
        try {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
            job.getMethod("build", StreamExecutionEnvironment.class, StreamBindings.class).invoke(null, env, streams);
            out.put("built", env.getStreamGraph().getStreamNodes().size());
        } catch (java.lang.reflect.InvocationTargetException e) {
            out.put("build_error", String.valueOf(e.getCause().getMessage()));
            if (System.getenv("NX_TRACE") != null) {
                e.getCause().printStackTrace();
            }
        }
        System.out.println(Json.toJson(out));
    }
}
