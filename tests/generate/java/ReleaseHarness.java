package nexflow.runtime;

import java.lang.reflect.Field;

/**
 * What the generated code does to let Flink unload a job's classes relies on two members that
 * are private to libraries, and on the runtime's own threads ending with what started them (see
 * tests/generate/test_class_loader_release.py); this checks them on the classpath the jobs are
 * built with. Prints one line per check.
 */
public final class ReleaseHarness {
    public static void main(String[] args) throws Exception {
        // The job's AdminClosingSink closes this field of the connector's exactly-once writer.
        Class<?> writer = Class.forName("org.apache.flink.connector.kafka.sink.ExactlyOnceKafkaWriter");
        Field admin = writer.getDeclaredField("adminClient");
        Class<?> adminType = Class.forName("org.apache.kafka.clients.admin.Admin");
        System.out.println("kafka writer adminClient is an Admin: " + adminType.isAssignableFrom(admin.getType()));

        // The MongoDB driver starts its pruner thread with its shared buffer pool.
        Class.forName("com.mongodb.internal.connection.PowerOfTwoBufferPool").getField("DEFAULT");
        System.out.println("pruner threads before: " + pruners());
        MongoStore.stopBufferPruner();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (pruners() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        System.out.println("pruner threads after: " + pruners());

        // A memory store writes on a thread of its own, which must end with the store.
        MemoryStore<String> store = new MemoryStore<>();
        store.open("release_check", "memory:release_check", java.util.Map.of());
        store.upsert("k", "v").get();
        System.out.println("memory store writers open: " + threads("nexflow-memory-store-writer"));
        store.close();
        deadline = System.nanoTime() + 10_000_000_000L;
        while (threads("nexflow-memory-store-writer") > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        System.out.println("memory store writers closed: " + threads("nexflow-memory-store-writer"));
    }

    private static long pruners() {
        return threads("BufferPoolPruner");
    }

    private static long threads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(prefix))
                .count();
    }
}
