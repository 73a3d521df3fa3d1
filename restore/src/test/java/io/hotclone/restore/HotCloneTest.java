package io.hotclone.restore;

import io.hotclone.process.launch.HeldStart;
import io.hotclone.process.launch.Spawn;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.capture.Chain;
import io.hotclone.capture.Checkpointer;
import io.hotclone.image.CheckpointKind;
import io.hotclone.image.MemoryArea;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.Journal;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A hot clone kept current checkpoint by checkpoint, then resumed as a switch resumes it. */
@Timeout(180)
class HotCloneTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aCloneKeptCurrentByIncrementalCheckpointsResumesWhereTheLastLeftTheProgram() {
        Path verify = dir.resolve("verify");
        try (Program program = Program.start(dir, memstate(verify));
             Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(1, Tracking.UFFD);
             HotClone clone = new HotClone()) {
            long seq = 0;
            for (int i = 0; i < 4; i++) {
                program.awaitTick(program.lastTick() + 1, WAIT);
                seq = new Checkpointer(program.pid(), journal, chain).checkpoint().seq();
                clone.update(journal, seq);
            }
            List<CheckpointKind> kinds = journal.checkpoints().stream().map(CheckpointSummary::kind).toList();
            assertEquals(List.of(CheckpointKind.FULL, CheckpointKind.INCREMENTAL, CheckpointKind.INCREMENTAL,
                    CheckpointKind.INCREMENTAL), kinds);
            assertEquals(seq, clone.seq(), "the clone holds the last checkpoint");
            assertEquals(1, clone.builds(), "built once, from the full checkpoint; the incremental ones brought pages");

            long lastSeq = seq;
            try (Program restored = killAndRestore(program, () -> {
                Restorer.Result resumed = clone.resume();
                assertEquals(lastSeq, resumed.seq());
                return resumed;
            })) {
                restored.awaitTick(restored.lastTick() + 2, WAIT);
                restored.signal(Program.SIGUSR1);
                Verify.assertPasses(restored, verify, WAIT);
            }
        }
    }

    @Test
    void aFullCheckpointAskedForMidChainIsABaseTheNextOnesBuildOn() {
        Path verify = dir.resolve("verify");
        try (Program program = Program.start(dir, memstate(verify));
             Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(1, Tracking.UFFD)) {
            long seq = 0;
            for (int i = 0; i < 5; i++) {
                if (i == 2) {
                    chain.askFull();
                }
                program.awaitTick(program.lastTick() + 1, WAIT);
                seq = new Checkpointer(program.pid(), journal, chain).checkpoint().seq();
            }
            assertEquals(List.of(CheckpointKind.FULL, CheckpointKind.INCREMENTAL, CheckpointKind.FULL,
                    CheckpointKind.INCREMENTAL, CheckpointKind.INCREMENTAL),
                    journal.checkpoints().stream().map(CheckpointSummary::kind).toList());
            long lastSeq = seq;
            try (Program resumed = killAndRestore(program, () -> new Restorer(journal, lastSeq, HeldStart.Lifetime.FREE).restore())) {
                resumed.signal(Program.SIGUSR1);
                Verify.assertPasses(resumed, verify, WAIT);
            }
        }
    }

    @Test
    void aCloneFollowsAProgramWhoseMappingsChange() {
        Path verify = dir.resolve("verify");
        List<String> command = List.of(TestPrograms.compile("mapchurn", dir).toString(), "--verify-file",
                verify.toString());
        try (Program program = Program.start(dir, command);
             Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(1, Tracking.UFFD);
             HotClone clone = new HotClone()) {
            program.awaitTick(2, WAIT);
            long first = new Checkpointer(program.pid(), journal, chain).checkpoint().seq();
            clone.update(journal, first);
            List<MemoryArea> firstAreas = journal.read(first).areas();
            long seq = first;
            for (int i = 0; i < 6; i++) {
                program.awaitTick(program.lastTick() + 2, WAIT);
                seq = new Checkpointer(program.pid(), journal, chain).checkpoint().seq();
                clone.update(journal, seq);
            }
            assertTrue(!journal.read(seq).areas().equals(firstAreas), "the program's mappings changed meanwhile");
            assertEquals(1, clone.builds(), "the clone followed the changes without being built again");

            try (Program restored = killAndRestore(program, clone::resume)) {
                Verify.assertPasses(restored, verify, WAIT);
            }
        }
    }

    /** The switch makes every thread again, with its id, and lets them all go together. */
    @Test
    void aCloneOfAMultiThreadedProgramResumesEveryThreadWithItsState() {
        Path verify = dir.resolve("verify");
        List<String> command = List.of(TestPrograms.compile("threads", dir).toString(), "--verify-file",
                verify.toString(), "--threads", "8");
        try (Program program = startAsRunDoes(command);
             Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(1, Tracking.UFFD);
             HotClone clone = new HotClone()) {
            program.awaitTick(2, WAIT);
            follow(program, journal, chain, clone, 4);
            assertTrue(journal.read(clone.seq()).threads().size() > 8, "the workers and the blocked threads are saved");
            try (Program restored = killAndRestore(program, clone::resume)) {
                restored.awaitTick(restored.lastTick() + 2, WAIT);
                Verify.assertPasses(restored, verify, WAIT);
            }
        }
    }

    @Test
    void aCloneIsBuiltAnewFromAFullCheckpoint() {
        List<String> command = List.of(TestPrograms.compile("counter", dir).toString(), "--verify-file",
                dir.resolve("verify").toString());
        try (Program program = Program.start(dir, command);
             Journal journal = Journal.create(dir.resolve("journal"));
             HotClone clone = new HotClone()) {
            program.awaitTick(2, WAIT);
            clone.update(journal, new Checkpointer(program.pid(), journal, false).checkpoint().seq());
            long second = new Checkpointer(program.pid(), journal, false).checkpoint().seq();
            clone.update(journal, second);
            assertEquals(second, clone.seq());
            assertEquals(2, clone.builds(), "a full checkpoint replaces the clone");
        }
    }

    /**
     * forkchurn makes a child every tick, which lives for part of it, beside a child that lives
     * as long as it: checkpoints find two processes or three. The clone follows: a checkpoint
     * with other processes than the clone's builds it anew (every process, each made by its
     * parent with its pid), one with the same brings pages; resumed, the program's children
     * answer with the ids they had, and its next children get pids it has not seen yet.
     */
    @Test
    void aCloneOfAProgramWhoseChildrenComeAndGoHoldsEachCheckpointsProcessesAndResumesThemAll() {
        Path verify = dir.resolve("verify");
        try (Program program = startAsRunDoes(List.of(TestPrograms.compile("forkchurn", dir).toString(),
                "--verify-file", verify.toString()));
             Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(1, Tracking.UFFD);
             HotClone clone = new HotClone()) {
            program.awaitTick(1, WAIT);
            java.util.Set<Integer> seen = new java.util.TreeSet<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            Checkpointer.Result last;
            do {
                assertTrue(System.nanoTime() < deadline, "no checkpoint found forkchurn's short-lived child, and"
                        + " one without it after, within " + WAIT + ": " + seen);
                last = new Checkpointer(program.pid(), journal, chain).checkpoint();
                clone.update(journal, last.seq());
                seen.add(last.processes());
            } while (!seen.contains(3) || last.processes() != 2);
            assertEquals(last.seq(), clone.seq());
            assertTrue(clone.builds() >= 2, "the clone is built anew when the program's processes change: "
                    + clone.builds());
            assertEquals(java.util.Set.of(1, 2), clone.vids().realByVirtual().keySet(), "the clone holds the program's first"
                    + " process and its long-lived child, by their pids in the program: " + clone.vids());
            try (Program restored = killAndRestore(program, clone::resume)) {
                restored.awaitTick(restored.lastTick() + 2, WAIT);
                Verify.assertPasses(restored, verify, WAIT);
            }
        }
    }

    /**
     * sharedanon's parent, child and grandchild talk through one MAP_SHARED anonymous mapping
     * inherited over fork. Each checkpoint carries its pages once, in the parent's part; the
     * clone, following by reconciling, makes each process from its parent with that mapping, and
     * resumed, the three still see each other's writes.
     */
    @Test
    void aCloneOfProcessesSharingAnonymousMemoryCarriesItOnceAndSharesItAgain() {
        followResumeAndVerify("sharedanon", (journal, seq) -> {
            io.hotclone.journal.CheckpointImage image = journal.read(seq);
            assertEquals(3, image.processes().size(), "the parent, the child and the grandchild");
            io.hotclone.image.MemoryArea shared = image.areas().stream()
                    .filter(a -> a.kind() == io.hotclone.image.AreaKind.SHARED_ANONYMOUS).findFirst().orElseThrow();
            for (io.hotclone.image.ProcessImage p : image.processes()) {
                long[] bytes = {0};
                journal.pages(seq, p.vpid(), (address, contents) -> {
                    long from = Math.max(address, shared.start());
                    long to = Math.min(address + contents.byteSize(), shared.end());
                    bytes[0] += Math.max(0, to - from);
                });
                if (p.vpid() == 1) {
                    assertEquals(shared.length(), bytes[0], "the parent's part carries all of the shared memory");
                } else {
                    assertEquals(0, bytes[0], "process " + p.vpid() + "'s part carries none of it");
                }
            }
        });
    }

    /**
     * sysvipc keeps segments (one attached by a parent and its child, one detached, one removed
     * while attached), semaphores and a message queue whose messages change every tick in its IPC
     * namespace. The clone makes them once with their ids and refills them from every checkpoint
     * (the queue emptied of the messages of the one before); resumed, the program finds each as it
     * left it and its segment still shared with its child.
     */
    @Test
    void aCloneOfAProgramWithSystemVIpcObjectsRefillsThemFromEveryCheckpoint() {
        followResumeAndVerify("sysvipc", (journal, seq) -> assertEquals(
                List.of("sysv-shm", "sysv-shm", "sysv-shm", "sysv-sem", "sysv-msg"),
                journal.read(seq).processes().getFirst().ipc().stream()
                        .map(o -> o.getClass().getAnnotation(io.hotclone.image.Tag.class).name()).toList()));
    }

    /**
     * Starts test program {@code name} as hotclone run does and follows it with a clone through 4
     * checkpoints, which must reconcile, never rebuild; hands {@code check} the journal and the
     * clone's seq, then resumes the clone, which must pass the program's self-check.
     */
    private void followResumeAndVerify(String name, java.util.function.BiConsumer<Journal, Long> check) {
        Path verify = dir.resolve("verify");
        try (Program program = startAsRunDoes(List.of(TestPrograms.compile(name, dir).toString(), "--verify-file",
                verify.toString()));
             Journal journal = Journal.create(dir.resolve("journal"));
             Chain chain = new Chain(1, Tracking.UFFD);
             HotClone clone = new HotClone()) {
            program.awaitTick(2, WAIT);
            follow(program, journal, chain, clone, 4);
            assertEquals(1, clone.builds(), "the clone followed by reconciling");
            check.accept(journal, clone.seq());
            try (Program restored = killAndRestore(program, clone::resume)) {
                restored.awaitTick(restored.lastTick() + 2, WAIT);
                Verify.assertPasses(restored, verify, WAIT);
            }
        }
    }

    /** Takes {@code checkpoints} checkpoints of {@code program}, a tick apart, each brought into {@code clone}. */
    private static void follow(Program program, Journal journal, Chain chain, HotClone clone, int checkpoints) {
        for (int i = 0; i < checkpoints; i++) {
            program.awaitTick(program.lastTick() + 1, WAIT);
            clone.update(journal, new Checkpointer(program.pid(), journal, chain).checkpoint().seq());
        }
    }

    private List<String> memstate(Path verify) {
        return List.of(TestPrograms.compile("memstate", dir).toString(), "--verify-file", verify.toString(), "--log",
                dir.resolve("log").toString(), "--data", dir.resolve("data").toString(), "--heap-mib", "8");
    }

    /**
     * Starts {@code command} as {@code hotclone run} does, in namespaces of its own, where it is
     * pid 1 and its threads' ids are free again wherever it is restored; its stdout goes to a file.
     */
    private Program startAsRunDoes(List<String> command) {
        Path out = dir.resolve(Path.of(command.getFirst()).getFileName() + ".out");
        List<String> argv = new java.util.ArrayList<>(List.of("/bin/sh", "-c", "exec \"$0\" \"$@\" >" + out));
        argv.addAll(command);
        return Program.adopt(HeldStart.run(argv, List.of(), Spawn.Group.OWN_GROUP, HeldStart.Lifetime.FREE), out);
    }

    /**
     * Kills {@code program}, brings it back with {@code restore}, and returns the restored program
     * once it has printed a tick that continues from the last checkpoint (not from the start).
     */
    private static Program killAndRestore(Program program, Supplier<Restorer.Result> restore) {
        program.kill9();
        // Read once it is dead: a tick it printed between a read before and the kill would be missed
        // (the restored program writes its ticks over the original's, from the checkpoint's offset).
        long last = program.lastTick();
        long outputBefore = program.stdoutSize();
        Program restored = Program.adopt(restore.get().pid(), program.stdout(), outputBefore);
        try {
            long tick = restored.awaitTick(1, WAIT);
            assertTrue(tick > 1 && tick <= last + 1, "continues from the last checkpoint: tick " + tick
                    + ", the original had reached tick " + last);
            return restored;
        } catch (RuntimeException | AssertionError e) {
            restored.close();
            throw e;
        }
    }
}
