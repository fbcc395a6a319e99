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
 * Writes text lines (such as dead-letter envelopes) into {@code <directory>/part-<subtask>.jsonl}:
 * the local binding of a text stream. Flushed on every checkpoint and at the end.
 */
public final class LinesFileSink implements Sink<String> {
    private static final long serialVersionUID = 1L;

    private final String directory;

    public LinesFileSink(String directory) {
        this.directory = directory;
    }

    @Override
    public SinkWriter<String> createWriter(WriterInitContext context) throws IOException {
        Path dir = Paths.get(directory);
        Files.createDirectories(dir);
        int subtask = context.getTaskInfo().getIndexOfThisSubtask();
        BufferedWriter out = Files.newBufferedWriter(dir.resolve("part-" + subtask + ".jsonl"), StandardCharsets.UTF_8);
        return new SinkWriter<String>() {
            @Override
            public void write(String element, Context context) throws IOException {
                out.write(element);
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
        };
    }
}
