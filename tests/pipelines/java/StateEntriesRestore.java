import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import nexflow.runtime.JobArgs;
import nexflow.runtime.Json;
import nexflow.runtime.MemoryStreams;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs generated jobs (one Flink job on a MiniCluster) in phases, each restored from the savepoint
 * the previous one stopped with, and prints the {@code state_entries} gauges each phase ended with
 * (read by {@link StateEntriesReporter}).
 *
 * <p>Arguments: shared Flink settings ({@code --flink.<option>=<value>}), {@code --savepoints=<dir>},
 * {@code --feed-key=<key>} for every {@code memory:<key>} stream the jobs read, then
 * {@code --phase=<parallelism>=<file of lines>} per phase, then {@code --job <class> <bindings>...}
 * as for {@link PipelineHarness}.
 *
 * <p>In each phase every fed stream reads the phase's lines, then an endless run of lines no
 * schema accepts (dead letters, a few ms apart: they reach no keyed operator and move no event
 * time); once every stream has handed out all the phase's lines the job is stopped with a
 * savepoint (no drain: no timer fires). The savepoint barrier follows those lines, so the keyed
 * state and the gauges of the savepoint hold exactly their effect. After a restore a source
 * continues from its saved position: the phase's lines start at the first position asked.
 *
 * <p>Prints one line: {@code STATE_ENTRIES_PHASES <JSON list of {parallelism, gauges}>}.
 */
public final class StateEntriesRestore {
    private static final String FILLER = "not a record (filler)";

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            // A failed phase leaves its MiniCluster's threads running: end the JVM here.
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        List<String> shared = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        List<String[]> phases = new ArrayList<>();
        List<List<String>> jobs = new ArrayList<>();
        String savepoints = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--job")) {
                List<String> job = new ArrayList<>();
                job.add(args[++i]);
                jobs.add(job);
            } else if (args[i].startsWith("--savepoints=")) {
                savepoints = args[i].substring("--savepoints=".length());
            } else if (args[i].startsWith("--feed-key=")) {
                keys.add(args[i].substring("--feed-key=".length()));
            } else if (args[i].startsWith("--phase=")) {
                phases.add(args[i].substring("--phase=".length()).split("=", 2));
            } else if (jobs.isEmpty()) {
                shared.add(args[i]);
            } else {
                jobs.get(jobs.size() - 1).add(args[i]);
            }
        }
        List<Map<String, Object>> results = new ArrayList<>();
        String restoreFrom = null;
        for (String[] phase : phases) {
            int parallelism = Integer.parseInt(phase[0]);
            List<String> lines = Files.readAllLines(Paths.get(phase[1]));
            Configuration config = JobArgs.parse(shared.toArray(new String[0])).flinkConfiguration();
            config.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
            if (restoreFrom != null) {
                config.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom);
            }
            List<AtomicLong> handedOut = new ArrayList<>();
            for (String key : keys) {
                AtomicLong count = new AtomicLong();
                AtomicLong first = new AtomicLong(-1L);
                handedOut.add(count);
                MemoryStreams.feed(key, Long.MAX_VALUE / 2, index -> {
                    first.compareAndSet(-1L, index);
                    long at = index - first.get();
                    if (at < lines.size()) {
                        count.incrementAndGet();
                        return lines.get((int) at);
                    }
                    try {
                        Thread.sleep(5L);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return FILLER;
                });
            }
            StateEntriesReporter.reset();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
            PipelineHarness.build(env, jobs);
            JobClient client = env.executeAsync("nexflow state_entries restore");
            long deadline = System.currentTimeMillis() + 120_000L;
            while (!handedOut.stream().allMatch(c -> c.get() >= lines.size())) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("the sources did not read the phase's lines in time");
                }
                Thread.sleep(20L);
            }
            restoreFrom = stopWithSavepoint(client, savepoints, deadline);
            client.getJobExecutionResult().get(120, TimeUnit.SECONDS);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("parallelism", parallelism);
            result.put("gauges", StateEntriesReporter.finalValues(10_000L));
            result.put("all_ended", StateEntriesReporter.allEnded());
            results.add(result);
        }
        System.out.println("STATE_ENTRIES_PHASES " + Json.toJson(results));
    }

    /**
     * Stops the job with a savepoint; the sources may hand out lines before every task of the job
     * runs, and Flink refuses a savepoint until then: retried until the deadline.
     */
    private static String stopWithSavepoint(JobClient client, String dir, long deadline) throws Exception {
        while (true) {
            try {
                return client.stopWithSavepoint(false, dir, SavepointFormatType.CANONICAL).get(120, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
                Thread.sleep(200L);
            }
        }
    }
}
