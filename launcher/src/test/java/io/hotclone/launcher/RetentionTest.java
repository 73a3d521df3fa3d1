package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.journal.SecondlyJournals;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hotclone run --retention}: a journal that stays bounded while its program runs on. */
class RetentionTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aLongRunKeepsFewRollCyclesAndItsLastCheckpointRestores() throws Exception {
        Path journal = dir.resolve("journal");
        SecondlyJournals.make(journal); // a file a second
        try (Launched run = Launched.start(journal, List.of("--checkpoint-interval", "20ms", "--retention", "0.001"),
                List.of(TestPrograms.compile("counter").toString(), "--verify-file", dir.resolve("verify").toString()))) {
            Program program = Program.adopt(run.awaitCheckpoint(), run.out());
            long deadline = System.nanoTime() + Duration.ofSeconds(6).toNanos();
            int mostFiles = 0;
            while (System.nanoTime() < deadline) { // six cycles of checkpoints, the cycle files counted meanwhile
                assertTrue(run.process().isAlive(), "hotclone must protect its program on: " + Files.readString(run.err()));
                mostFiles = Math.max(mostFiles, cycleFiles(journal));
                run.process().waitFor(50, TimeUnit.MILLISECONDS);
            }
            try (Stream<Path> files = Files.list(journal)) {
                files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".cq4")).forEach(f -> assertTrue(
                        f.matches("\\d{8}-\\d{6}T\\.cq4"), "the journal keeps the one-second cycle it was made with: " + f));
            }
            run.process().destroyForcibly().waitFor();
            program.kill9();
            System.out.println("retention: at most " + mostFiles + " cycle files, journal "
                    + HotcloneCli.run(dir, "journal", "ls", journal.toString()).out().lines().count() + " checkpoints, "
                    + du(journal) + " KiB on disk");
            assertTrue(mostFiles <= 3, "a full checkpoint every 64 KiB of incremental ones (0.001 x 64 MiB) keeps at most three one-second"
                    + " cycles, not six: " + mostFiles);
        }
        HotcloneCli.Run verify = HotcloneCli.run(dir, "journal", "verify", journal.toString());
        assertEquals(0, verify.exitCode(), verify.toString());
        HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
        assertEquals(0, restore.exitCode(), restore.toString());
        Matcher restoredPid = Pattern.compile("(?m)^pid (\\d+)$").matcher(restore.out());
        assertTrue(restoredPid.find(), restore.toString());
        try (Program restored = Program.adopt(Integer.parseInt(restoredPid.group(1)), restore.stdout())) {
            assertTrue(restored.awaitTick(1, WAIT) > 1, "the restored program continues from a later tick");
        }
    }

    private static int cycleFiles(Path journal) throws IOException {
        try (Stream<Path> files = Files.list(journal)) {
            return (int) files.filter(f -> f.getFileName().toString().endsWith(".cq4")).count();
        }
    }

    /** The journal's blocks on disk (Chronicle files are sparse, so their length says little). */
    private static String du(Path journal) throws IOException, InterruptedException {
        Process du = new ProcessBuilder("du", "-sk", journal.toString()).start();
        String out = new String(du.getInputStream().readAllBytes()).split("\\s")[0];
        du.waitFor();
        return out;
    }
}
