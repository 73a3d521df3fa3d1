package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault injection: {@code hotclone run} killed with SIGKILL at random moments of its program's
 * life (before its first checkpoint, between checkpoints, in the middle of one). The program
 * never outlives its protection unnoticed: it dies with hotclone, or, with
 * {@code --on-hotclone-exit continue}, runs on untraced and correct.
 *
 * <p>The moments come from a seed, printed; {@code -Dhotclone.seed=N} replays a run, and
 * {@code -Dhotclone.trials=N} sets the trials per case (a few by default, 100 for a benchmark).
 */
class HotcloneKilledTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** How long a program may outlive its hotclone: the kernel kills it at once, this is slack for a busy machine. */
    private static final Duration GONE = Duration.ofSeconds(5);
    private static final Pattern PROTECTED_PID = Pattern.compile("protecting \\S+ as pid (\\d+)");
    private static final int TRIALS = Integer.getInteger("hotclone.trials", 3);
    private static final long SEED = Long.getLong("hotclone.seed", System.nanoTime());

    @TempDir
    Path dir;

    @Test
    void killedAtRandomMomentsHotcloneTakesItsProgramAlong() throws Exception {
        Random random = new Random(SEED);
        System.out.println("HotcloneKilledTest seed " + SEED + " (-Dhotclone.seed to replay), " + TRIALS + " trials");
        int duringCheckpoint = 0;
        long slowestMillis = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            long delay = random.nextInt(1500);
            try (Launched run = start(dir.resolve("kill-" + trial), List.of())) {
                Program program = program(run);
                boolean traced = killAfter(run, delay);
                duringCheckpoint += traced ? 1 : 0;
                long killed = System.nanoTime();
                program.awaitExit(GONE);
                long millis = (System.nanoTime() - killed) / 1_000_000;
                slowestMillis = Math.max(slowestMillis, millis);
                System.out.printf("trial %d: hotclone killed %d ms after protecting pid %d (%s): program gone in %d ms%n",
                        trial, delay, program.pid(), traced ? "in a checkpoint" : "between checkpoints", millis);
            }
        }
        System.out.printf("HotcloneKilledTest kill: %d of %d trials, program gone every time (slowest %d ms); %d killed"
                + " in a checkpoint%n", TRIALS, TRIALS, slowestMillis, duringCheckpoint);
    }

    @Test
    void killedAtRandomMomentsWithContinueTheProgramRunsOnOrDiedInACheckpoint() throws Exception {
        Random random = new Random(SEED + 1);
        System.out.println("HotcloneKilledTest continue seed " + SEED + ", " + TRIALS + " trials");
        int ranOn = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            long delay = random.nextInt(1500);
            Path verify = dir.resolve("verify-" + trial);
            try (Launched run = start(dir.resolve("continue-" + trial), List.of("--on-hotclone-exit", "continue"),
                    verify); Program program = program(run)) {
                boolean traced = killAfter(run, delay);
                String outcome;
                if (runsOn(program)) {
                    Verify.assertPasses(program, verify, WAIT);
                    ranOn++;
                    outcome = "ran on untraced and passed its self-check";
                } else {
                    // Only a tracer's end (PTRACE_O_EXITKILL) kills it here: it was frozen in a checkpoint.
                    outcome = "died with hotclone, frozen in a checkpoint";
                }
                System.out.printf("trial %d: hotclone killed %d ms after protecting pid %d (%s): %s%n", trial, delay,
                        program.pid(), traced ? "in a checkpoint" : "between checkpoints", outcome);
            }
        }
        System.out.printf("HotcloneKilledTest continue: %d of %d ran on and passed, %d died in a checkpoint%n", ranOn,
                TRIALS, TRIALS - ranOn);
    }

    @Test
    void withContinueAProgramKilledBetweenCheckpointsRunsOnUntracedAndPassesItsSelfCheck() throws Exception {
        Path verify = dir.resolve("verify");
        try (Launched run = start(dir.resolve("journal"), List.of("--on-hotclone-exit", "continue",
                "--checkpoint-interval", "10m"), verify); Program program = program(run)) {
            program.awaitTick(1, WAIT);
            HotcloneCli.Run now = HotcloneCli.run(dir, "checkpoint", "--journal", dir.resolve("journal").toString(), "--now");
            assertEquals(0, now.exitCode(), "a checkpoint taken, and over: " + now);
            run.process().destroyForcibly();
            assertTrue(run.process().waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "hotclone killed");
            assertTrue(runsOn(program), "pid " + program.pid() + " died with hotclone although it was not"
                    + " being checkpointed (a 10 minute interval) and --on-hotclone-exit continue was given");
            Verify.assertPasses(program, verify, WAIT);
        }
    }

    /**
     * True once the program, untraced, has printed three ticks past the one it had printed when
     * its hotclone died; false if it is gone (a tracer's end kills it a moment after its
     * TracerPid reads 0, so one untraced look proves nothing). Bounded.
     */
    private static boolean runsOn(Program program) throws IOException {
        long from = program.lastTick();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (program.isAlive()) {
            if (program.lastTick() >= from + 3 && tracerPid(program.pid()) == 0) {
                return true;
            }
            assertTrue(System.nanoTime() < deadline, "pid " + program.pid() + " neither ran on untraced nor died within "
                    + WAIT + " after its hotclone died (TracerPid " + tracerPid(program.pid()) + ")");
            LockSupport.parkNanos(10_000_000);
        }
        return false;
    }

    /** TracerPid of /proc/PID/status: 0 when untraced, -1 once the process is gone. */
    private static int tracerPid(int pid) throws IOException {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "status"))) {
                if (line.startsWith("TracerPid:")) {
                    return Integer.parseInt(line.substring(10).strip());
                }
            }
        } catch (NoSuchFileException e) {
            return -1;
        }
        return -1;
    }

    /** {@code hotclone run OPTIONS -- counter} in the background. */
    private static Launched start(Path journal, List<String> options) throws IOException {
        return start(journal, options, journal.resolveSibling(journal.getFileName() + ".verify"));
    }

    private static Launched start(Path journal, List<String> options, Path verify) throws IOException {
        return Launched.start(journal, options, List.of(TestPrograms.compile("counter").toString(), "--verify-file",
                verify.toString()));
    }

    /** The protected program, once hotclone says it protects it. */
    private static Program program(Launched run) throws Exception {
        return Program.adopt(run.awaitProtection(), run.out());
    }

    /**
     * Lets the program run {@code millis} more, then kills hotclone with SIGKILL and waits for it
     * to be gone; returns whether the program was traced (in a checkpoint) just before.
     */
    private static boolean killAfter(Launched run, long millis) throws Exception {
        int pid = run.awaitProtection();
        Process hotclone = run.process();
        assertTrue(!hotclone.waitFor(millis, TimeUnit.MILLISECONDS), "hotclone ended by itself: " + Files.readString(run.err()));
        boolean traced = tracerPid(pid) > 0;
        hotclone.destroyForcibly();
        assertTrue(hotclone.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "SIGKILL did not end hotclone");
        return traced;
    }
}
