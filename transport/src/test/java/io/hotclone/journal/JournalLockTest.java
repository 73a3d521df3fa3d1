package io.hotclone.journal;

import io.hotclone.image.CheckpointKind;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.TableStoreWriteLock;
import net.openhft.chronicle.threads.Pauser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One writing process per journal: a second one is refused and told who writes; readers are not. */
class JournalLockTest {
    @TempDir
    Path tmp;

    /** Holds the writer lock of the journal directory given until its stdin closes or it is killed. */
    public static final class Holder {
        public static void main(String[] args) throws IOException {
            try (JournalLock lock = JournalLock.acquire(Path.of(args[0]))) {
                System.out.println("locked");
                System.out.flush();
                System.in.read();
            }
        }
    }

    /** Starts a {@link Holder} in a JVM of its own and waits until it holds the lock. */
    private static Process holder(Path dir) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Holder.class.getName(),
                dir.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        if (!"locked".equals(line)) {
            p.destroyForcibly();
            throw new AssertionError("the holder did not take the lock of " + dir + ": it said " + line);
        }
        return p;
    }

    private static void kill(Process p) throws InterruptedException {
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the holder JVM did not die within 30 s");
    }

    @Test
    void aSecondWriterIsRefusedWithTheHolderNamedWhileReadersReadOn() throws Exception {
        Path dir = tmp.resolve("j");
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir)) {
            Checkpoints.write(journal, CheckpointKind.FULL, -1, 1, List.of(Checkpoints.contents(arena, 1, 4096)));
        }
        Process holder = holder(dir);
        try {
            JournalException e = assertThrows(JournalException.class, () -> Journal.create(dir));
            assertTrue(e.getMessage().matches("journal " + dir + " is being written by pid " + holder.pid()
                    + " on host \\S+ \\(.*" + Pattern.quote(Holder.class.getName()) + ".*, since \\d{4}-\\d\\d-\\d\\dT.*\\): stop it"
                    + " first, or use another --journal"), e.getMessage());
            try (Journal reader = Journal.open(dir)) {
                assertEquals(1, reader.checkpoints().size());
                assertTrue(reader.verify().clean());
            }
        } finally {
            kill(holder);
        }
    }

    @Test
    void theLockOfADeadHolderIsTakenOverAndNamesTheNewHolder() throws Exception {
        Path dir = tmp.resolve("j");
        Process holder = holder(dir);
        kill(holder); // SIGKILL: it leaves its name in the lock file, and the kernel frees the lock
        assertTrue(Files.readString(dir.resolve(JournalLock.FILE)).startsWith("pid " + holder.pid() + " "));
        try (Journal journal = Journal.create(dir)) {
            assertTrue(Files.readString(dir.resolve(JournalLock.FILE)).startsWith("pid " + ProcessHandle.current().pid() + " "),
                    "the lock file names its new holder");
        }
        assertEquals("", Files.readString(dir.resolve(JournalLock.FILE)), "a holder that closes leaves no name");
    }

    /**
     * A writer killed in a PID namespace leaves the queue's own write lock held under a pid that
     * its restarted successor gets again there: Chronicle takes such a lock for the successor's
     * own and waits for it forever. Here the lock is left held by this very process, which is
     * what the successor sees.
     */
    @Test
    void aQueueLockLeftHeldUnderThisProcesssPidIsFreedWhenAWriterOpensTheJournal() {
        Path dir = tmp.resolve("j");
        Journal.create(dir).close();
        try (SingleChronicleQueue queue = JournalQueue.builder(dir, RollCycles.FIVE_MINUTELY).build()) {
            TableStoreWriteLock left = new TableStoreWriteLock(queue.metaStore(), Pauser::balanced, 0L);
            left.lock(); // never unlocked: its holder "died"
            assertTrue(left.locked());
        }
        try (Arena arena = Arena.ofConfined(); Journal journal = Journal.create(dir)) {
            long start = System.nanoTime();
            Checkpoints.write(journal, CheckpointKind.FULL, -1, 1, List.of(Checkpoints.contents(arena, 1, 4096)));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 5_000, "the first checkpoint took " + millis + " ms: it waited for the dead writer's lock");
            assertEquals(1, journal.checkpoints().size());
        }
    }

    @Test
    void oneProcessMayHoldItsLockSeveralTimesAndKeepsItUntilTheLastHoldGoes() throws Exception {
        Path dir = tmp.resolve("j");
        try (JournalLock node = JournalLock.acquire(dir)) {
            Journal.create(dir).close(); // a role of the node opens and closes the journal: the node keeps the lock
            assertTrue(Files.readString(dir.resolve(JournalLock.FILE)).startsWith("pid " + ProcessHandle.current().pid() + " "));
        }
        Process holder = holder(dir); // free once the node let go
        kill(holder);
    }
}
