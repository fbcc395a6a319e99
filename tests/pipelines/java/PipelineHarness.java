import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import nexflow.runtime.JobArgs;
import nexflow.runtime.Json;
import nexflow.runtime.MemoryStore;
import nexflow.runtime.MemoryStreams;
import nexflow.runtime.StreamBindings;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs several generated jobs in one Flink MiniCluster (one Flink job): arguments before the first
 * {@code --job} are shared Flink settings ({@code --flink.<option>=<value>}); each
 * {@code --job <class>} is followed by that job's own bindings. Each job starts from its own
 * defaults, as its main() would. {@code --load-store=<name>=<file>} fills an in-memory store
 * before the run (the file: one JSON object, key to record); {@code --feed=<key>=<file>} gives a
 * {@code memory:<key>} stream the lines of a file. After the run,
 * {@code --print-state-entries} prints the last {@code state_entries} gauge of every keyed
 * operator and subtask (read by {@link StateEntriesReporter}) as one JSON object, then
 * {@code --print-stream=<key>} the lines written to {@code memory:<key>} streams (one JSON
 * object, key to the list of lines, on one line), then {@code --print-store=<name>} the
 * records of an in-memory store as one JSON object.
 */
public final class PipelineHarness {
    public static void main(String[] args) throws Exception {
        List<String> shared = new ArrayList<>();
        List<String> stores = new ArrayList<>();
        boolean stateEntries = false;
        List<String> printedStreams = new ArrayList<>();
        List<List<String>> jobs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--job")) {
                List<String> job = new ArrayList<>();
                job.add(args[++i]);
                jobs.add(job);
            } else if (args[i].startsWith("--load-store=")) {
                // --load-store=<name>=<file of one JSON object: key -> record>
                String[] spec = args[i].substring("--load-store=".length()).split("=", 2);
                com.fasterxml.jackson.databind.JsonNode records = Json.mapper().readTree(new java.io.File(spec[1]));
                records.fields().forEachRemaining(e -> MemoryStore.put(spec[0], e.getKey(), e.getValue().toString()));
            } else if (args[i].equals("--print-state-entries")) {
                stateEntries = true;
            } else if (args[i].startsWith("--feed=")) {
                // --feed=<key>=<file of lines>
                String[] spec = args[i].substring("--feed=".length()).split("=", 2);
                MemoryStreams.feed(spec[0], java.nio.file.Files.readAllLines(java.nio.file.Paths.get(spec[1])));
            } else if (args[i].startsWith("--print-stream=")) {
                printedStreams.add(args[i].substring("--print-stream=".length()));
            } else if (args[i].startsWith("--print-store=")) {
                stores.add(args[i].substring("--print-store=".length()));
            } else if (jobs.isEmpty()) {
                shared.add(args[i]);
            } else {
                jobs.get(jobs.size() - 1).add(args[i]);
            }
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(
                JobArgs.parse(shared.toArray(new String[0])).flinkConfiguration());
        build(env, jobs);
        env.execute("nexflow pipeline tests");
        if (stateEntries) {
            Map<String, Long> values = StateEntriesReporter.finalValues(10_000L);
            Map<String, Object> out = new java.util.TreeMap<>();
            out.put("all_ended", StateEntriesReporter.allEnded());
            out.put("gauges", values);
            out.put("peaks", StateEntriesReporter.peaks());
            System.out.println(Json.toJson(out));
        }
        if (!printedStreams.isEmpty()) {
            Map<String, List<String>> written = new java.util.TreeMap<>();
            for (String key : printedStreams) {
                written.put(key, MemoryStreams.written(key));
            }
            System.out.println(Json.toJson(written));
        }
        for (String store : stores) {
            System.out.println(Json.toJson(MemoryStore.contents(store)));
        }
    }

    /**
     * Adds each job to {@code env}: a job is its class name followed by its own bindings, which
     * override the job's defaults.
     */
    static void build(StreamExecutionEnvironment env, List<List<String>> jobs) throws Exception {
        for (List<String> job : jobs) {
            Class<?> type = Class.forName(job.get(0));
            @SuppressWarnings("unchecked")
            Map<String, String> defaults = (Map<String, String>) type.getMethod("defaults").invoke(null);
            JobArgs jobArgs = JobArgs.parse(job.subList(1, job.size()).toArray(new String[0]), defaults);
            Method build = type.getMethod("build", StreamExecutionEnvironment.class, StreamBindings.class);
            build.invoke(null, env, jobArgs.streams());
        }
    }
}
