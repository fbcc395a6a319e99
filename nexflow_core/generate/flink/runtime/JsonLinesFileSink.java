package nexflow.runtime;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Writes records as JSON lines into {@code <directory>/part-<subtask>.jsonl}: the local binding
 * of a stream for runs and tests without a broker. Lines are flushed on every checkpoint and when
 * the job ends; it gives no exactly-once guarantee.
 */
public final class JsonLinesFileSink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;

    private final String directory;

    public JsonLinesFileSink(String directory) {
        this.directory = directory;
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) throws IOException {
        Path dir = Paths.get(directory);
        Files.createDirectories(dir);
        int subtask = context.getTaskInfo().getIndexOfThisSubtask();
        Path file = dir.resolve("part-" + subtask + ".jsonl");
        return new Writer<>(Files.newBufferedWriter(file, StandardCharsets.UTF_8));
    }

    private static final class Writer<T> implements SinkWriter<T> {
        private final BufferedWriter out;

        Writer(BufferedWriter out) {
            this.out = out;
        }

        @Override
        public void write(T element, Context context) throws IOException {
            out.write(Json.mapper().writeValueAsString(element));
            out.newLine();
        }

        @Override
        public void flush(boolean endOfInput) throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
