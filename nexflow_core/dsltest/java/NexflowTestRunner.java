package nexflow.testrunner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import nexflow.runtime.Json;
import nexflow.runtime.RuleOutcome;

/**
 * Runs the cases of `nexflow test` (docs/language/tests.md) against the generated Java: one
 * JSON line per case in (its subject's class, its input), one JSON line per case out (the
 * result as the runtime's Json mapper writes it, the table rows that matched, the nanoseconds
 * the call took). Tests of rules, tables and transforms are plain Java calls of the generated
 * evaluators; tests of procs run their generated jobs on one Flink MiniCluster
 * ({@link ProcTestDriver}), started only when a proc is tested. Written by the CLI next to the
 * generated sources; not part of any job.
 */
public final class NexflowTestRunner {
    private NexflowTestRunner() {}

    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = Json.mapper();
        List<String> lines = Files.readAllLines(Paths.get(args[0]), StandardCharsets.UTF_8);
        try (BufferedWriter out = Files.newBufferedWriter(Paths.get(args[1]), StandardCharsets.UTF_8);
                ProcTestDriver procs = new ProcTestDriver()) {
            for (String line : lines) {
                if (line.isEmpty()) {
                    continue;
                }
                JsonNode c = mapper.readTree(line);
                ObjectNode r = mapper.createObjectNode();
                r.set("id", c.get("id"));
                try {
                    if (c.get("kind").asText().equals("proc")) {
                        procs.run(mapper, c, r);
                    } else {
                        run(mapper, c, r);
                    }
                } catch (InvocationTargetException e) {
                    failed(r, e.getCause());
                } catch (Exception e) {
                    failed(r, e);
                }
                out.write(mapper.writeValueAsString(r));
                out.write('\n');
                // Each result as soon as it is known: a later test that hangs keeps the others.
                out.flush();
            }
        }
    }

    private static void failed(ObjectNode r, Throwable e) {
        r.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
    }

    private static Method method(Class<?> subject, String name, int arity) {
        for (Method m : subject.getMethods()) {
            if (m.getName().equals(name) && Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == arity) {
                return m;
            }
        }
        throw new IllegalStateException(subject.getName() + " has no static " + name + " of " + arity + " argument(s)");
    }

    private static void run(ObjectMapper mapper, JsonNode c, ObjectNode r) throws Exception {
        Class<?> subject = Class.forName(c.get("class").asText());
        String kind = c.get("kind").asText();
        Object result;
        long start;
        long end;
        if (kind.equals("transform")) {
            JsonNode args = c.get("args");
            Method apply = method(subject, "apply", args.size());
            Type[] types = apply.getGenericParameterTypes();
            Object[] values = new Object[types.length];
            for (int i = 0; i < types.length; i++) {
                values[i] = mapper.convertValue(args.get(i), mapper.constructType(types[i]));
            }
            start = System.nanoTime();
            result = apply.invoke(null, values);
            end = System.nanoTime();
            r.set("result", mapper.valueToTree(result));
        } else {
            Method evaluate = method(subject, "evaluate", 1);
            Object input = mapper.treeToValue(c.get("input"), evaluate.getParameterTypes()[0]);
            if (kind.equals("table")) {
                // The overload that also reports the rows that matched (the coverage).
                Method withRows = subject.getMethod("evaluate", evaluate.getParameterTypes()[0], List.class);
                List<String> rows = new ArrayList<>();
                start = System.nanoTime();
                result = withRows.invoke(null, input, rows);
                end = System.nanoTime();
                r.set("result", mapper.valueToTree(result));
                r.set("rows", mapper.valueToTree(rows));
            } else {
                start = System.nanoTime();
                RuleOutcome<?> outcome = (RuleOutcome<?>) evaluate.invoke(null, input);
                end = System.nanoTime();
                ObjectNode res = mapper.valueToTree(outcome.result());
                res.set("record", mapper.valueToTree(outcome.record()));
                r.set("result", res);
            }
        }
        r.put("nanos", end - start);
    }
}
