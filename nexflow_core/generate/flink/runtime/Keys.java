package nexflow.runtime;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.time.Duration;
import org.apache.flink.api.common.state.StateTtlConfig;

/** Keys of keyed operators, and the time-to-live every keyed state carries. */
public final class Keys {
    private Keys() {}

    /**
     * The key of a record as text: a text as itself, another value as its JSON, a missing value
     * as the text "\u0000" (Flink hashes keys to partitions, so a key is never null); several
     * values as a JSON array.
     */
    public static String of(Object value) {
        if (value == null) {
            return "\u0000";
        }
        return value instanceof String ? (String) value : Json.toJson(value);
    }

    public static String of(Object first, Object... more) {
        ArrayNode out = Json.mapper().createArrayNode();
        out.addPOJO(first);
        for (Object value : more) {
            out.addPOJO(value);
        }
        return Json.toJson(out);
    }

    /**
     * The TTL of a keyed state: written or created state lives {@code millis} (processing time),
     * and an expired value is never returned, even before it is cleaned up.
     */
    public static StateTtlConfig ttl(long millis) {
        return StateTtlConfig.newBuilder(Duration.ofMillis(millis))
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                // Heap state: look at one more entry for expiry on each access (Flink's default is
                // five, which cost a keyed step with three states a quarter of its time; one still
                // sweeps the whole state as it is used). RocksDB cleans up in compaction instead.
                .cleanupIncrementally(1, false)
                .build();
    }
}
