package nexflow.tests.e2e.upgrades;

import java.util.Map;
import nexflow.runtime.JobArgs;
import nexflow.runtime.StreamBindings;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The upgrade matrix's job (tests/e2e/test_upgrade_matrix.py): the procs of tests/e2e/upgrades,
 * one proc per kind of keyed state, built into ONE Flink job, so that one savepoint holds every
 * kind and each variant is one submission. Each proc is built exactly as its own main() builds
 * it (its defaults, then the program arguments); the Flink settings are the first proc's (all
 * are bound to the same environment).
 */
public final class UpgradeMatrixJob {
    static final String[] PROCS = {"Spend", "Velocity", "Windows", "Dedup", "Match", "Settle"};

    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = null;
        for (String proc : PROCS) {
            Class<?> type = Class.forName("nexflow.tests.e2e.upgrades." + proc + "Job");
            @SuppressWarnings("unchecked")
            Map<String, String> defaults = (Map<String, String>) type.getMethod("defaults").invoke(null);
            JobArgs jobArgs = JobArgs.parse(args, defaults);
            if (env == null) {
                env = StreamExecutionEnvironment.getExecutionEnvironment(jobArgs.flinkConfiguration());
            }
            type.getMethod("build", StreamExecutionEnvironment.class, StreamBindings.class)
                    .invoke(null, env, jobArgs.streams());
        }
        env.execute("UpgradeMatrix");
    }
}
