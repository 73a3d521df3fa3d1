package io.hotclone.launcher;

import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One writer per journal: a second writing command is refused and names the first, which runs on untouched. */
class OneWriterTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern PROTECTED_PID = Pattern.compile("as pid (\\d+)");

    @TempDir
    Path dir;

    /** A `hotclone run` of counter into {@code journal}, once it has written its first checkpoint. */
    private record Run(Process hotclone, Program program, Path err) implements AutoCloseable {
        @Override
        public void close() throws InterruptedException {
            hotclone.destroyForcibly(); // SIGKILL: the journal's lock stays behind, naming it
            hotclone.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS);
            program.kill9();
            program.close();
        }
    }

    private Run run(Path journal, String name) throws Exception {
        Path err = dir.resolve(name + ".err");
        Path out = dir.resolve(name + ".out");
        Process hotclone = new ProcessBuilder(Path.of(System.getProperty("hotclone.repo"), "hotclone").toString(),
                "run", "--journal", journal.toString(), "--", TestPrograms.compile("counter").toString(),
                "--verify-file", dir.resolve(name + ".verify").toString())
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(out.toFile()).redirectError(err.toFile())
                .start();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && hotclone.isAlive()) {
            String log = Files.readString(err);
            Matcher pid = PROTECTED_PID.matcher(log);
            if (log.contains("first checkpoint") && pid.find()) {
                return new Run(hotclone, Program.adopt(Integer.parseInt(pid.group(1)), out), err);
            }
            hotclone.waitFor(20, TimeUnit.MILLISECONDS);
        }
        hotclone.descendants().forEach(ProcessHandle::destroyForcibly);
        hotclone.destroyForcibly();
        throw new AssertionError("no first checkpoint within " + WAIT + "; stderr:\n" + Files.readString(err));
    }

    @Test
    void aSecondWriterIsRefusedNamingTheFirstWhichRunsOnAndAfterItsDeathTheLockIsTakenOver() throws Exception {
        Path journal = dir.resolve("journal");
        HotcloneCli.run(dir, "--version"); // builds ./hotclone if the sources changed, within its own time limit
        try (Run first = run(journal, "first")) {
            String refusal = "hotclone: journal " + journal + " is being written by pid " + first.hotclone().pid()
                    + " on host ";
            HotcloneCli.Run second = HotcloneCli.run(dir, "run", "--journal", journal.toString(), "--", "/bin/true");
            assertEquals(1, second.exitCode(), second.toString());
            assertTrue(second.err().startsWith(refusal) && second.err().contains("(hotclone run --journal " + journal
                    + " -- ") && second.err().strip().endsWith("stop it first, or use another --journal"), second.toString());
            HotcloneCli.Run checkpoint = HotcloneCli.run(dir, "checkpoint", "--pid",
                    Integer.toString(first.program().pid()), "--journal", journal.toString());
            assertEquals(1, checkpoint.exitCode(), checkpoint.toString());
            assertTrue(checkpoint.err().startsWith(refusal), checkpoint.toString());

            long ls = HotcloneCli.run(dir, "journal", "ls", journal.toString()).out().lines().count();
            first.program().awaitTick(first.program().lastTick() + 10, WAIT);
            assertTrue(first.hotclone().isAlive(), "the first run goes on: " + Files.readString(first.err()));
            long later = HotcloneCli.run(dir, "journal", "ls", journal.toString()).out().lines().count();
            assertTrue(later > ls, "the first run keeps checkpointing: " + ls + " then " + later + " checkpoints");
        }
        HotcloneCli.Run verify = HotcloneCli.run(dir, "journal", "verify", journal.toString());
        assertEquals(0, verify.exitCode(), "the refused writers left the journal sound\n" + verify);
        HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
        assertEquals(0, restore.exitCode(), restore.toString());
        Matcher pid = Pattern.compile("(?m)^pid (\\d+)$").matcher(restore.out());
        assertTrue(pid.find(), restore.toString());
        try (Program restored = Program.adopt(Integer.parseInt(pid.group(1)), restore.stdout())) {
            Verify.assertPasses(restored, dir.resolve("first.verify"), WAIT);
        }

        String stale = Files.readString(journal.resolve("hotclone-journal.lock"));
        try (Run next = run(journal, "next")) {
            assertTrue(Files.readString(next.err()).contains("taking over the writer lock of " + stale.strip()
                    + ", which is gone"), Files.readString(next.err()));
        }
    }
}
