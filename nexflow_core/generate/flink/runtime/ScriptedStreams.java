package nexflow.runtime;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Streams a test script feeds, step by step, in the JVM that runs the job
 * ({@code --stream.<name>=script:<key>}): what {@code nexflow test} uses for tests of procs
 * (docs/language/tests.md). Meaningless on a cluster, like {@code memory:}.
 *
 * <p>The driver pushes lines (decoded as the stream's records, exactly as a
 * {@code file:} source decodes them) and watermarks; the source hands them on in that order, on
 * the task's own thread, and {@link #awaitEmitted} tells the driver when everything pushed has
 * been handed on. Watermarks come only from the script, never from a clock: a step
 * {@code watermark "T"} emits T, a step {@code watermark} emits what the stream's
 * bounded-out-of-orderness strategy would emit now (the newest event time handed on, less the
 * proc's watermark delay, less 1 ms). So the same script gives the same run on any machine.
 */
public final class ScriptedStreams {
    private static final Map<String, Script> SCRIPTS = new ConcurrentHashMap<>();
    /** A script item: the watermark the stream's own strategy would emit now. */
    private static final Object STRATEGY_WATERMARK = new Object();

    private ScriptedStreams() {}

    /** Forgets the script of {@code script:<key>}; the next push starts a new one. */
    public static void clear(String key) {
        SCRIPTS.remove(key);
    }

    private static Script script(String key) {
        return SCRIPTS.computeIfAbsent(key, k -> new Script());
    }

    /** Queues a line for the source bound to {@code script:<key>}. */
    public static void pushLine(String key, String line) {
        script(key).push(line);
    }

    /** Queues a watermark at {@code millis} (epoch milliseconds). */
    public static void pushWatermark(String key, long millis) {
        script(key).push(Long.valueOf(millis));
    }

    /** Queues the watermark the stream's bounded-out-of-orderness strategy would emit now. */
    public static void pushStrategyWatermark(String key) {
        script(key).push(STRATEGY_WATERMARK);
    }

    /** Waits until the source has handed on everything pushed to {@code script:<key>}. */
    public static void awaitEmitted(String key, long timeoutMillis) throws InterruptedException, TimeoutException {
        script(key).awaitEmitted(timeoutMillis);
    }

    /**
     * The source of {@code script:<key>}, decoding lines as records of {@code contract}'s schema
     * with event time {@code time} (null: none). One reader; run it at parallelism 1.
     */
    public static <T> Source<Parsed<T>, ScriptSplit, Boolean> source(
            String key, String stream, RecordContract<T> contract, Watermarks.EventTime<T> time) {
        return new ScriptSource<>(key, script(key).addSource(), stream, contract, time);
    }

    /**
     * Timestamps as {@link Watermarks#inSource} assigns them; watermarks only from the script
     * (the generator itself emits none).
     */
    public static <T> WatermarkStrategy<Parsed<T>> strategy(Watermarks.EventTime<T> time) {
        WatermarkStrategy<Parsed<T>> scripted = WatermarkStrategy.forGenerator(context -> new NoWatermarks<>());
        if (time == null) {
            return scripted;
        }
        return scripted.withTimestampAssigner(
                (parsed, previous) -> parsed.record == null ? Long.MIN_VALUE
                        : parsed.eventTime == Watermarks.NONE ? previous : parsed.eventTime);
    }

    /**
     * The items pushed to one key, read by every source bound to it (a proc that reads a stream
     * twice, as a self-join does, has two): each source keeps its own place.
     */
    private static final class Script {
        private final List<Object> items = new ArrayList<>();
        private final List<Integer> places = new ArrayList<>();
        private final List<CompletableFuture<Void>> waiting = new ArrayList<>();

        /** A new reading place (one per source bound to the key); its number. */
        synchronized int addSource() {
            places.add(0);
            waiting.add(new CompletableFuture<>());
            return places.size() - 1;
        }

        synchronized void push(Object item) {
            items.add(item);
            for (CompletableFuture<Void> w : waiting) {
                w.complete(null);
            }
        }

        /** Fails clearly where the job was built in another JVM (a cluster): no script here. */
        private void known(int source) {
            if (source >= places.size()) {
                throw new IllegalStateException("a script: stream is fed only by `nexflow test`, in the JVM"
                        + " that built the job; this JVM has no script for it (a job on a cluster cannot read"
                        + " script: bindings)");
            }
        }

        synchronized Object next(int source) {
            known(source);
            int place = places.get(source);
            return place < items.size() ? items.get(place) : null;
        }

        synchronized boolean hasMore(int source) {
            known(source);
            return places.get(source) < items.size();
        }

        synchronized CompletableFuture<Void> availability(int source) {
            if (hasMore(source)) {
                return CompletableFuture.completedFuture(null);
            }
            if (waiting.get(source).isDone()) {
                waiting.set(source, new CompletableFuture<>());
            }
            return waiting.get(source);
        }

        /** The source handed its next item on. */
        synchronized void emitted(int source) {
            places.set(source, places.get(source) + 1);
            notifyAll();
        }

        private boolean allEmitted() {
            for (int place : places) {
                if (place < items.size()) {
                    return false;
                }
            }
            return true;
        }

        synchronized void awaitEmitted(long timeoutMillis) throws InterruptedException, TimeoutException {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (!allEmitted()) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    throw new TimeoutException("scripted items not taken by the source in " + timeoutMillis
                            + " ms: is the job running?");
                }
                wait(left);
            }
        }
    }

    private static final class NoWatermarks<T> implements WatermarkGenerator<T> {
        @Override
        public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {}

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {}
    }

    /** The one split of a scripted stream: the script itself lives in the JVM, not in the split. */
    public static final class ScriptSplit implements SourceSplit, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public String splitId() {
            return "script";
        }
    }

    private static final class ScriptSource<T> implements Source<Parsed<T>, ScriptSplit, Boolean> {
        private static final long serialVersionUID = 1L;

        private final String key;
        private final int place;
        private final String stream;
        private final RecordContract<T> contract;
        private final Watermarks.EventTime<T> time;

        ScriptSource(String key, int place, String stream, RecordContract<T> contract, Watermarks.EventTime<T> time) {
            this.key = key;
            this.place = place;
            this.stream = stream;
            this.contract = contract;
            this.time = time;
        }

        @Override
        public Boundedness getBoundedness() {
            // A test ends when its script does, not the stream: no end-of-input watermark
            // flushes windows or timeouts the script did not reach.
            return Boundedness.CONTINUOUS_UNBOUNDED;
        }

        @Override
        public SourceReader<Parsed<T>, ScriptSplit> createReader(SourceReaderContext context) {
            return new ScriptReader<>(script(key), place, stream, contract, time);
        }

        @Override
        public SplitEnumerator<ScriptSplit, Boolean> createEnumerator(SplitEnumeratorContext<ScriptSplit> context) {
            return new OneSplit(context);
        }

        @Override
        public SplitEnumerator<ScriptSplit, Boolean> restoreEnumerator(
                SplitEnumeratorContext<ScriptSplit> context, Boolean assigned) {
            return new OneSplit(context);
        }

        @Override
        public SimpleVersionedSerializer<ScriptSplit> getSplitSerializer() {
            return new SimpleVersionedSerializer<ScriptSplit>() {
                @Override
                public int getVersion() {
                    return 1;
                }

                @Override
                public byte[] serialize(ScriptSplit split) {
                    return new byte[0];
                }

                @Override
                public ScriptSplit deserialize(int version, byte[] serialized) {
                    return new ScriptSplit();
                }
            };
        }

        @Override
        public SimpleVersionedSerializer<Boolean> getEnumeratorCheckpointSerializer() {
            return new SimpleVersionedSerializer<Boolean>() {
                @Override
                public int getVersion() {
                    return 1;
                }

                @Override
                public byte[] serialize(Boolean assigned) {
                    return new byte[] {(byte) (Boolean.TRUE.equals(assigned) ? 1 : 0)};
                }

                @Override
                public Boolean deserialize(int version, byte[] serialized) {
                    return serialized.length > 0 && serialized[0] == 1;
                }
            };
        }
    }

    /** Gives the one split to the first reader (subtask 0 at parallelism 1). */
    private static final class OneSplit implements SplitEnumerator<ScriptSplit, Boolean> {
        private final SplitEnumeratorContext<ScriptSplit> context;
        private boolean assigned;

        OneSplit(SplitEnumeratorContext<ScriptSplit> context) {
            this.context = context;
        }

        @Override
        public void start() {}

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {}

        @Override
        public void addSplitsBack(List<ScriptSplit> splits, int subtaskId) {
            assigned = false;
        }

        @Override
        public void addReader(int subtaskId) {
            if (!assigned) {
                context.assignSplit(new ScriptSplit(), subtaskId);
                assigned = true;
            }
        }

        @Override
        public Boolean snapshotState(long checkpointId) {
            return assigned;
        }

        @Override
        public void close() throws IOException {}
    }

    private static final class ScriptReader<T> implements SourceReader<Parsed<T>, ScriptSplit> {
        private final Script script;
        private final int place;
        private final String stream;
        private final RecordContract<T> contract;
        private final Watermarks.EventTime<T> time;
        private final List<ScriptSplit> splits = new ArrayList<>();
        private final CompletableFuture<Void> assigned = new CompletableFuture<>();
        private long newest = Long.MIN_VALUE;

        ScriptReader(Script script, int place, String stream, RecordContract<T> contract, Watermarks.EventTime<T> time) {
            this.script = script;
            this.place = place;
            this.stream = stream;
            this.contract = contract;
            this.time = time;
        }

        @Override
        public void start() {}

        @Override
        public InputStatus pollNext(ReaderOutput<Parsed<T>> output) {
            if (splits.isEmpty()) {
                // Only the reader holding the one split reads the script (a stream bound with a
                // parallelism above 1 must not read it twice).
                return InputStatus.NOTHING_AVAILABLE;
            }
            Object item = script.next(place);
            if (item == null) {
                return InputStatus.NOTHING_AVAILABLE;
            }
            if (item instanceof String) {
                Parsed<T> parsed = Parsed.decode(stream, contract, (String) item, time);
                if (parsed.record != null && parsed.eventTime != Watermarks.NONE) {
                    newest = Math.max(newest, parsed.eventTime);
                }
                output.collect(parsed);
            } else if (item instanceof Long) {
                output.emitWatermark(new Watermark((Long) item));
            } else if (newest != Long.MIN_VALUE && time != null) {
                // What BoundedOutOfOrdernessWatermarks emits: the newest time less the delay, less 1.
                output.emitWatermark(new Watermark(newest - Math.max(time.delayMillis, 0L) - 1));
            }
            script.emitted(place);
            return script.hasMore(place) ? InputStatus.MORE_AVAILABLE : InputStatus.NOTHING_AVAILABLE;
        }

        @Override
        public List<ScriptSplit> snapshotState(long checkpointId) {
            return new ArrayList<>(splits);
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return splits.isEmpty() ? assigned : script.availability(place);
        }

        @Override
        public void addSplits(List<ScriptSplit> added) {
            splits.addAll(added);
            assigned.complete(null);
        }

        @Override
        public void notifyNoMoreSplits() {}

        @Override
        public void close() {}
    }
}
