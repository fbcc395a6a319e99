package nexflow.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A local run of generated jobs with no broker and no cluster: each job runs on an embedded Flink
 * MiniCluster (Flink's runtime must be on the classpath) over {@code file:}-bound streams, its output
 * records are printed as the sinks write them, and a summary follows.
 *
 * <p>{@code LocalRun --plan=FILE [--plan=FILE ...] [--base-dir=DIR] [--<setting>=<value> ...]}
 *
 * <ul>
 *   <li>A plan ({@code nexflow compile --run-plan-out}) names each job's class and the complete settings
 *       it starts from in the chosen environment; they replace the class's own {@code defaults()}, so a job
 *       built for another environment keeps none of that environment's settings.
 *   <li>Relative {@code file:} paths (and the {@code file} a memory store starts from) are resolved
 *       against the base directory (default: the working
 *       directory). Dead letters and alerts a plan leaves unbound go to {@code out/<proc>.dead_letter} and
 *       {@code out/<proc>.alerts} there. Output files of an earlier run are removed first.
 *   <li>Other arguments override settings as they do for the job itself ({@code --stream.<name>=<uri>}, ...).
 *   <li>Jobs run one after the other, a job writing a stream before the jobs reading it. Sinks flush on
 *       checkpoints, taken every {@value #CHECKPOINT_EVERY} here unless an argument says otherwise, so
 *       records show up while the job runs.
 * </ul>
 *
 * <p>A job reading a {@code kafka:} topic (an environment such as {@code dev}, with a broker) never ends
 * by itself: it runs <em>live</em>. Its Kafka-bound outputs are followed by a consumer per topic
 * ({@code read_committed}, from the topic's end when the run starts, so only this run's records are
 * printed, once visible to downstream readers), and the run stops, cancelling the job, on the first of:
 * <ul>
 *   <li>{@code --stop-after-idle=SECONDS}: no output record for that long, counted from the end of
 *       {@code --produce} (0: never, the default);
 *   <li>{@code --stop-after-records=N}: N output records printed, over all outputs (dead letters included);
 *   <li>Ctrl-C; or the job failing.
 * </ul>
 * A summary follows. {@code --produce=STREAM=FILE} first sends each non-empty line of FILE (relative
 * to the base directory) to the topic STREAM reads, as it is, once the job runs, one line every
 * {@code stream.STREAM.pace_ms} (the pace a file source would replay at); an empty FILE cancels an
 * earlier {@code --produce} of that stream.
 */
public final class LocalRun {
    /** The stream generated jobs write alerts raised by rules to (their {@code ALERT_STREAM}). */
    static final String ALERTS = "alerts";
    static final String CHECKPOINT_INTERVAL = "flink.execution.checkpointing.interval";
    static final String CHECKPOINT_EVERY = "500 ms";
    private static final long POLL_MILLIS = 100L;

    /** How a live run (a job reading Kafka) is fed and when it stops; ignored by runs over files. */
    static final class Live {
        final Map<String, Path> produce = new LinkedHashMap<>();
        double stopAfterIdleSeconds = 0;
        long stopAfterRecords = 0;
        final CountDownLatch interrupted = new CountDownLatch(1);
        final CountDownLatch finished = new CountDownLatch(1);
    }

    private LocalRun() {}

    public static void main(String[] args) throws Exception {
        int status = run(args, System.out);
        System.out.flush();
        // The MiniCluster may leave non-daemon threads behind; the run is over.
        System.exit(status);
    }

    /** Runs the planned jobs; prints records and summaries to {@code out}; returns the exit status. */
    public static int run(String[] args, PrintStream out) throws Exception {
        long started = System.nanoTime();
        List<String> plans = new ArrayList<>();
        List<String> overrides = new ArrayList<>();
        Path baseDir = Paths.get("");
        Live live = new Live();
        Map<String, String> produce = new LinkedHashMap<>();
        for (String arg : args) {
            if (arg.startsWith("--produce=")) {
                String spec = arg.substring("--produce=".length());
                int eq = spec.indexOf('=');
                if (eq <= 0) {
                    out.println("LocalRun: --produce wants STREAM=FILE, got '" + spec + "'");
                    return 2;
                }
                produce.remove(spec.substring(0, eq));
                if (eq < spec.length() - 1) {
                    produce.put(spec.substring(0, eq), spec.substring(eq + 1));
                }
            } else if (arg.startsWith("--stop-after-idle=")) {
                live.stopAfterIdleSeconds = Double.parseDouble(arg.substring("--stop-after-idle=".length()));
            } else if (arg.startsWith("--stop-after-records=")) {
                live.stopAfterRecords = Long.parseLong(arg.substring("--stop-after-records=".length()));
            } else if (arg.startsWith("--plan=")) {
                plans.add(arg.substring("--plan=".length()));
            } else if (arg.startsWith("--base-dir=")) {
                baseDir = Paths.get(arg.substring("--base-dir=".length()));
            } else {
                overrides.add(arg);
            }
        }
        if (plans.isEmpty()) {
            out.println("LocalRun: no --plan=FILE given (a run plan from `nexflow compile --run-plan-out`)");
            return 2;
        }
        List<JsonNode> jobs = new ArrayList<>();
        for (String plan : plans) {
            for (JsonNode job : Json.mapper().readTree(Paths.get(plan).toFile()).get("jobs")) {
                jobs.add(job);
            }
        }
        for (Map.Entry<String, String> e : produce.entrySet()) {
            live.produce.put(e.getKey(), resolve(baseDir, e.getValue()));
        }
        // Ctrl-C: a live run stops its job and prints its summary before the JVM goes.
        Thread hook = new Thread(() -> {
            live.interrupted.countDown();
            try {
                live.finished.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                // Exiting anyway.
            }
        }, "nexflow-local-run-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return runAll(jobs, baseDir, overrides, live, started, out);
        } finally {
            out.flush();
            live.finished.countDown();
        }
    }

    private static int runAll(List<JsonNode> jobs, Path baseDir, List<String> overrides, Live live, long started,
            PrintStream out) throws Exception {
        int done = 0;
        for (JsonNode job : inDataflowOrder(jobs)) {
            int status = runJob(job, baseDir, overrides.toArray(new String[0]), live, out);
            if (status != 0) {
                return status;
            }
            done++;
        }
        out.printf("== %d job%s, wall time %s%n", done, done == 1 ? "" : "s", seconds(System.nanoTime() - started));
        return 0;
    }

    /** A job that writes a stream runs before the jobs reading it; otherwise in plan order. */
    static List<JsonNode> inDataflowOrder(List<JsonNode> jobs) {
        List<JsonNode> pending = new ArrayList<>(jobs);
        List<JsonNode> ordered = new ArrayList<>();
        while (!pending.isEmpty()) {
            JsonNode next = pending.get(0);
            for (JsonNode candidate : pending) {
                boolean waits = false;
                for (JsonNode other : pending) {
                    if (other != candidate && writesWhatReads(other, candidate)) {
                        waits = true;
                    }
                }
                if (!waits) {
                    next = candidate;
                    break;
                }
            }
            pending.remove(next);
            ordered.add(next);
        }
        return ordered;
    }

    private static boolean writesWhatReads(JsonNode writer, JsonNode reader) {
        for (JsonNode read : reader.get("reads")) {
            for (JsonNode written : writer.get("writes")) {
                if (read.asText().equals(written.asText())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int runJob(JsonNode job, Path baseDir, String[] overrides, Live live, PrintStream out)
            throws Exception {
        long started = System.nanoTime();
        String proc = job.get("proc").asText();
        String jobClass = job.get("job_class").asText();
        Map<String, String> settings = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> planned = job.get("settings").fields();
        while (planned.hasNext()) {
            Map.Entry<String, JsonNode> e = planned.next();
            settings.put(e.getKey(), e.getValue().asText());
        }
        settings.put(CHECKPOINT_INTERVAL, CHECKPOINT_EVERY);
        String deadLetter = job.get("dead_letter").asText();
        settings.putIfAbsent("stream." + deadLetter, "file:out/" + proc + ".dead_letter");
        settings.putIfAbsent("stream." + ALERTS, "file:out/" + proc + ".alerts");
        Map<String, String> resolved = new TreeMap<>(JobArgs.parse(overrides, settings).settings());
        for (Map.Entry<String, String> e : resolved.entrySet()) {
            String key = e.getKey();
            boolean binding = key.startsWith("stream.") && key.indexOf('.', "stream.".length()) < 0;
            if (binding && e.getValue().startsWith("file:")) {
                e.setValue("file:" + resolve(baseDir, e.getValue().substring("file:".length())));
            } else if (key.startsWith("store.") && key.endsWith(".file")) {
                // The file a memory store starts from (its records, by key).
                e.setValue(resolve(baseDir, e.getValue()).toString());
            }
        }
        JobArgs jobArgs = JobArgs.parse(new String[0], resolved);
        StreamBindings streams = jobArgs.streams();
        for (JsonNode read : job.get("reads")) {
            if (streams.isKafka(read.asText())) {
                return runLive(job, jobArgs, live, out);
            }
        }

        Map<String, Path> inputs = new LinkedHashMap<>();
        for (JsonNode read : job.get("reads")) {
            String stream = read.asText();
            Path path = Paths.get(streams.filePath(stream));
            if (!Files.exists(path)) {
                out.printf("LocalRun: %s reads %s from %s, which does not exist%n", proc, stream, display(path));
                return 2;
            }
            inputs.put(stream, path);
        }
        Map<String, Path> outputs = new LinkedHashMap<>();
        for (JsonNode written : job.get("writes")) {
            outputs.put(written.asText(), Paths.get(streams.filePath(written.asText())));
        }
        outputs.put(deadLetter, Paths.get(streams.filePath(deadLetter)));
        outputs.put(ALERTS, Paths.get(streams.filePath(ALERTS)));
        for (Path dir : outputs.values()) {
            removeParts(dir);
        }

        out.printf("== %s (%s), environment %s: reading %s%n", proc, jobClass, job.get("environment").asText(),
                String.join(", ", inputs.keySet()));
        Tail tail = new Tail(outputs, out);
        Thread follower = new Thread(tail, "nexflow-local-run-tail");
        follower.setDaemon(true);
        follower.start();
        JobExecutionResult result;
        try {
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(jobArgs.flinkConfiguration());
            Method build = Class.forName(jobClass).getMethod("build", StreamExecutionEnvironment.class, StreamBindings.class);
            build.invoke(null, env, streams);
            result = env.execute(proc);
        } catch (InvocationTargetException e) {
            tail.stop(follower);
            out.printf("LocalRun: %s could not be built: %s%n", proc, rootMessage(e.getCause()));
            return 1;
        } catch (Exception e) {
            tail.stop(follower);
            out.printf("LocalRun: %s failed: %s%n", proc, rootMessage(e));
            return 1;
        }
        tail.stop(follower);

        int width = 12;
        for (String stream : inputs.keySet()) {
            width = Math.max(width, stream.length() + 5);
        }
        for (String stream : outputs.keySet()) {
            width = Math.max(width, stream.length() + 5);
        }
        out.printf("== %s: done in %s (the Flink job ran %s)%n", proc, seconds(System.nanoTime() - started),
                seconds(result.getNetRuntime() * 1_000_000L));
        for (Map.Entry<String, Path> e : inputs.entrySet()) {
            summary(out, width, "in   " + e.getKey(), records(countLines(e.getValue())), display(e.getValue()));
        }
        for (Map.Entry<String, Path> e : outputs.entrySet()) {
            String stream = e.getKey();
            if (!stream.equals(deadLetter) && !stream.equals(ALERTS)) {
                summary(out, width, "out  " + stream, records(tail.count(stream)), display(e.getValue()));
            }
        }
        summary(out, width, "dead letters", records(tail.count(deadLetter)), display(outputs.get(deadLetter)));
        summary(out, width, "alerts", records(tail.count(ALERTS)), display(outputs.get(ALERTS)));
        summary(out, width, "late events", lateEvents(job, tail), "");
        return 0;
    }

    /** A job reading Kafka: run it until a stop condition holds (see the class comment), then cancel it. */
    private static int runLive(JsonNode job, JobArgs jobArgs, Live live, PrintStream out) throws Exception {
        long started = System.nanoTime();
        String proc = job.get("proc").asText();
        StreamBindings streams = jobArgs.streams();
        List<String> reads = new ArrayList<>();
        for (JsonNode read : job.get("reads")) {
            reads.add(read.asText());
        }
        for (String stream : live.produce.keySet()) {
            if (!reads.contains(stream) || !streams.isKafka(stream)) {
                out.printf("LocalRun: --produce=%s=...: %s reads no Kafka topic named %s%n", stream, proc, stream);
                return 2;
            }
            if (!Files.isRegularFile(live.produce.get(stream))) {
                out.printf("LocalRun: --produce=%s=%s: no such file%n", stream, display(live.produce.get(stream)));
                return 2;
            }
        }
        String deadLetter = job.get("dead_letter").asText();
        List<String> written = new ArrayList<>();
        for (JsonNode w : job.get("writes")) {
            written.add(w.asText());
        }
        written.add(deadLetter);
        written.add(ALERTS);
        Map<String, Path> files = new LinkedHashMap<>();
        Map<String, String> topics = new LinkedHashMap<>();
        for (String stream : written) {
            if (streams.isKafka(stream)) {
                topics.put(stream, streams.topic(stream));
            } else {
                files.put(stream, Paths.get(streams.filePath(stream)));
            }
        }
        for (Path dir : files.values()) {
            removeParts(dir);
        }

        out.printf("== %s (%s), environment %s: reading %s (live: Kafka)%n", proc, job.get("job_class").asText(),
                job.get("environment").asText(), String.join(", ", reads));
        Map<String, Path> all = new LinkedHashMap<>();
        for (String stream : written) {
            all.put(stream, files.get(stream));
        }
        Tail tail = new Tail(all, out);
        try {
            List<String> needed = new ArrayList<>();
            for (String stream : reads) {
                if (streams.isKafka(stream)) {
                    needed.add(streams.topic(stream));
                }
            }
            needed.addAll(topics.values());
            createMissingTopics(streams, needed, out);
        } catch (Exception e) {
            out.printf("LocalRun: %s: no topics on the broker: %s%n", proc, rootMessage(e));
            return 1;
        }
        List<KafkaTail> kafkaTails = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        JobClient client = null;
        Map<String, Long> produced = new TreeMap<>();
        String ended;
        try {
            for (Map.Entry<String, String> e : topics.entrySet()) {
                KafkaTail k = new KafkaTail(e.getKey(), e.getValue(), streams, tail);
                kafkaTails.add(k);
            }
            threads.add(new Thread(tail, "nexflow-local-run-tail"));
            for (KafkaTail k : kafkaTails) {
                threads.add(new Thread(k, "nexflow-local-run-kafka-" + k.stream));
            }
            for (Thread t : threads) {
                t.setDaemon(true);
                t.start();
            }
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(jobArgs.flinkConfiguration());
            Method build = Class.forName(job.get("job_class").asText())
                    .getMethod("build", StreamExecutionEnvironment.class, StreamBindings.class);
            try {
                build.invoke(null, env, streams);
            } catch (InvocationTargetException e) {
                out.printf("LocalRun: %s could not be built: %s%n", proc, rootMessage(e.getCause()));
                return 1;
            }
            client = env.executeAsync(proc);
            while (client.getJobStatus().get() != JobStatus.RUNNING) {
                if (client.getJobStatus().get().isGloballyTerminalState()) {
                    break;
                }
                Thread.sleep(POLL_MILLIS);
            }
            for (Map.Entry<String, Path> e : live.produce.entrySet()) {
                produced.put(e.getKey(), produce(streams, e.getKey(), e.getValue()));
            }
            ended = waitForStop(client, live, tail);
        } catch (Exception e) {
            out.printf("LocalRun: %s failed: %s%n", proc, rootMessage(e));
            return 1;
        } finally {
            if (client != null) {
                try {
                    if (!client.getJobStatus().get().isGloballyTerminalState()) {
                        client.cancel().get(30, TimeUnit.SECONDS);
                    }
                } catch (Exception ignored) {
                    // Shutting down (Ctrl-C): the MiniCluster goes with the JVM.
                }
            }
            for (KafkaTail k : kafkaTails) {
                k.running = false;
            }
            // Consumers see `running` within a poll; interrupting one would fail its close.
            for (Thread t : threads) {
                if (t.getName().equals("nexflow-local-run-tail")) {
                    t.interrupt();
                }
                t.join(10_000L);
            }
            tail.poll();
        }
        if (ended.startsWith("failed")) {
            out.printf("LocalRun: %s %s%n", proc, ended);
            return 1;
        }

        int width = 12;
        for (String stream : reads) {
            width = Math.max(width, stream.length() + 5);
        }
        for (String stream : written) {
            width = Math.max(width, stream.length() + 5);
        }
        out.printf("== %s: stopped after %s (%s)%n", proc, seconds(System.nanoTime() - started), ended);
        for (String stream : reads) {
            String where = streams.isKafka(stream) ? "kafka:" + streams.topic(stream) : streams.uri(stream);
            if (produced.containsKey(stream)) {
                summary(out, width, "in   " + stream, records(produced.get(stream)),
                        where + " (produced from " + display(live.produce.get(stream)) + ")");
            } else {
                summary(out, width, "in   " + stream, String.format("%7s %-7s", "?", ""),
                        where + " (not counted: read from where the job's consumer group left off)");
            }
        }
        for (String stream : written) {
            if (stream.equals(deadLetter) || stream.equals(ALERTS)) {
                continue;
            }
            summary(out, width, "out  " + stream, records(tail.count(stream)), where(stream, topics, files));
        }
        summary(out, width, "dead letters", records(tail.count(deadLetter)), where(deadLetter, topics, files));
        summary(out, width, "alerts", records(tail.count(ALERTS)), where(ALERTS, topics, files));
        summary(out, width, "late events", lateEvents(job, tail), "");
        return 0;
    }

    private static String where(String stream, Map<String, String> topics, Map<String, Path> files) {
        return topics.containsKey(stream) ? "kafka:" + topics.get(stream) : display(files.get(stream));
    }

    /** Why the live run stops: the first stop condition that holds, or the job's end. */
    private static String waitForStop(JobClient client, Live live, Tail tail) throws Exception {
        long lastCount = tail.total();
        long lastChange = System.nanoTime();
        while (true) {
            if (live.interrupted.await(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                return "interrupted";
            }
            JobStatus status = client.getJobStatus().get();
            if (status == JobStatus.FAILED) {
                try {
                    client.getJobExecutionResult().get();
                } catch (Exception e) {
                    return "failed: " + rootMessage(e);
                }
                return "failed";
            }
            if (status.isGloballyTerminalState()) {
                return "the job ended: " + status;
            }
            long count = tail.total();
            if (count != lastCount) {
                lastCount = count;
                lastChange = System.nanoTime();
            }
            if (live.stopAfterRecords > 0 && count >= live.stopAfterRecords) {
                return count + " records";
            }
            if (live.stopAfterIdleSeconds > 0 && System.nanoTime() - lastChange >= live.stopAfterIdleSeconds * 1e9) {
                return "idle for " + seconds(System.nanoTime() - lastChange);
            }
        }
    }

    /**
     * A developer's broker starts empty: topics the job uses that do not exist yet are created (one
     * partition, one replica), so a first run needs no topic tool; existing topics are left as they are.
     */
    private static void createMissingTopics(StreamBindings streams, List<String> topics, PrintStream out)
            throws Exception {
        try (Admin admin = Admin.create(kafkaClient(streams))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String topic : new java.util.TreeSet<>(topics)) {
                if (!existing.contains(topic)) {
                    missing.add(new NewTopic(topic, 1, (short) 1));
                }
            }
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                for (NewTopic topic : missing) {
                    out.printf("== created topic %s (1 partition)%n", topic.name());
                }
            }
        }
    }

    private static Properties kafkaClient(StreamBindings streams) {
        Properties properties = new Properties();
        properties.putAll(streams.kafkaProperties());
        // The job's own consumer group and transactions are not this client's.
        properties.remove("group.id");
        properties.remove("transactional.id");
        properties.remove("transaction.timeout.ms");
        return properties;
    }

    /** Sends each non-empty line of a file to the topic a stream reads, paced; returns how many. */
    private static long produce(StreamBindings streams, String stream, Path file) throws Exception {
        Properties properties = kafkaClient(streams);
        properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        long pace = streams.paceMillis(stream);
        long n = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(properties)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.trim().isEmpty()) {
                    continue;
                }
                producer.send(new ProducerRecord<>(streams.topic(stream), line)).get();
                n++;
                if (pace > 0) {
                    Thread.sleep(pace);
                }
            }
            producer.flush();
        }
        return n;
    }

    /**
     * Follows the topic a Kafka-bound output writes: reads committed records only (what a downstream
     * reader sees), from the topic's end when the run starts, and prints each through the file tail.
     */
    static final class KafkaTail implements Runnable {
        final String stream;
        private final Tail tail;
        private final KafkaConsumer<String, String> consumer;
        volatile boolean running = true;

        KafkaTail(String stream, String topic, StreamBindings streams, Tail tail) {
            this.stream = stream;
            this.tail = tail;
            Properties properties = kafkaClient(streams);
            properties.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            this.consumer = new KafkaConsumer<>(properties);
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                consumer.close();
                throw new IllegalStateException("topic " + topic + " (stream " + stream + ") does not exist");
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : infos) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            // Resolve the end now, before the job writes anything.
            for (TopicPartition partition : partitions) {
                consumer.position(partition, Duration.ofSeconds(30));
            }
        }

        @Override
        public void run() {
            try {
                while (running) {
                    for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(POLL_MILLIS))) {
                        tail.print(stream, record.value());
                    }
                }
            } catch (org.apache.kafka.common.errors.InterruptException e) {
                // Stopped.
            } finally {
                consumer.close(Duration.ofSeconds(5));
            }
        }
    }

    private static Path resolve(Path baseDir, String path) {
        Path p = Paths.get(path);
        return (p.isAbsolute() ? p : baseDir.resolve(p)).normalize();
    }

    private static void summary(PrintStream out, int width, String what, String count, String where) {
        out.println(String.format("   %-" + width + "s %s  %s", what, count, where).replaceAll("\\s+$", ""));
    }

    private static String records(long n) {
        return String.format("%7d record%s", n, n == 1 ? " " : "s");
    }

    private static String lateEvents(JsonNode job, Tail tail) {
        if (job.get("late_operators").asInt() == 0) {
            return String.format("%7s %-7s  (nothing in the job can find an event late)", "-", "");
        }
        List<String> streams = new ArrayList<>();
        long n = 0;
        for (JsonNode late : job.get("late")) {
            streams.add(late.asText());
            n += tail.count(late.asText());
        }
        if (streams.isEmpty()) {
            return String.format("%7s %-7s  (not counted: the job drops late events, sending them to no stream)",
                    "?", "");
        }
        return String.format("%s  (sent to %s)", records(n), String.join(", ", streams));
    }

    private static String rootMessage(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }

    static String seconds(long nanos) {
        return String.format("%.1f s", nanos / 1e9);
    }

    /** A path relative to the working directory when it lies below it (build-root relative under Pants). */
    static String display(Path path) {
        Path cwd = Paths.get("").toAbsolutePath().normalize();
        Path abs = path.toAbsolutePath().normalize();
        return abs.startsWith(cwd) && !abs.equals(cwd) ? cwd.relativize(abs).toString() : abs.toString();
    }

    private static void removeParts(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> parts = Files.newDirectoryStream(dir, "part-*.jsonl")) {
            for (Path part : parts) {
                Files.delete(part);
            }
        }
    }

    /** Non-empty lines of a file, or of every file in a directory. */
    static long countLines(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            long n = 0;
            try (Stream<Path> files = Files.list(path)) {
                for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                    n += Files.isRegularFile(f) ? countLines(f) : 0;
                }
            }
            return n;
        }
        try (Stream<String> lines = Files.lines(path, StandardCharsets.UTF_8)) {
            return lines.filter(l -> !l.trim().isEmpty()).count();
        }
    }

    /** Follows the part files of output streams and prints each complete line once, with its stream. */
    static final class Tail implements Runnable {
        private final Map<String, Path> outputs;
        private final PrintStream out;
        private final Map<Path, Long> offsets = new TreeMap<>();
        private final Map<String, Long> counts = new TreeMap<>();
        private final int width;
        private volatile boolean running = true;

        Tail(Map<String, Path> outputs, PrintStream out) {
            this.outputs = outputs;
            this.out = out;
            int w = 0;
            for (String stream : outputs.keySet()) {
                w = Math.max(w, stream.length());
            }
            this.width = w;
        }

        @Override
        public void run() {
            while (running) {
                poll();
                try {
                    Thread.sleep(POLL_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /** Stops following and reads what the finished job flushed last. */
        void stop(Thread follower) throws InterruptedException {
            running = false;
            follower.interrupt();
            follower.join();
            poll();
        }

        synchronized long count(String stream) {
            return counts.getOrDefault(stream, 0L);
        }

        synchronized long total() {
            long n = 0;
            for (long c : counts.values()) {
                n += c;
            }
            return n;
        }

        /** Prints a record another follower (a Kafka consumer) read, with its stream. */
        synchronized void print(String stream, String line) {
            counts.merge(stream, 1L, Long::sum);
            out.printf("%-" + width + "s | %s%n", stream, line);
            out.flush();
        }

        synchronized void poll() {
            for (Map.Entry<String, Path> e : outputs.entrySet()) {
                if (e.getValue() == null || !Files.isDirectory(e.getValue())) {
                    continue;
                }
                try (DirectoryStream<Path> parts = Files.newDirectoryStream(e.getValue(), "part-*.jsonl")) {
                    List<Path> sorted = new ArrayList<>();
                    parts.forEach(sorted::add);
                    sorted.sort(null);
                    for (Path part : sorted) {
                        follow(e.getKey(), part);
                    }
                } catch (IOException ignored) {
                    // A part file being created or removed: the next poll reads it.
                }
            }
        }

        private void follow(String stream, Path part) throws IOException {
            long offset = offsets.getOrDefault(part, 0L);
            try (RandomAccessFile file = new RandomAccessFile(part.toFile(), "r")) {
                long length = file.length();
                if (length <= offset) {
                    return;
                }
                byte[] bytes = new byte[(int) (length - offset)];
                file.seek(offset);
                file.readFully(bytes);
                int end = bytes.length;
                while (end > 0 && bytes[end - 1] != '\n') {
                    end--;
                }
                if (end == 0) {
                    return;
                }
                offsets.put(part, offset + end);
                for (String line : new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n")) {
                    if (line.trim().isEmpty()) {
                        continue;
                    }
                    counts.merge(stream, 1L, Long::sum);
                    out.printf("%-" + width + "s | %s%n", stream, line);
                }
                out.flush();
            }
        }
    }
}
