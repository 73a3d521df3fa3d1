package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.journal.SecondlyJournals;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hotclone run} with its journal on a small tmpfs that the test fills up while the program
 * runs: checkpoints fail meanwhile (across several rolls of the queue file, one a second here),
 * commit again once the disk has room, the first to commit counts the failures before it in
 * {@code journal ls}, and the latest restores and passes the program's self-check; a journal that stays full past --journal-failure-limit ends the run with status 74.
 */
class JournalFailureTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern SEQ = Pattern.compile("(?m)^seq=(\\d+) kind=");
    private static final Pattern FAILED = Pattern.compile("failed \\((\\d+) in a row");

    @TempDir
    Path dir;
    private Path disk;
    private Path journal;
    private Path verify;

    @BeforeEach
    void mountASmallDisk() throws Exception {
        disk = Files.createDirectory(dir.resolve("disk"));
        command("mount", "-t", "tmpfs", "-o", "size=64m", "hctjournal", disk.toString());
        journal = disk.resolve("journal");
        verify = dir.resolve("verify");
    }

    @AfterEach
    void unmount() throws Exception {
        command("umount", "-l", disk.toString());
    }

    @Test
    void checkpointsCommitAgainOnceTheFullJournalDiskHasRoomCountingTheFailuresAndTheLatestRestores() throws Exception {
        try (Launched run = launch()) {
            Program program = Program.adopt(run.awaitCheckpoint(), run.out());
            Path fill = fill();
            // 100 + 200 + 400 + 800 ms of tries: the queue rolled to new files meanwhile.
            run.awaitLine(Pattern.compile(Pattern.quote("failed (5 in a row")));
            long before = newestSeq();
            Files.delete(fill);
            run.awaitLine(Pattern.compile("protection resumes after"));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (newestSeq() <= before + 2) {
                assertTrue(System.nanoTime() < deadline, "no checkpoint after seq " + before + " within " + WAIT);
                program.awaitTick(program.lastTick() + 1, WAIT);
            }
            run.process().destroyForcibly().waitFor();
            program.kill9();
            String log = Files.readString(run.err());
            assertTrue(log.contains("has 0 MiB free"), "each failure says why: " + log);
            assertFailuresCounted(log);
        }
        HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
        assertEquals(0, restore.exitCode(), restore.toString());
        Matcher pid = Pattern.compile("(?m)^pid (\\d+)$").matcher(restore.out());
        assertTrue(pid.find(), restore.toString());
        try (Program restored = Program.adopt(Integer.parseInt(pid.group(1)), restore.stdout())) {
            restored.awaitTick(1, WAIT);
            Verify.assertPasses(restored, verify, WAIT);
        }
    }

    @Test
    void aJournalFullPastTheLimitEndsTheRunWithStatus74AndKillsTheProgram() throws Exception {
        try (Launched run = launch("--journal-failure-limit", "2s")) {
            Program program = Program.adopt(run.awaitCheckpoint(), run.out());
            fill();
            assertTrue(run.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "hotclone ends the run past the limit");
            assertEquals(Main.JOURNAL_FAILED, run.process().exitValue());
            String last = Files.readAllLines(run.err()).getLast();
            assertTrue(last.startsWith("hotclone: journal " + journal) && last.contains("--journal-failure-limit")
                    && last.contains("has 0 MiB free"), "the last line says why: " + last);
            assertFalse(program.isAlive(), "the program was killed rather than run on unprotected");
        }
    }

    /** {@code hotclone run} of counter, its journal on the small disk rolling to a new file each second. */
    private Launched launch(String... options) throws Exception {
        // Built first, with HotcloneCli's patience: a rebuild would eat the wait for the first checkpoint.
        assertEquals(0, HotcloneCli.run(dir, "--version").exitCode());
        SecondlyJournals.make(journal);
        List<String> all = new ArrayList<>(List.of("--checkpoint-interval", "100ms"));
        all.addAll(List.of(options));
        return Launched.start(dir, journal, all, List.of(TestPrograms.compile("counter").toString(), "--verify-file",
                verify.toString()));
    }

    /** Writes a file on the small disk until it is full; returns it. */
    private Path fill() throws IOException {
        Path fill = disk.resolve("fill");
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(fill)) {
            while (true) {
                out.write(chunk);
            }
        } catch (IOException full) {
            assertTrue(full.getMessage().contains("No space left"), full.toString());
        }
        return fill;
    }

    /**
     * In {@code journal ls}, the checkpoint that resumed protection counts the failures the log
     * counted before it, and every other checkpoint none.
     */
    private void assertFailuresCounted(String log) throws Exception {
        Matcher resumed = Pattern.compile("checkpoint seq (\\d+) of pid \\d+ committed: protection resumes").matcher(log);
        assertTrue(resumed.find(), log);
        int failed = FAILED.matcher(log.substring(0, resumed.start())).results()
                .mapToInt(m -> Integer.parseInt(m.group(1))).max().orElseThrow();
        HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
        List<String> counted = ls.out().lines().filter(l -> !l.endsWith(" failed_before=0")).toList();
        assertEquals(List.of("seq=" + resumed.group(1) + " failed_before=" + failed),
                counted.stream().map(l -> l.replaceAll(" .* ", " ")).toList(), ls.out());
    }

    private long newestSeq() throws Exception {
        HotcloneCli.Run ls = HotcloneCli.run(dir, "journal", "ls", journal.toString());
        return SEQ.matcher(ls.out()).results().mapToLong(m -> Long.parseLong(m.group(1))).max().orElse(0);
    }

    private static void command(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), String.join(" ", command) + " hangs");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + new String(p.getInputStream().readAllBytes()));
    }
}
