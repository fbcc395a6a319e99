package nexflow.runtime;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;

/**
 * Streams that live in the JVM running the job ({@code --stream.<name>=memory:<key>}): for tests,
 * benchmarks and local runs that start the job on a MiniCluster in their own JVM and feed it and
 * read it there. They mean nothing on a Flink cluster (the job's JVMs are elsewhere).
 *
 * <p>A source reads the JSON lines of the feed registered under its key with {@link #feed}
 * <em>before the job is built</em> (the number of lines is fixed then), exactly as a {@code file:}
 * source reads its file's lines. {@code --stream.<name>.rate=N} hands out at most N lines a
 * second (a live stream's pace); without it, lines come as fast as the job takes them. A sink
 * writes each record as the same JSON line a {@code file:} sink writes, to the listener registered
 * under its key with {@link #listen}, or, without one, into a list {@link #written} returns.
 */
public final class MemoryStreams {
    private static final Map<String, Feed> FEEDS = new ConcurrentHashMap<>();
    private static final Map<String, Consumer<String>> LISTENERS = new ConcurrentHashMap<>();
    private static final Map<String, List<String>> WRITTEN = new ConcurrentHashMap<>();

    private MemoryStreams() {}

    private static final class Feed {
        final long count;
        final LongFunction<String> lineAt;

        Feed(long count, LongFunction<String> lineAt) {
            this.count = count;
            this.lineAt = lineAt;
        }
    }

    /**
     * Registers the lines the sources bound to {@code memory:<key>} read: {@code lineAt} is asked
     * for line 0, 1, ... count-1, from the source's thread, when the source emits that line (so it
     * may note the time it was asked).
     */
    public static void feed(String key, long count, LongFunction<String> lineAt) {
        FEEDS.put(key, new Feed(count, lineAt));
    }

    /** Registers {@code lines} as the lines of {@code memory:<key>}. */
    public static void feed(String key, List<String> lines) {
        List<String> copy = List.copyOf(lines);
        feed(key, copy.size(), i -> copy.get((int) i));
    }

    /**
     * Sends each line written to {@code memory:<key>} to {@code listener}, from the sink's thread
     * (one thread per sink subtask: a listener of a sink with parallelism above 1 must be
     * thread-safe).
     */
    public static void listen(String key, Consumer<String> listener) {
        LISTENERS.put(key, listener);
    }

    /** The lines written so far to {@code memory:<key>} that had no listener, in arrival order. */
    public static List<String> written(String key) {
        List<String> lines = WRITTEN.get(key);
        if (lines == null) {
            return List.of();
        }
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** Forgets the feed, listener and written lines of {@code memory:<key>}. */
    public static void clear(String key) {
        FEEDS.remove(key);
        LISTENERS.remove(key);
        WRITTEN.remove(key);
    }

    private static Feed feedOf(String key) {
        Feed feed = FEEDS.get(key);
        if (feed == null) {
            throw new IllegalArgumentException("no lines were fed to memory:" + key
                    + "; call MemoryStreams.feed(\"" + key + "\", ...) before building the job");
        }
        return feed;
    }

    /** A source of the lines fed to {@code memory:<key>}, at most {@code perSecond} a second (0: no limit). */
    public static DataGeneratorSource<String> source(String key, double perSecond) {
        RateLimiterStrategy<?> rate = perSecond > 0 ? RateLimiterStrategy.perSecond(perSecond) : RateLimiterStrategy.noOp();
        return new DataGeneratorSource<>(new Lines(key), feedOf(key).count, rate, Types.STRING);
    }

    /**
     * A source of the lines fed to {@code memory:<key>} decoded as records of {@code contract}'s
     * schema ({@link Parsed#decode}), so that event time can be assigned in the source.
     */
    public static <T> DataGeneratorSource<Parsed<T>> source(
            String key, double perSecond, String stream, RecordContract<T> contract) {
        return source(key, perSecond, stream, contract, null);
    }

    /** As above, with each record's event time ({@code time}, null: none) checked as it is decoded. */
    public static <T> DataGeneratorSource<Parsed<T>> source(
            String key, double perSecond, String stream, RecordContract<T> contract, Watermarks.EventTime<T> time) {
        RateLimiterStrategy<?> rate = perSecond > 0 ? RateLimiterStrategy.perSecond(perSecond) : RateLimiterStrategy.noOp();
        return new DataGeneratorSource<>(
                new DecodedLines<>(new Lines(key), stream, contract, time), feedOf(key).count, rate, Parsed.type(contract.type()));
    }

    /** A sink writing records to {@code memory:<key>} as JSON lines ({@code json}) or as they are (text lines). */
    public static <T> Sink<T> sink(String key, boolean json) {
        return new LinesSink<>(key, json);
    }

    static void write(String key, String line) {
        Consumer<String> listener = LISTENERS.get(key);
        if (listener != null) {
            listener.accept(line);
            return;
        }
        List<String> lines = WRITTEN.computeIfAbsent(key, k -> Collections.synchronizedList(new ArrayList<>()));
        lines.add(line);
    }

    /** Line i of a feed; only the key travels with the job graph, the feed stays in this JVM. */
    private static final class Lines implements GeneratorFunction<Long, String> {
        private static final long serialVersionUID = 1L;

        private final String key;
        private transient LongFunction<String> lineAt;

        Lines(String key) {
            this.key = key;
        }

        @Override
        public void open(SourceReaderContext context) {
            lineAt = feedOf(key).lineAt;
        }

        @Override
        public String map(Long index) {
            return lineAt.apply(index);
        }
    }

    /** Line i of a feed, decoded. */
    private static final class DecodedLines<T> implements GeneratorFunction<Long, Parsed<T>> {
        private static final long serialVersionUID = 1L;

        private final Lines lines;
        private final String stream;
        private final RecordContract<T> contract;
        private final Watermarks.EventTime<T> time;

        DecodedLines(Lines lines, String stream, RecordContract<T> contract, Watermarks.EventTime<T> time) {
            this.lines = lines;
            this.stream = stream;
            this.contract = contract;
            this.time = time;
        }

        @Override
        public void open(SourceReaderContext context) {
            lines.open(context);
        }

        @Override
        public Parsed<T> map(Long index) {
            return Parsed.decode(stream, contract, lines.map(index), time);
        }
    }

    private static final class LinesSink<T> implements Sink<T> {
        private static final long serialVersionUID = 1L;

        private final String key;
        private final boolean json;

        LinesSink(String key, boolean json) {
            this.key = key;
            this.json = json;
        }

        @Override
        public SinkWriter<T> createWriter(WriterInitContext context) {
            Consumer<String> listener = LISTENERS.get(key);
            return new SinkWriter<T>() {
                @Override
                public void write(T element, Context context) throws IOException {
                    String line = json ? Json.mapper().writeValueAsString(element) : String.valueOf(element);
                    if (listener != null) {
                        listener.accept(line);
                    } else {
                        MemoryStreams.write(key, line);
                    }
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
