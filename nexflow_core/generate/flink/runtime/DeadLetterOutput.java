package nexflow.runtime;

import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.util.OutputTag;

/**
 * Where a Flink job's dead letters go: the side output every operator sends its envelopes to
 * ({@link Errors#envelope}), and the serialization of the dead-letter sink, which cuts an
 * envelope to what the producer may send ({@link Errors#capped}).
 */
public final class DeadLetterOutput {
    /** The side output every operator sends dead letters to (JSON envelopes). */
    public static final OutputTag<String> TAG = new OutputTag<>("nexflow-dead-letter", Types.STRING);

    private DeadLetterOutput() {}

    /** Envelopes as UTF-8, each {@link Errors#capped} to {@code limit} bytes. */
    public static final class Capped implements SerializationSchema<String> {
        private static final long serialVersionUID = 1L;

        private final int limit;

        public Capped(int limit) {
            this.limit = limit;
        }

        @Override
        public byte[] serialize(String envelope) {
            return Errors.capped(envelope, limit);
        }
    }
}
