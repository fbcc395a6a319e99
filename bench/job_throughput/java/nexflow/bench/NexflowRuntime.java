package nexflow.bench;

import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The generated job and its L0 runtime, called by name: they come from the job jar Nexflow builds
 * (resolve jvm-default) while this benchmark compiles in its own resolve (jvm-bench, with Flink
 * SQL), so it cannot name their classes at compile time.
 */
final class NexflowRuntime {
    private static final String RUNTIME = "nexflow.runtime.";

    private NexflowRuntime() {}

    private static Class<?> type(String name) throws ClassNotFoundException {
        return Class.forName(name);
    }

    /** {@code MemoryStreams.feed(key, count, lineAt)}: the lines a {@code memory:<key>} source reads. */
    static void feed(String key, long count, LongFunction<String> lineAt) throws Exception {
        type(RUNTIME + "MemoryStreams").getMethod("feed", String.class, long.class, LongFunction.class)
                .invoke(null, key, count, lineAt);
    }

    /** {@code MemoryStreams.listen(key, listener)}: where a {@code memory:<key>} sink's lines go. */
    static void listen(String key, Consumer<String> listener) throws Exception {
        type(RUNTIME + "MemoryStreams").getMethod("listen", String.class, Consumer.class).invoke(null, key, listener);
    }

    /** The runtime's own {@code memory:} source, for the other two jobs to read the same way. */
    @SuppressWarnings("unchecked")
    static Source<String, ?, ?> source(String key, double perSecond) throws Exception {
        return (Source<String, ?, ?>) type(RUNTIME + "MemoryStreams").getMethod("source", String.class, double.class)
                .invoke(null, key, perSecond);
    }

    /** The runtime's own {@code memory:} sink of text lines. */
    @SuppressWarnings("unchecked")
    static Sink<String> sink(String key) throws Exception {
        return (Sink<String>) type(RUNTIME + "MemoryStreams").getMethod("sink", String.class, boolean.class)
                .invoke(null, key, false);
    }

    /** {@code MemoryStore.put(store, key, json)}: a record of an in-memory store. */
    static void putStoreRecord(String store, String key, String json) throws Exception {
        type(RUNTIME + "MemoryStore").getMethod("put", String.class, String.class, String.class)
                .invoke(null, store, key, json);
    }

    /** The generated job's {@code defaults()}: its settings from the environment it was built for. */
    @SuppressWarnings("unchecked")
    static Map<String, String> defaults(String jobClass) throws Exception {
        return (Map<String, String>) type(jobClass).getMethod("defaults").invoke(null);
    }

    /** The generated job's {@code build(env, bindings)}, bindings from its defaults and {@code args}. */
    static void build(String jobClass, StreamExecutionEnvironment env, String... args) throws Exception {
        Class<?> job = type(jobClass);
        Class<?> jobArgs = type(RUNTIME + "JobArgs");
        Object defaults = job.getMethod("defaults").invoke(null);
        Object parsed = jobArgs.getMethod("parse", String[].class, Map.class).invoke(null, args, defaults);
        Object bindings = jobArgs.getMethod("streams").invoke(parsed);
        job.getMethod("build", StreamExecutionEnvironment.class, type(RUNTIME + "StreamBindings"))
                .invoke(null, env, bindings);
    }
}
