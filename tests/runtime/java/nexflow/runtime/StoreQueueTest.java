package nexflow.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A remote store that falls behind: the reads waiting for its threads are bounded, a read every
 * waiting record has given up on is not sent, and a read the full queue refuses fails at once
 * with STORE_UNAVAILABLE (the lookup's on lookup_error path). Writes are never skipped.
 */
class StoreQueueTest {

    private static final long DEADLINE_MILLIS = 100;

    private static StoreException failure(CompletableFuture<?> call) throws Exception {
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(StoreException.class, e.getCause());
    }

    /**
     * A store whose reads block; many lookups of distinct keys arrive (as records that gave up
     * free their async slots), each waiting 100 ms. Afterwards the store saw only the reads
     * somebody still waited for when they started, the queue never held more than its bound,
     * and every other read failed STORE_UNAVAILABLE.
     */
    @Test
    void theStoreSeesOnlyReadsSomebodyStillWaitsForAndTheQueueStaysBounded() throws Exception {
        StoreExecutor executor = new StoreExecutor("profiles", 2, 10);
        CountDownLatch slowStore = new CountDownLatch(1);
        AtomicInteger sent = new AtomicInteger();
        Lookups.InFlight<String> inFlight = new Lookups.InFlight<>();
        List<CompletableFuture<String>> calls = new ArrayList<>();
        int maxQueued = 0;
        for (int i = 0; i < 200; i++) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MILLIS);
            calls.add(inFlight.call("card-" + i, deadline, (key, waitUntil) -> executor.read(waitUntil, () -> {
                sent.incrementAndGet();
                try {
                    slowStore.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "profile of " + key;
            })));
            maxQueued = Math.max(maxQueued, executor.queued());
        }
        // Every record has given up by now; then the store answers again.
        Thread.sleep(DEADLINE_MILLIS + 50);
        slowStore.countDown();
        int answered = 0;
        int unavailable = 0;
        for (CompletableFuture<String> call : calls) {
            try {
                call.get(10, TimeUnit.SECONDS);
                answered++;
            } catch (ExecutionException e) {
                StoreException failure = assertInstanceOf(StoreException.class, e.getCause());
                assertEquals(StoreException.UNAVAILABLE, failure.reason());
                unavailable++;
            }
        }
        assertEquals(2, sent.get(), "only the reads the 2 threads had started before every record gave up");
        assertEquals(2, answered);
        assertEquals(198, unavailable);
        assertTrue(maxQueued <= 10, "queued " + maxQueued + " > bound 10");
        assertEquals(10, executor.skipped(), "the queued reads were skipped, not sent");
        assertEquals(188, executor.rejected(), "the rest found the queue full");
        assertEquals(0, executor.queued());
        assertEquals(0, inFlight.running(), "no call is left in flight");
        executor.shutdown();
    }

    /** A read the full queue refuses fails at once, without waiting for the record's deadline. */
    @Test
    void aRefusedReadFailsAtOnceWithStoreUnavailable() throws Exception {
        StoreExecutor executor = new StoreExecutor("profiles", 1, 1);
        CountDownLatch slowStore = new CountDownLatch(1);
        CompletableFuture<String> running = executor.read(StoreClient.NO_DEADLINE, () -> {
            try {
                slowStore.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "a";
        });
        // Wait until the thread has taken the first read, so the second one fills the queue.
        for (int i = 0; i < 500 && executor.queued() > 0; i++) {
            Thread.sleep(2);
        }
        Thread.sleep(20);
        CompletableFuture<String> queued = executor.read(StoreClient.NO_DEADLINE, () -> "b");
        CompletableFuture<String> refused = executor.read(StoreClient.NO_DEADLINE, () -> "c");
        assertTrue(refused.isDone(), "refused at once");
        StoreException failure = failure(refused);
        assertEquals(StoreException.UNAVAILABLE, failure.reason());
        assertTrue(failure.getMessage().contains("queue is full"), failure.getMessage());
        assertInstanceOf(java.util.concurrent.RejectedExecutionException.class, failure.getCause(),
                "the refusal is named in the lookup's log line and dead letter");
        assertEquals(1, executor.rejected());
        slowStore.countDown();
        assertEquals("a", running.get(10, TimeUnit.SECONDS));
        assertEquals("b", queued.get(10, TimeUnit.SECONDS));
        executor.shutdown();
    }

    /** A record that joins a queued read moves its deadline: the read is sent for it. */
    @Test
    void aLaterWaiterKeepsACoalescedReadAlive() throws Exception {
        StoreExecutor executor = new StoreExecutor("profiles", 1, 10);
        CountDownLatch slowStore = new CountDownLatch(1);
        executor.read(StoreClient.NO_DEADLINE, () -> {
            try {
                slowStore.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        Lookups.InFlight<String> inFlight = new Lookups.InFlight<>();
        AtomicInteger sent = new AtomicInteger();
        long soon = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        CompletableFuture<String> first = inFlight.call("k", soon,
                (key, waitUntil) -> executor.read(waitUntil, () -> {
                    sent.incrementAndGet();
                    return "K";
                }));
        long later = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        CompletableFuture<String> second = inFlight.call("k", later, (key, waitUntil) -> {
            throw new AssertionError("coalesced: no second call");
        });
        assertTrue(first == second);
        Thread.sleep(50); // the first record's deadline has passed, the second's has not
        slowStore.countDown();
        assertEquals("K", second.get(10, TimeUnit.SECONDS));
        assertEquals(1, sent.get());
        assertEquals(0, executor.skipped());
        executor.shutdown();
    }

    /** Writes have no deadline: a write queued behind a slow one still runs. */
    @Test
    void writesAreNeverSkipped() throws Exception {
        StoreExecutor executor = new StoreExecutor("payments", 1);
        assertEquals(Stores.CAPACITY, executor.bound(), "the queue holds an operator's async capacity");
        CountDownLatch slowStore = new CountDownLatch(1);
        AtomicInteger written = new AtomicInteger();
        List<CompletableFuture<Object>> writes = new ArrayList<>();
        for (int i = 0; i < Stores.CAPACITY; i++) {
            writes.add(executor.write(() -> {
                try {
                    slowStore.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                written.incrementAndGet();
                return null;
            }));
        }
        Thread.sleep(50);
        slowStore.countDown();
        for (CompletableFuture<Object> write : writes) {
            write.get(10, TimeUnit.SECONDS);
        }
        assertEquals(Stores.CAPACITY, written.get());
        assertEquals(0, executor.rejected());
        executor.shutdown();
    }

    /**
     * The MongoDB client itself, against a server that is not there (each read runs out of
     * read_timeout): of 300 lookups of distinct keys that each wait 200 ms, the ones nobody
     * waits for any more are not sent, the rest are refused at once, so all are over within
     * about two read_timeouts instead of 300 / 2 threads x 200 ms = 30 s, and its queue gauge
     * never exceeds the bound.
     */
    @Test
    void aMongoStoreThatIsBehindDoesNotQueueStaleReads() throws Exception {
        MongoStore<Map> store = new MongoStore<>();
        store.open("profiles", "mongodb:profiles", Map.of(
                "uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=100",
                "database", "d", "collection", "c", "threads", "2", "read_timeout", "200"));
        try {
            long start = System.nanoTime();
            List<CompletableFuture<Map>> calls = new ArrayList<>();
            int maxQueued = 0;
            for (int i = 0; i < 300; i++) {
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
                calls.add(store.get("card-" + i, Map.class, () -> deadline));
                maxQueued = Math.max(maxQueued, store.queuedCalls());
                if (i % 10 == 9) {
                    Thread.sleep(5); // records keep arriving while the store is behind
                }
            }
            for (CompletableFuture<Map> call : calls) {
                assertEquals(StoreException.UNAVAILABLE, failure(call).reason());
            }
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(maxQueued <= StoreExecutor.queueBound(2), "queued " + maxQueued);
            assertTrue(store.skippedReads() > 0, "stale reads were skipped");
            assertTrue(store.refusedCalls() > 0, "reads beyond the bound were refused");
            System.out.println("MongoStore behind: " + tookMillis + " ms, max queued " + maxQueued + ", skipped "
                    + store.skippedReads() + ", refused " + store.refusedCalls());
            assertTrue(tookMillis < 5_000, "all 300 over in " + tookMillis + " ms");
        } finally {
            store.close();
        }
    }
}
