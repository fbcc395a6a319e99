package nexflow.runtime;

import java.util.List;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamSink;

/** Writing the streams a job produces: each stream once, from everything sent to it. */
public final class Outputs {
    private Outputs() {}

    /** The union of every part sent to one stream (at least one). */
    public static <T> DataStream<T> union(List<DataStream<T>> parts) {
        DataStream<T> all = parts.get(0);
        for (int i = 1; i < parts.size(); i++) {
            all = all.union(parts.get(i));
        }
        return all;
    }

    /**
     * Writes records of {@code stream} as JSON lines to its {@code file:} binding (or to its
     * {@code memory:} binding, see {@link MemoryStreams}).
     */
    public static <T> DataStreamSink<T> jsonLinesFile(
            DataStream<T> records, StreamBindings bindings, String stream, String uid) {
        if (bindings.isMemory(stream)) {
            return sink(records, MemoryStreams.<T>sink(bindings.memoryKey(stream), true), bindings, stream, uid);
        }
        return sink(records, new JsonLinesFileSink<T>(bindings.filePath(stream)), bindings, stream, uid);
    }

    /** Writes text lines (dead letters, alerts) to the {@code file:} (or {@code memory:}) binding of {@code stream}. */
    public static DataStreamSink<String> linesFile(
            DataStream<String> lines, StreamBindings bindings, String stream, String uid) {
        if (bindings.isMemory(stream)) {
            return sink(lines, MemoryStreams.<String>sink(bindings.memoryKey(stream), false), bindings, stream, uid);
        }
        return sink(lines, new LinesFileSink(bindings.filePath(stream)), bindings, stream, uid);
    }

    /** Adds {@code sink} named after the stream, with its uid and the stream's parallelism. */
    public static <T> DataStreamSink<T> sink(
            DataStream<T> records, Sink<T> sink, StreamBindings bindings, String stream, String uid) {
        DataStreamSink<T> out = records.sinkTo(sink).name("sink: " + stream).uid(uid);
        int parallelism = bindings.parallelism(stream);
        if (parallelism > 0) {
            out.setParallelism(parallelism);
        }
        return out;
    }
}
