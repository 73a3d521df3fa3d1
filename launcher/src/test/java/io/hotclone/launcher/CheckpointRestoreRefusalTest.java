package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What cannot work is refused with a message naming the problem and a non-zero exit, and leaves
 * nothing that could be taken for a valid checkpoint, nor a half-restored process.
 */
class CheckpointRestoreRefusalTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aMissingProcessIsNamedAndNoJournalIsCreated() throws Exception {
        Path journal = dir.resolve("journal");
        HotcloneCli.Run run = HotcloneCli.run(dir, "checkpoint", "--pid", "999999999", "--journal", journal.toString());
        assertEquals(1, run.exitCode(), run.toString());
        assertTrue(run.err().contains("process 999999999 does not exist"), run.toString());
        assertFalse(Files.exists(journal), "no journal may be created for a process that does not exist");
    }

    @Test
    void aJournalThatCannotBeWrittenIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        try (Program program = counter()) {
            Path journal = file.resolve("journal");
            HotcloneCli.Run run = HotcloneCli.run(dir, "checkpoint", "--pid", Integer.toString(program.pid()),
                    "--journal", journal.toString());
            assertEquals(1, run.exitCode(), run.toString());
            assertTrue(run.err().contains(journal.toString()), run.toString());
            assertTrue(program.isAlive(), "a refused checkpoint must leave the program running");
        }
    }

    @Test
    void anEmptyOrMissingJournalIsNamedOnRestore() throws Exception {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        HotcloneCli.Run run = HotcloneCli.run(dir, "restore", "--journal", empty.toString(), "--detach");
        assertEquals(1, run.exitCode(), run.toString());
        assertTrue(run.err().contains(empty.toString()), run.toString());
        HotcloneCli.Run missing = HotcloneCli.run(dir, "restore", "--journal", dir.resolve("nothing").toString());
        assertEquals(1, missing.exitCode(), missing.toString());
        assertTrue(missing.err().contains(dir.resolve("nothing").toString()), missing.toString());
    }

    @Test
    void anUnsupportedFdIsNamedAndTheJournalHoldsNoCheckpoint() throws Exception {
        String holdsAPipe = "import os, time\nr, w = os.pipe()\nprint('tick 1', flush=True)\ntime.sleep(600)\n";
        try (Program program = Program.start(dir, TestPrograms.python().toString(), "-c", holdsAPipe)) {
            program.awaitTick(1, WAIT);
            Path journal = dir.resolve("journal");
            HotcloneCli.Run run = HotcloneCli.run(dir, "checkpoint", "--pid", Integer.toString(program.pid()),
                    "--journal", journal.toString());
            assertEquals(1, run.exitCode(), run.toString());
            assertTrue(Pattern.compile("fd \\d+ is a pipe").matcher(run.err()).find(), run.toString());
            assertTrue(program.isAlive(), "a refused checkpoint must leave the program running");
            HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
            assertEquals(1, restore.exitCode(), "a refused checkpoint must leave nothing to restore: " + restore);
        }
    }

    @Test
    void aCorruptedPageIsNamedOnRestoreAndNoProcessIsLeft() throws Exception {
        Path journal = dir.resolve("journal");
        Path binary = TestPrograms.compile("counter");
        try (Program program = counter()) {
            HotcloneCli.Run checkpoint = HotcloneCli.run(dir, "checkpoint", "--pid", Integer.toString(program.pid()),
                    "--journal", journal.toString(), "--kill");
            assertEquals(0, checkpoint.exitCode(), checkpoint.toString());
        }
        flipFirstCopyOfCountersHeapPattern(journal);
        HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
        assertEquals(1, restore.exitCode(), restore.toString());
        assertTrue(restore.err().toLowerCase().contains("crc"), restore.toString());
        assertFalse(restore.out().contains("pid "), "no pid may be reported for a failed restore: " + restore);
        List<ProcessHandle> left = ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.equals(binary.toString())).orElse(false)).toList();
        assertTrue(left.isEmpty(), "a failed restore must leave no process behind: " + left);
    }

    private Program counter() {
        Program program = Program.start(dir, TestPrograms.compile("counter").toString(), "--verify-file",
                dir.resolve("verify").toString());
        program.awaitTick(2, WAIT);
        return program;
    }

    /** counter.c fills its heap block with sc_pattern(i, 0); flips one bit of word 0 in the journal. */
    private static void flipFirstCopyOfCountersHeapPattern(Path journal) throws Exception {
        long x = 0xD1B54A32D192ED03L;
        x ^= x >>> 31;
        x *= 0xBF58476D1CE4E5B9L;
        x ^= x >>> 29;
        List<Path> files;
        try (var stream = Files.list(journal)) {
            files = stream.filter(p -> p.toString().endsWith(".cq4")).toList();
        }
        for (Path file : files) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                var map = channel.map(FileChannel.MapMode.READ_WRITE, 0, channel.size()).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i + 8 <= map.limit(); i++) {
                    if (map.getLong(i) == x) {
                        map.put(i, (byte) (map.get(i) ^ 1));
                        return;
                    }
                }
            }
        }
        throw new AssertionError("counter's heap pattern is not in the journal's files " + files);
    }
}
