package nexflow.runtime;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Hands on what a source decoded ({@link Parsed}): validated records of the stream's schema to
 * the job, and inputs that are not one (MALFORMED_INPUT, VALIDATION_FAILED, NULL_VALUE,
 * UNDECODABLE) to the dead-letter output with the raw input; blank lines are skipped. Counted in
 * the operator's metrics ({@code parse.<stream>}).
 */
public final class ParseRecords<T> extends ProcessFunction<Parsed<T>, T> {
    private static final long serialVersionUID = 1L;

    private final String stream;
    private final long paceMillis;
    private final boolean tokenKeyRequired;
    private final boolean sensitive;
    private transient OperatorMetrics metrics;

    public ParseRecords(String stream) {
        this(stream, 0L, false, false);
    }

    /**
     * {@code paceMillis} &gt; 0: wait that long before each line (paced replays).
     * {@code tokenKeyRequired}: this task manager must have a token key ({@link Tokens#require});
     * when the stream has sensitive fields, the job fails as it starts without one.
     */
    public ParseRecords(String stream, long paceMillis, boolean tokenKeyRequired, boolean sensitive) {
        this.stream = stream;
        this.paceMillis = paceMillis;
        this.tokenKeyRequired = tokenKeyRequired;
        this.sensitive = sensitive;
    }

    @Override
    public void open(OpenContext context) {
        metrics = OperatorMetrics.register(getRuntimeContext(), "parse." + stream);
        if (tokenKeyRequired) {
            Tokens.require(sensitive);
        }
    }

    @Override
    public void processElement(Parsed<T> input, Context context, Collector<T> out) throws InterruptedException {
        if (!input.isRecord() && !input.isDeadLetter()) {
            return;
        }
        if (paceMillis > 0) {
            Thread.sleep(paceMillis);
        }
        long start = metrics.start();
        if (input.isDeadLetter()) {
            metrics.error(Errors.RECOVERABLE, input.reason);
            Log.warn("dead_letter", "parse." + stream, input.correlationId, input.reason + ": " + input.message, null);
            context.output(DeadLetterOutput.TAG, input.deadLetter);
            return;
        }
        out.collect(input.record);
        metrics.emitted(start);
    }
}
