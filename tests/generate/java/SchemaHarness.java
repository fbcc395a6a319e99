import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import nexflow.runtime.Json;
import nexflow.runtime.RecordContract;
import nexflow.runtime.Violation;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Test harness: for each JSON line of a file, parse it as the record of a generated contract,
 * validate and normalize it, round-trip it through Flink's serializer (generic types off, so a
 * Kryo fallback fails) and print one JSON line describing the outcome.
 * Usage: SchemaHarness <contract class> <input file>
 */
public final class SchemaHarness {
    public static void main(String[] args) throws Exception {
        @SuppressWarnings("unchecked")
        RecordContract<Object> contract =
                (RecordContract<Object>) Class.forName(args[0]).getField("INSTANCE").get(null);
        TypeInformation<Object> info = TypeInformation.of(contract.type());
        SerializerConfigImpl config = new SerializerConfigImpl();
        config.setGenericTypes(false);
        TypeSerializer<Object> serializer = info.createSerializer(config);
        System.out.println("{\"type_info\": " + Json.mapper().writeValueAsString(info.toString()) + "}");
        for (String line : Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8)) {
            ObjectNode out = Json.mapper().createObjectNode();
            try {
                Object record = Json.mapper().readValue(line, contract.type());
                List<Violation> violations = contract.violations(record);
                ArrayNode v = out.putArray("violations");
                for (Violation violation : violations) {
                    v.addObject().put("field", violation.field).put("code", violation.code);
                }
                if (violations.isEmpty()) {
                    contract.normalize(record);
                    DataOutputSerializer bytes = new DataOutputSerializer(256);
                    serializer.serialize(record, bytes);
                    Object back = serializer.deserialize(new DataInputDeserializer(bytes.getCopyOfBuffer()));
                    out.put("flink_round_trip", back.equals(record));
                    out.set("json", Json.mapper().readTree(Json.mapper().writeValueAsString(back)));
                    out.set("masked", Json.mapper().readTree(contract.maskedJson(back)));
                    out.put("correlation_id", contract.correlationId(back));
                }
            } catch (Exception e) {
                out.put("error", e.getClass().getSimpleName());
            }
            System.out.println(Json.toJson(out));
        }
    }
}
