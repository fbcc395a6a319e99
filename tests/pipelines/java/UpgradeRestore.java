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
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * One phase of an upgrade: generated jobs (one Flink job on a MiniCluster, as {@link PipelineHarness}
 * builds it), started from a savepoint when {@code --restore=<path>} is given, fed some lines,
 * then stopped with a savepoint (no drain: no timer fires for the stop). Each phase runs in its own
 * JVM, so the next one can run another build of the same procs (the classes of an upgrade).
 *
 * <p>Arguments: shared Flink settings ({@code --flink.<option>=<value>}), {@code --savepoints=<dir>},
 * {@code --restore=<savepoint>}, {@code --feed=<key>=<file of lines>} per fed {@code memory:<key>}
 * stream, {@code --await=<key>=<n>} (wait, up to 30 s, until that stream has n lines written),
 * {@code --print=<key>} per stream to print, then {@code --job <class> <bindings>...}.
 *
 * <p>A fed stream hands out its lines, then an endless run of lines no schema accepts (dead
 * letters, a few ms apart: they reach no keyed operator and move no event time). After a restore a
 * source continues from its saved position: the lines start at the first position asked.
 *
 * <p>Prints one line: {@code UPGRADE_PHASE {"savepoint": <path>, "streams": {<key>: [lines]}}}.
 */
public final class UpgradeRestore {
    private static final String FILLER = "not a record (filler)";

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            // A failed phase leaves its MiniCluster's threads running: end the JVM here.
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        List<String> shared = new ArrayList<>();
        Map<String, String> feeds = new LinkedHashMap<>();
        Map<String, Integer> awaited = new LinkedHashMap<>();
        List<String> printed = new ArrayList<>();
        List<List<String>> jobs = new ArrayList<>();
        String savepoints = null;
        String restore = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--job")) {
                List<String> job = new ArrayList<>();
                job.add(args[++i]);
                jobs.add(job);
            } else if (args[i].startsWith("--savepoints=")) {
                savepoints = args[i].substring("--savepoints=".length());
            } else if (args[i].startsWith("--restore=")) {
                restore = args[i].substring("--restore=".length());
            } else if (args[i].startsWith("--feed=")) {
                String[] spec = args[i].substring("--feed=".length()).split("=", 2);
                feeds.put(spec[0], spec[1]);
            } else if (args[i].startsWith("--await=")) {
                String[] spec = args[i].substring("--await=".length()).split("=", 2);
                awaited.put(spec[0], Integer.parseInt(spec[1]));
            } else if (args[i].startsWith("--print=")) {
                printed.add(args[i].substring("--print=".length()));
            } else if (jobs.isEmpty()) {
                shared.add(args[i]);
            } else {
                jobs.get(jobs.size() - 1).add(args[i]);
            }
        }
        Configuration config = JobArgs.parse(shared.toArray(new String[0])).flinkConfiguration();
        if (restore != null) {
            config.set(StateRecoveryOptions.SAVEPOINT_PATH, restore);
        }
        List<AtomicLong> handedOut = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        for (Map.Entry<String, String> feed : feeds.entrySet()) {
            List<String> lines = Files.readAllLines(Paths.get(feed.getValue()));
            AtomicLong count = new AtomicLong();
            AtomicLong first = new AtomicLong(-1L);
            handedOut.add(count);
            sizes.add(lines.size());
            MemoryStreams.feed(feed.getKey(), Long.MAX_VALUE / 2, index -> {
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
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        PipelineHarness.build(env, jobs);
        JobClient client = env.executeAsync("nexflow upgrade phase");
        long deadline = System.currentTimeMillis() + 60_000L;
        for (int i = 0; i < handedOut.size(); i++) {
            while (handedOut.get(i).get() < sizes.get(i)) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("the sources did not read the phase's lines in time");
                }
                Thread.sleep(20L);
            }
        }
        // What the phase should have written (a timer that fires as the watermark passes).
        long awaitUntil = System.currentTimeMillis() + 30_000L;
        for (Map.Entry<String, Integer> wanted : awaited.entrySet()) {
            while (MemoryStreams.written(wanted.getKey()).size() < wanted.getValue()
                    && System.currentTimeMillis() < awaitUntil) {
                Thread.sleep(20L);
            }
        }
        String savepoint = stopWithSavepoint(client, savepoints, deadline);
        client.getJobExecutionResult().get(120, TimeUnit.SECONDS);
        Map<String, Object> streams = new LinkedHashMap<>();
        for (String key : printed) {
            streams.put(key, MemoryStreams.written(key));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("savepoint", savepoint);
        result.put("streams", streams);
        System.out.println("UPGRADE_PHASE " + Json.toJson(result));
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
