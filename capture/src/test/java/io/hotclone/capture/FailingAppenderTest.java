package io.hotclone.capture;

import io.hotclone.capture.dirty.Tracking;
import io.hotclone.bindings.HotcloneException;
import io.hotclone.image.Commit;
import io.hotclone.image.FdState;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.CheckpointWriter;
import io.hotclone.journal.Journal;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A journal appender that fails mid-checkpoint fails that checkpoint with its reason, leaves it
 * uncommitted, never leaves the capture thread waiting on a full ring, and the next checkpoint
 * goes through. The programs hold more pages than the ring has slots, so a capture thread left
 * waiting for a stopped appender would hang (and the timeout fail the test).
 */
@Timeout(120)
class FailingAppenderTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String INJECTED = "disk full (injected by the test)";

    @TempDir
    Path dir;

    @Test
    void aFullCheckpointReadFromACopyFailsWithTheAppendersErrorAndTheNextOneCommits() {
        try (Child hotset = Child.start(dir, TestPrograms.compile("hotset").toString(), "--heap-mib", "96",
                "--hot-mib", "1", "--seconds", "600");
             Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(0, Tracking.NONE, new FailFirstCheckpoint())) {
            hotset.program().awaitLine(Pattern.compile("ready pid=\\d+"), WAIT);
            failsThenCommits(hotset.pid(), List.of((long) hotset.pid()), journal, chain, true);
        }
    }

    @Test
    void aCheckpointStreamedUnderTheFreezeFailsWithTheAppendersErrorAndTheProgramRunsOn() {
        // Not this JVM's child, so it cannot be copied: its pages stream under the freeze.
        try (Program memstate = Program.start(dir, TestPrograms.compile("memstate").toString(), "--verify-file",
                dir.resolve("verify").toString(), "--log", dir.resolve("log").toString(), "--data",
                dir.resolve("data").toString(), "--heap-mib", "64");
             Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(0, Tracking.UFFD, new FailFirstCheckpoint())) {
            memstate.awaitTick(2, WAIT);
            failsThenCommits(memstate.pid(), List.of(), journal, chain, false);
            long tick = memstate.lastTick();
            memstate.awaitTick(tick + 2, WAIT);
        }
    }

    private static void failsThenCommits(int pid, List<Long> children, Journal journal, Chain chain,
                                         boolean copyOnWrite) {
        Checkpointer failing = new Checkpointer(pid, journal, chain);
        HotcloneException e = assertThrows(HotcloneException.class, failing::checkpoint);
        assertTrue(e.getMessage().contains("journal appender failed checkpoint seq 1")
                && e.getMessage().contains(INJECTED), "the error names the appender's failure: " + e.getMessage());
        assertSame(DumpPhase.ABORT_DUMP, failing.phase());
        assertTrue(journal.checkpoints().isEmpty(), "the failed checkpoint stays uncommitted");
        assertEquals(children, ProcessHandle.current().children().map(ProcessHandle::pid).toList(),
                "a copy-on-write copy of the failed checkpoint is reaped");

        Checkpointer.Result next = new Checkpointer(pid, journal, chain).checkpoint();
        assertEquals(copyOnWrite, next.copyOnWrite());
        assertTrue(next.pageBytes() > (32L << 20), "more pages than the ring's 4 slots of 8 MiB hold: " + next);
        assertEquals(List.of(next.seq()), journal.checkpoints().stream().map(CheckpointSummary::seq).toList());
        long[] read = new long[1];
        journal.pages(next.seq(), (address, contents) -> read[0] += contents.byteSize());
        assertEquals(next.pageBytes(), read[0], "the committed checkpoint's pages read back");
    }

    /** The writer of the first checkpoint fails on its second page record, as on a full disk. */
    private static final class FailFirstCheckpoint implements UnaryOperator<CheckpointWriter> {
        private int checkpoints;

        @Override
        public CheckpointWriter apply(CheckpointWriter writer) {
            return ++checkpoints == 1 ? new Failing(writer) : writer;
        }
    }

    private record Failing(CheckpointWriter writer, int[] pages) implements CheckpointWriter {
        Failing(CheckpointWriter writer) {
            this(writer, new int[1]);
        }

        @Override
        public void pages(long address, MemorySegment contents) {
            failSecondTime();
            writer.pages(address, contents);
        }

        @Override
        public void pages(long[] addresses, long[] lengths, int count, MemorySegment contents) {
            failSecondTime();
            writer.pages(addresses, lengths, count, contents);
        }

        private void failSecondTime() {
            if (++pages[0] == 2) {
                throw new IllegalStateException(INJECTED);
            }
        }

        @Override
        public void process(ProcessState p) {
            writer.process(p);
        }

        @Override
        public void thread(ThreadState t) {
            writer.thread(t);
        }

        @Override
        public void area(MemoryArea a) {
            writer.area(a);
        }

        @Override
        public void fd(FdState f) {
            writer.fd(f);
        }

        @Override
        public void zombie(io.hotclone.image.ZombieState z) {
            writer.zombie(z);
        }

        @Override
        public void ipc(io.hotclone.image.SysvIpc object) {
            writer.ipc(object);
        }

        @Override
        public void commit(Commit c) {
            writer.commit(c);
        }

        @Override
        public void close() {
            writer.close();
        }
    }
}
