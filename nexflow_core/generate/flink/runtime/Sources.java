package nexflow.runtime;

import java.io.IOException;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.connector.file.src.reader.TextLineInputFormat;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Sources for bound streams. Every source decodes its input in the source itself
 * ({@link Parsed}) and assigns event time there ({@link Watermarks#inSource}), with the
 * stream's idle timeout ({@link StreamBindings#idleTimeout}) and event-time bounds
 * ({@link StreamBindings#eventTime}: a record out of them is a dead letter).
 */
public final class Sources {
    private Sources() {}

    /**
     * Reads the JSON lines of a {@code file:}-bound stream as validated records; bad lines go to
     * the operator's {@link DeadLetterOutput#TAG} side output. No event time.
     */
    public static <T> SingleOutputStreamOperator<T> jsonLines(
            StreamExecutionEnvironment env, StreamBindings bindings, String stream, RecordContract<T> contract) {
        return jsonLines(env, bindings, stream, contract, "", null);
    }

    /**
     * As above, with event time {@code time} (null: none) assigned in the source; operator uids
     * start with {@code job} (so several jobs can read one stream in one Flink job, as tests do).
     * {@code --stream.<name>.pace_ms=N} waits N ms before each line: a bounded replay then
     * advances event time the way a live stream would. A {@code memory:} binding reads the lines
     * fed to it in this JVM instead of a file ({@link MemoryStreams}), a {@code script:} binding what a
     * test's script feeds it ({@link ScriptedStreams}).
     */
    public static <T> SingleOutputStreamOperator<T> jsonLines(
            StreamExecutionEnvironment env, StreamBindings bindings, String stream, RecordContract<T> contract,
            String job, Watermarks.EventTime<T> time) {
        String prefix = job.isEmpty() ? "" : job + ".";
        Watermarks.EventTime<T> checked = bindings.eventTime(stream, time);
        WatermarkStrategy<Parsed<T>> strategy = Watermarks.inSource(checked, bindings.idleTimeout(stream));
        if (bindings.isScript(stream)) {
            if (bindings.tokenKeyRequired()) {
                // Environments that run on a cluster require a token key: there, no script
                // exists (it lives in the JVM of `nexflow test`), so refuse before starting.
                throw new IllegalArgumentException("stream '" + stream + "' is bound to " + bindings.uri(stream)
                        + ": script: streams are for `nexflow test` only, not for a job on a cluster");
            }
            // A test's script: watermarks come from its steps, not from a clock (no idleness).
            return parse(env.fromSource(
                            ScriptedStreams.source(bindings.scriptKey(stream), stream, contract, checked),
                            ScriptedStreams.strategy(checked), "source: " + stream, Parsed.type(contract.type()))
                    .uid(prefix + "source." + stream), bindings, stream, contract, job);
        }
        if (bindings.isMemory(stream)) {
            return parse(env.fromSource(
                            MemoryStreams.source(bindings.memoryKey(stream), bindings.ratePerSecond(stream), stream, contract, checked),
                            strategy, "source: " + stream)
                    .uid(prefix + "source." + stream), bindings, stream, contract, job);
        }
        FileSource<Parsed<T>> files = FileSource
                .forRecordStreamFormat(new DecodedLines<>(stream, contract, checked), new Path(bindings.filePath(stream)))
                .build();
        return parse(env.fromSource(files, strategy, "source: " + stream)
                .uid(prefix + "source." + stream), bindings, stream, contract, job);
    }

    /**
     * Hands on the records a source decoded from {@code stream} (any source) and sends the dead
     * letters to the side output ({@link ParseRecords}), at the stream's parallelism.
     */
    public static <T> SingleOutputStreamOperator<T> parse(
            SingleOutputStreamOperator<Parsed<T>> decoded, StreamBindings bindings, String stream,
            RecordContract<T> contract, String job) {
        int parallelism = bindings.parallelism(stream);
        if (parallelism > 0) {
            decoded.setParallelism(parallelism);
        }
        String prefix = job.isEmpty() ? "" : job + ".";
        SingleOutputStreamOperator<T> records = decoded
                .process(new ParseRecords<T>(stream, bindings.paceMillis(stream), bindings.tokenKeyRequired(),
                        contract.sensitive()))
                .returns(TypeInformation.of(contract.type()))
                .name("parse: " + stream)
                .uid(prefix + "parse." + stream);
        if (parallelism > 0) {
            records.setParallelism(parallelism);
        }
        return records;
    }

    /** The lines of a file, each decoded ({@link Parsed#decode}); blank lines are skipped. */
    static final class DecodedLines<T> extends SimpleStreamFormat<Parsed<T>> {
        private static final long serialVersionUID = 1L;

        private final String stream;
        private final RecordContract<T> contract;
        private final Watermarks.EventTime<T> time;
        private final TextLineInputFormat lines = new TextLineInputFormat();

        DecodedLines(String stream, RecordContract<T> contract, Watermarks.EventTime<T> time) {
            this.stream = stream;
            this.contract = contract;
            this.time = time;
        }

        @Override
        public StreamFormat.Reader<Parsed<T>> createReader(Configuration config, FSDataInputStream input)
                throws IOException {
            TextLineInputFormat.Reader reader = lines.createReader(config, input);
            return new StreamFormat.Reader<Parsed<T>>() {
                @Override
                public Parsed<T> read() throws IOException {
                    for (String line = reader.read(); line != null; line = reader.read()) {
                        if (!line.isBlank()) {
                            return Parsed.decode(stream, contract, line, time);
                        }
                    }
                    return null;
                }

                @Override
                public void close() throws IOException {
                    reader.close();
                }
            };
        }

        @Override
        public TypeInformation<Parsed<T>> getProducedType() {
            return Parsed.type(contract.type());
        }
    }
}
