package nexflow.testrunner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import nexflow.runtime.MemoryStreams;
import nexflow.runtime.ScriptedStreams;
import nexflow.runtime.StreamBindings;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;

/**
 * Runs the tests of procs (docs/language/tests.md) on one Flink MiniCluster shared by every
 * test of the run: each test is its generated job, its sources bound to scripts
 * ({@link ScriptedStreams}), its sinks, dead letters and alerts to lines kept in this JVM
 * ({@link MemoryStreams}), its stores to memory stores filled with the test's documents.
 *
 * <p>The script runs in lock step, so a run is the same on any machine, however loaded: before
 * the script moves from one stream to another, before each expectation and at the end, the
 * driver waits until the sources have handed on everything given so far, then takes a
 * checkpoint and waits for it. An aligned checkpoint completes only once every operator has
 * processed everything before its barrier on every input, timers the watermarks fired included,
 * and every sink has written it: the outputs read then are all the steps so far can cause, and a
 * record given to one stream is processed before a record given later to another. Time is the
 * script's: watermarks come only from its steps, never from a clock.
 */
final class ProcTestDriver implements AutoCloseable {
    private static final long WAIT_MILLIS = 60_000L;

    private MiniCluster cluster;

    private MiniCluster cluster() throws Exception {
        if (cluster == null) {
            Configuration conf = new Configuration();
            // Any free port: tests may run beside a local Flink or another test run.
            conf.set(RestOptions.BIND_PORT, "0");
            cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                    .setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(4).build());
            cluster.start();
        }
        return cluster;
    }

    @Override
    public void close() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Runs one test (a case line of kind proc) and fills {@code r} with what each expectation read. */
    void run(ObjectMapper mapper, JsonNode c, ObjectNode r) throws Exception {
        long started = System.nanoTime();
        Map<String, String> settings = new TreeMap<>();
        c.get("settings").fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
        Map<String, String> sourceKeys = strings(c.get("sources"));
        Map<String, String> sinkKeys = strings(c.get("sinks"));
        Map<String, List<String>> written = new LinkedHashMap<>();
        for (Map.Entry<String, String> sink : sinkKeys.entrySet()) {
            List<String> lines = Collections.synchronizedList(new ArrayList<>());
            written.put(sink.getKey(), lines);
            MemoryStreams.listen(sink.getValue(), lines::add);
        }
        for (String key : sourceKeys.values()) {
            ScriptedStreams.clear(key);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        env.setParallelism(1);
        // Checkpoints only when the driver asks (see the class comment).
        env.enableCheckpointing(TimeUnit.DAYS.toMillis(1));
        Class<?> job = Class.forName(c.get("class").asText());
        Method build = job.getMethod("build", StreamExecutionEnvironment.class, StreamBindings.class);
        build.invoke(null, env, StreamBindings.of(settings));
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName("nexflow test " + c.get("id").asText());
        MiniCluster mc = cluster();
        JobID id = mc.submitJob(graph).get(WAIT_MILLIS, TimeUnit.MILLISECONDS).getJobID();
        Map<String, Integer> taken = new TreeMap<>();
        ArrayNode outputs = mapper.createArrayNode();
        try {
            firstCheckpoint(mc, id);
            long ready = System.nanoTime();
            Set<String> pending = new LinkedHashSet<>();
            String last = null;
            for (JsonNode step : c.get("steps")) {
                if (step.has("given")) {
                    String stream = step.get("given").asText();
                    if (last != null && !last.equals(stream)) {
                        settle(mc, id, pending);
                    }
                    ScriptedStreams.pushLine(sourceKeys.get(stream), step.get("line").asText());
                    pending.add(sourceKeys.get(stream));
                    last = stream;
                } else if (step.has("watermark")) {
                    settle(mc, id, pending);
                    for (JsonNode stream : step.get("streams")) {
                        String key = sourceKeys.get(stream.asText());
                        if (step.get("watermark").isNull()) {
                            ScriptedStreams.pushStrategyWatermark(key);
                        } else {
                            ScriptedStreams.pushWatermark(key, step.get("watermark").asLong());
                        }
                        pending.add(key);
                    }
                    settle(mc, id, pending);
                    last = null;
                } else {
                    settle(mc, id, pending);
                    String stream = step.get("expect").asText();
                    outputs.add(take(mapper, written.get(stream), taken, stream));
                }
            }
            settle(mc, id, pending);
            ObjectNode rest = mapper.createObjectNode();
            for (String stream : written.keySet()) {
                rest.set(stream, take(mapper, written.get(stream), taken, stream));
            }
            r.set("outputs", outputs);
            r.set("rest", rest);
            r.put("nanos", System.nanoTime() - ready);
            r.put("start_nanos", ready - started);
        } finally {
            stop(mc, id);
            for (String key : sourceKeys.values()) {
                ScriptedStreams.clear(key);
            }
            for (String key : sinkKeys.values()) {
                MemoryStreams.clear(key);
            }
        }
    }

    private static Map<String, String> strings(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> e = fields.next();
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    /** The lines written to {@code stream} since the last time they were taken. */
    private static ArrayNode take(ObjectMapper mapper, List<String> lines, Map<String, Integer> taken, String stream) {
        ArrayNode out = mapper.createArrayNode();
        synchronized (lines) {
            int from = taken.getOrDefault(stream, 0);
            for (int i = from; i < lines.size(); i++) {
                out.add(lines.get(i));
            }
            taken.put(stream, lines.size());
        }
        return out;
    }

    /**
     * The first checkpoint that completes: every task is running then (a checkpoint asked for
     * before cannot start), so the script's first items are read by a running job.
     */
    private static void firstCheckpoint(MiniCluster mc, JobID id) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MILLIS;
        Exception last = null;
        while (System.currentTimeMillis() < deadline) {
            JobStatus status = mc.getJobStatus(id).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
            if (status.isGloballyTerminalState()) {
                throw new IllegalStateException("the job ended before the test began: " + status + failure(mc, id));
            }
            if (status == JobStatus.RUNNING) {
                try {
                    mc.triggerCheckpoint(id).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
                    return;
                } catch (Exception e) {
                    last = e;
                }
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("the job did not start in " + WAIT_MILLIS + " ms", last);
    }

    /** Waits until the sources handed on everything pushed, then for a completed checkpoint. */
    private static void settle(MiniCluster mc, JobID id, Set<String> pending) throws Exception {
        for (String key : pending) {
            ScriptedStreams.awaitEmitted(key, WAIT_MILLIS);
        }
        pending.clear();
        try {
            mc.triggerCheckpoint(id).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the job stopped during the test" + failure(mc, id), e);
        }
    }

    private static String failure(MiniCluster mc, JobID id) {
        try {
            Throwable t = mc.requestJobResult(id).get(5, TimeUnit.SECONDS).getSerializedThrowable()
                    .map(s -> (Throwable) s).orElse(null);
            return t == null ? "" : ": " + t.getMessage();
        } catch (Exception e) {
            return "";
        }
    }

    private static void stop(MiniCluster mc, JobID id) throws Exception {
        JobStatus status = mc.getJobStatus(id).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        if (!status.isGloballyTerminalState()) {
            mc.cancelJob(id).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        }
        mc.requestJobResult(id).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }
}
