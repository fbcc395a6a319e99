package nexflow.runtime;

import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;

/**
 * Records as JSON bytes (the one JSON form of {@link Json}) for sinks such as Kafka's. It names
 * its record type: Flink's Kafka sink (connector 5.0) asks a value serializer for its type when
 * the sink is added, and fails on a lambda whose type it cannot infer.
 */
public final class JsonSerialization<T> implements SerializationSchema<T>, ResultTypeQueryable<T> {
    private static final long serialVersionUID = 1L;

    private final TypeInformation<T> type;

    public JsonSerialization(TypeInformation<T> type) {
        this.type = type;
    }

    @Override
    public byte[] serialize(T record) {
        return Json.toBytes(record);
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return type;
    }
}
