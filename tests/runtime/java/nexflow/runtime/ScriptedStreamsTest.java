package nexflow.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** script: streams are `nexflow test`'s: a job built for a cluster refuses them before it starts. */
class ScriptedStreamsTest {

    @Test
    void aJobThatRequiresATokenKeyRefusesAScriptStream() {
        // tokens.require_key: set by every environment that runs on a cluster.
        StreamBindings bindings = StreamBindings.of(Map.of(
                "stream.orders", "script:t0.orders", "tokens.require_key", "true"));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> Sources.jsonLines(env, bindings, "orders", null, "Job", null));
        assertTrue(refused.getMessage().contains("stream 'orders' is bound to script:t0.orders")
                && refused.getMessage().contains("nexflow test"), refused.getMessage());
    }

    @Test
    void aScriptStreamBindingIsRecognised() {
        StreamBindings bindings = StreamBindings.of(Map.of("stream.orders", "script:t0.orders"));
        assertTrue(bindings.isScript("orders"));
        assertTrue(bindings.scriptKey("orders").equals("t0.orders"));
        assertThrows(IllegalArgumentException.class,
                () -> StreamBindings.of(Map.of("stream.orders", "memory:m")).scriptKey("orders"));
    }
}
