package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** {@code hotclone run}: a program under protection, checkpointed while it runs. */
class RunTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern SEQ = Pattern.compile("(?m)^seq=(\\d+) kind=(full|incremental) ");

    @TempDir
    Path dir;

    @Test
    void anExecOrMuchNewMemoryIsCheckpointedBeforeTheIntervalEnds() throws Exception {
        String exec = "sleep 0.5; exec sleep 2";
        String grow = "import time\ntime.sleep(0.5)\nb = bytearray(128 << 20)\ntime.sleep(2)\n";
        List<List<String>> programs = List.of(List.of("/bin/sh", "-c", exec),
                List.of(TestPrograms.python().toString(), "-c", grow));
        List<String> reasons = List.of("(exec)", "MiB more");
        for (int i = 0; i < programs.size(); i++) {
            Path journal = dir.resolve("journal-" + i);
            List<String> args = new ArrayList<>(List.of("run", "--journal", journal.toString(),
                    "--checkpoint-interval", "1m", "--"));
            args.addAll(programs.get(i));
            HotcloneCli.Run run = HotcloneCli.run(dir, args.toArray(String[]::new));
            assertEquals(0, run.exitCode(), run.toString());
            assertTrue(run.err().contains("now: ") && run.err().contains(reasons.get(i)), run.toString());
            HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
            assertTrue(SEQ.matcher(ls.out()).find(), "a 1-minute interval, yet a checkpoint: " + ls);
        }
    }

    /**
     * The acceptance's shape, small: a program writing only a hot set runs under protection;
     * checkpoints keep coming and the incremental ones carry the hot set's pages, not the heap.
     */
    /**
     * The program runs as pid 1 of its own namespace, which may not make a sibling: the
     * copy-on-write copy a full checkpoint reads its pages from is then its own child (with no
     * exit signal), reaped at the next barrier, and never left behind.
     */
    @Test
    void theCopyAFullCheckpointMakesIsNotLeftAChildOfTheProgram() throws Exception {
        Path journal = dir.resolve("journal");
        try (Launched run = launchTracking(journal, "uffd", TestPrograms.compile("counter").toString(), "--verify-file",
                dir.resolve("verify").toString())) {
            Program program = Program.adopt(run.awaitCheckpoint(), run.out());
            HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
            assertTrue(ls.out().startsWith("seq=1 kind=full "), ls.toString());
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (newestSeq(journal) < 3 && System.nanoTime() < deadline) {
                program.awaitTick(program.lastTick() + 1, WAIT);
            }
            assertTrue(newestSeq(journal) >= 3, "checkpoints after the full one: " + ls);
            String children = Files.readString(Path.of("/proc", Integer.toString(program.pid()), "task",
                    Integer.toString(program.pid()), "children")).strip();
            assertEquals("", children, "the program made no child; hotclone's copy must be gone");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uffd", "mprotect"})
    void incrementalCheckpointsOfAHotSetProgramCarryTheWrittenPagesOnly(String tracking) throws Exception {
        Path journal = dir.resolve("journal");
        int hotPages = 256; // --hot-mib 1
        HotcloneCli.Run run = HotcloneCli.run(dir, "run", "--journal", journal.toString(), "--checkpoint-interval",
                "100ms", "--dirty-tracking", tracking, "--", TestPrograms.compile("hotset").toString(), "--heap-mib", "64", "--hot-mib", "1",
                "--hot-percent", "100", "--seconds", "3");
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("writes="), "hotset reports its throughput: " + run);
        HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
        List<Long> pages = Pattern.compile("(?m)^seq=\\d+ kind=incremental pages=(\\d+) ").matcher(ls.out()).results()
                .map(m -> Long.parseLong(m.group(1))).toList();
        assertTrue(pages.size() >= 15, "3 s at 100 ms: checkpoints keep coming: " + ls);
        // The last ones fall in hotset's loop (its setup, touching the 64 MiB heap, comes first).
        List<Long> steady = pages.subList(pages.size() - 5, pages.size());
        assertTrue(steady.stream().allMatch(p -> p >= hotPages && p <= hotPages + 64),
                "each carries the hot set (256 pages) and a few pages of stack and libc, not the heap (16384): " + steady);
    }

    @Test
    void exitStatusIsTheProgramsAndCheckpointsWereTaken() throws Exception {
        Path journal = dir.resolve("journal");
        String script = "import time\nfor i in range(6):\n    print('tick', i, flush=True)\n    time.sleep(0.1)\nraise SystemExit(3)\n";
        HotcloneCli.Run run = HotcloneCli.run(dir, "run", "--journal", journal.toString(), "--checkpoint-interval", "50ms",
                "--", TestPrograms.python().toString(), "-c", script);
        assertEquals(3, run.exitCode(), run.toString());
        assertTrue(run.out().contains("tick 5"), "the program's stdout is hotclone's: " + run);
        HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
        assertTrue(SEQ.matcher(ls.out()).results().count() >= 3, "0.6 s at 50 ms must give several checkpoints: " + ls);
        assertTrue(ls.out().lines().allMatch(l -> l.endsWith(" failed_before=0")), "none failed: " + ls);
    }

    @ParameterizedTest
    @ValueSource(strings = {"uffd", "mprotect"})
    void sigtermToHotcloneReachesTheProgram(String tracking) throws Exception {
        Path journal = dir.resolve("journal");
        try (Launched run = launchTracking(journal, tracking, TestPrograms.compile("counter").toString(), "--verify-file",
                dir.resolve("verify").toString())) {
            run.awaitCheckpoint();
            run.process().toHandle().destroy();
            assertTrue(run.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "hotclone must exit once its program has");
            assertEquals(128 + 15, run.process().exitValue(), "SIGTERM passed on to the program, which it killed");
        }
    }

    @Test
    void afterLauncherAndProgramAreKilledTheLastCheckpointRestores() throws Exception {
        Path journal = dir.resolve("journal");
        Path verify = dir.resolve("verify");
        try (Launched run = launch(journal, TestPrograms.compile("counter").toString(), "--verify-file", verify.toString())) {
            int pid = run.awaitCheckpoint();
            Program program = Program.adopt(pid, run.out());
            program.awaitTick(5, WAIT);
            run.process().destroyForcibly();
            run.process().waitFor();
            program.kill9();
            long last = program.lastTick();
            // hotclone may have died inside a capture: that checkpoint is a torn tail, not damage.
            HotcloneCli.Run check = HotcloneCli.run(dir, "journal", "verify", journal.toString());
            assertEquals(0, check.exitCode(), check.toString());
            HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
            assertEquals(0, restore.exitCode(), restore.toString());
            Matcher restoredPid = Pattern.compile("(?m)^pid (\\d+)$").matcher(restore.out());
            assertTrue(restoredPid.find(), restore.toString());
            // The program's stdout was hotclone's, so the restored one's is the restoring hotclone's.
            try (Program restored = Program.adopt(Integer.parseInt(restoredPid.group(1)), restore.stdout())) {
                long resumed = restored.awaitTick(1, WAIT);
                assertTrue(resumed > 1 && resumed <= last + 1,
                        "it continues from a checkpoint taken by tick " + last + ", not from its start: tick " + resumed);
                Verify.assertPasses(restored, verify, WAIT);
            }
        }
    }

    /** The newest checkpoint committed to {@code journal} so far, 0 if none. */
    private long newestSeq(Path journal) throws Exception {
        HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
        return SEQ.matcher(ls.out()).results().mapToLong(m -> Long.parseLong(m.group(1))).max().orElse(0);
    }

    /**
     * memstate holds every kind of state; kernelwrites has the kernel write into its memory
     * (system call buffers, a signal stack in the heap, forks); mapchurn changes its mappings
     * every tick: what dirty tracking by page protection must follow; threads runs 8 threads
     * under mutexes and condition variables, threadchurn makes and joins threads every tick;
     * pipes, timers, names and sockets keep state in the kernel (queued bytes, timers, host names);
     * tree is a parent and two children passing a token around a ring of pipes and a socketpair
     * (a logging thread in the parent, each child checking its pid and parent's on every pass);
     * pipeline is a shell pipeline of three processes (`sh -c 'produce | relay | consume'`), whose
     * consumer checks that no byte in the pipes was lost or repeated; sharedanon's parent, child
     * and grandchild talk through MAP_SHARED anonymous memory inherited over fork; zombies holds
     * three children that ended (an exit status, a signal, a group of its own) and waits for them
     * only at verify; sysvipc keeps System V segments (one shared with a child), semaphores and a
     * message queue in its IPC namespace; fifos has bytes queued in named pipes, one written by a
     * child; inotify watches a directory and a file, a watch descriptor given back between them.
     */
    @ParameterizedTest
    @CsvSource({"memstate, uffd", "memstate, mprotect", "kernelwrites, mprotect", "mapchurn, mprotect", "threads, uffd",
            "threadchurn, uffd", "pipes, uffd", "timers, uffd", "names, uffd",
            "sockets, uffd", "inet, uffd", "tree, uffd", "pipeline, uffd", "sharedanon, uffd",
            "zombies, uffd", "sysvipc, uffd", "fifos, uffd", "inotify, uffd"})
    void aRandomCheckpointOfAnIncrementalChainRestoresAndPassesItsSelfCheck(String name, String tracking) throws Exception {
        Path journal = dir.resolve("journal");
        Path verify = dir.resolve("verify");
        List<String> command = new ArrayList<>(List.of(TestPrograms.compile(name).toString(), "--verify-file",
                verify.toString()));
        if (name.equals("pipeline")) {
            String bin = "'" + TestPrograms.compile(name) + "'";
            command = List.of("/bin/sh", "-c", bin + " produce | " + bin + " relay | " + bin + " consume --verify-file '"
                    + verify + "'");
        }
        if (name.equals("memstate")) {
            command.addAll(List.of("--log", dir.resolve("log").toString(), "--data", dir.resolve("data").toString(),
                    "--heap-mib", "32"));
        }
        long afterSetup;
        try (Launched run = launchTracking(journal, tracking, command.toArray(String[]::new))) {
            Program program = Program.adopt(run.awaitCheckpoint(), run.out());
            program.awaitTick(1, WAIT);
            // A program's self-check covers what it set up: checkpoints of its setup (possible where
            // setup is slow, as under mprotect) would rerun part of it. The one being taken when tick 1
            // was seen may be one; those begun after it was committed are not.
            afterSetup = newestSeq(journal) + 2;
            program.awaitTick(Math.max(8, program.lastTick() + 6), WAIT);
            run.process().destroyForcibly();
            run.process().waitFor();
            program.kill9();
        }
        HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
        List<Long> incremental = Pattern.compile("(?m)^seq=(\\d+) kind=incremental ").matcher(ls.out()).results()
                .map(m -> Long.parseLong(m.group(1))).filter(seq -> seq >= afterSetup).toList();
        assertTrue(incremental.size() >= 3, "checkpoints after the first must be incremental (from seq " + afterSetup
                + " on): " + ls);
        long seed = System.nanoTime();
        long seq = incremental.get(new java.util.Random(seed).nextInt(incremental.size()));
        HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--seq",
                Long.toString(seq), "--detach");
        assertEquals(0, restore.exitCode(), "seq " + seq + " (seed " + seed + "): " + restore);
        Matcher pid = Pattern.compile("(?m)^pid (\\d+)$").matcher(restore.out());
        assertTrue(pid.find(), restore.toString());
        try (Program restored = Program.adopt(Integer.parseInt(pid.group(1)), restore.stdout())) {
            restored.awaitTick(1, WAIT);
            if (name.equals("memstate")) {
                restored.signal(Program.SIGUSR1); // its handler's run is part of its check
            }
            Verify.assertPasses(restored, verify, WAIT);
        }
    }

    /**
     * After the program runs another program (exec), everything hotclone had opened on its old
     * memory is set up anew: checkpoints keep committing, a new chain begins, and a checkpoint of
     * the new program restores it and passes its self-check.
     */
    @ParameterizedTest
    @ValueSource(strings = {"uffd", "mprotect"})
    void aProgramThatExecsKeepsGettingCheckpointsAndOneOfTheNewProgramRestores(String tracking) throws Exception {
        Path journal = dir.resolve("journal");
        Path verify = dir.resolve("verify");
        long afterExec;
        // Built first, with HotcloneCli's patience: a rebuild would eat the wait for the first checkpoint.
        assertEquals(0, HotcloneCli.run(dir, "--version").exitCode());
        try (Launched run = launchTracking(journal, tracking, TestPrograms.compile("execself").toString(),
                "--verify-file", verify.toString(), "--exec-file", dir.resolve("exec").toString())) {
            Program program = Program.adopt(run.awaitCheckpoint(), run.out());
            program.awaitTick(program.lastTick() + 3, WAIT);
            Files.createFile(dir.resolve("exec"));
            program.awaitLine(Pattern.compile("ready pid=\\d+ generation=1"), WAIT);
            // The checkpoint being taken as the exec came may be of the old program; those begun after it was committed are not.
            afterExec = newestSeq(journal) + 2;
            program.awaitTick(program.lastTick() + 10, WAIT);
            run.process().destroyForcibly();
            run.process().waitFor();
            program.kill9();
            String err = Files.readString(run.err());
            assertTrue(err.contains("(exec)") && err.contains("is full"), "the exec is seen and begins a new chain: " + err);
            assertFalse(err.contains("failed"), "no checkpoint failed: " + err);
        }
        HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
        List<MatchResult> after = SEQ.matcher(ls.out()).results().filter(m -> Long.parseLong(m.group(1)) >= afterExec)
                .toList();
        assertTrue(after.size() >= 5 && after.stream().anyMatch(m -> m.group(2).equals("incremental")),
                "1 s of ticks after the exec: checkpoints go on, incremental again (from seq " + afterExec + "): " + ls);
        String latest = after.getLast().group(1);
        HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--seq", latest,
                "--detach");
        assertEquals(0, restore.exitCode(), "seq " + latest + ": " + restore);
        Matcher pid = Pattern.compile("(?m)^pid (\\d+)$").matcher(restore.out());
        assertTrue(pid.find(), restore.toString());
        try (Program restored = Program.adopt(Integer.parseInt(pid.group(1)), restore.stdout())) {
            restored.awaitTick(1, WAIT);
            Verify.assertPasses(restored, verify, WAIT);
            assertTrue(restored.lines().contains("generation 1"), "the new program was restored: " + restored.lines());
        }
    }

    @Test
    void underMprotectTrackingAProgramTheKernelWritesForRunsCorrectlyAndCheckpointsIncrementally() throws Exception {
        Path journal = dir.resolve("journal");
        Path verify = dir.resolve("verify");
        try (Launched run = launchTracking(journal, "mprotect", TestPrograms.compile("kernelwrites").toString(), "--verify-file",
                verify.toString())) {
            Program program = Program.adopt(run.awaitCheckpoint(), run.out());
            program.awaitTick(15, WAIT);
            Verify.assertPasses(program, verify, WAIT);
            assertTrue(run.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "hotclone ends with its program");
            assertEquals(0, run.process().exitValue(), Files.readString(run.err()));
        }
        HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
        assertTrue(Pattern.compile("(?m)^seq=\\d+ kind=incremental ").matcher(ls.out()).results().count() >= 5,
                "1.5 s of ticks: checkpoints after the first are incremental: " + ls);
    }

    /**
     * Page protection follows the program's one thread: once it makes a second, its checkpoints
     * are refused by name (what to run instead included), and the program runs on unharmed.
     */
    @Test
    void underMprotectTrackingASecondThreadIsRefusedByNameAndTheProgramRunsOn() throws Exception {
        Path journal = dir.resolve("journal");
        String script = "import threading, time\nthreading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
                + "for i in range(1, 100000):\n    print('tick', i, flush=True)\n    time.sleep(0.1)\n";
        try (Launched run = launchTracking(journal, "mprotect", TestPrograms.python().toString(), "-c", script)) {
            Program program = Program.adopt(run.awaitLine(Pattern.compile("has 2 threads, and --dirty-tracking mprotect"
                    + " follows a single thread; run it with --dirty-tracking uffd")), run.out());
            long tick = program.awaitTick(1, WAIT);
            program.awaitTick(tick + 3, WAIT);
            assertTrue(program.isAlive(), "a refused checkpoint leaves the program running");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uffd", "mprotect"})
    void checkpointNowAsksTheRunningHotcloneForOne(String tracking) throws Exception {
        Path journal = dir.resolve("journal");
        try (Launched run = Launched.start(journal, List.of("--checkpoint-interval", "10m", "--dirty-tracking", tracking),
                List.of(TestPrograms.compile("counter").toString(), "--verify-file", dir.resolve("verify").toString()))) {
            Program.adopt(run.awaitProtection(), run.out()).awaitTick(2, WAIT);
            for (int seq = 1; seq <= 2; seq++) {
                HotcloneCli.Run now = HotcloneCli.run(dir, "checkpoint", "--journal", journal.toString(), "--now");
                assertEquals(0, now.exitCode(), now.toString());
                assertTrue(now.out().startsWith("seq=" + seq + " "), "a 10 minute interval takes none by itself: " + now);
            }
        }
        HotcloneCli.Run none = HotcloneCli.run(dir, "checkpoint", "--journal", journal.toString(), "--now");
        assertEquals(1, none.exitCode(), none.toString());
        assertTrue(none.err().contains("no hotclone run is protecting a program with journal"), none.toString());
    }

    private Launched launch(Path journal, String... command) throws IOException {
        return launchTracking(journal, "uffd", command);
    }

    /** @param tracking the --dirty-tracking mode */
    private Launched launchTracking(Path journal, String tracking, String... command) throws IOException {
        return Launched.start(journal, List.of("--dirty-tracking", tracking), List.of(command));
    }
}
