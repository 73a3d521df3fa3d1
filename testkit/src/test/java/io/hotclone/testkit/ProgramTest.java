package io.hotclone.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgramTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Pattern READY = Pattern.compile("ready pid=(\\d+)");

    @TempDir
    Path dir;

    private Program startCounter() {
        return Program.start(dir, TestPrograms.compile("counter").toString(),
                "--verify-file", dir.resolve("verify").toString());
    }

    @Test
    void startedProgramIsDetachedFromTheJvmAndReportsItsOwnPid() {
        try (Program counter = startCounter()) {
            String ready = counter.awaitLine(READY, TIMEOUT);
            assertEquals("ready pid=" + counter.pid(), ready);
            assertNotEquals(ProcessHandle.current().pid(), counter.parentPid());
            assertTrue(ProcessHandle.current().descendants().noneMatch(p -> p.pid() == counter.pid()),
                    "the program must not descend from the JVM, whose reaper would swallow ptrace stops");
        }
    }

    @Test
    void ticksCountFromOneWithoutGaps() {
        try (Program counter = startCounter()) {
            counter.awaitTick(3, TIMEOUT);
            assertEquals(List.of(1L, 2L, 3L), counter.ticks().subList(0, 3));
        }
    }

    @Test
    void closingAnAdoptedProcessKillsItThoughItIsNotOurChild() {
        try (Program counter = startCounter()) {
            counter.awaitTick(1, TIMEOUT);
            Program adopted = Program.adopt(counter.pid(), counter.stdout());
            adopted.close();
            assertFalse(counter.isAlive());
            assertFalse(adopted.isAlive());
        }
    }

    @Test
    void adoptedProgramSeesOnlyTheOutputAfterItsStartOffset() {
        try (Program counter = startCounter()) {
            counter.awaitTick(2, TIMEOUT);
            Program successor = Program.adopt(counter.pid(), counter.stdout(), counter.stdoutSize());
            long first = successor.awaitTick(1, TIMEOUT);
            assertTrue(first >= 3, "tick " + first + " was written before the offset");
            assertEquals(first, successor.ticks().getFirst());
            assertTrue(successor.lines().stream().noneMatch(l -> READY.matcher(l).matches()));
        }
    }

    @Test
    void awaitLineFailsAfterItsTimeoutShowingTheOutputTail() {
        try (Program counter = startCounter()) {
            counter.awaitTick(1, TIMEOUT);
            AssertionError error = assertThrows(AssertionError.class,
                    () -> counter.awaitLine(Pattern.compile("never printed"), Duration.ofMillis(300)));
            assertTrue(error.getMessage().contains("within PT0.3S"), error.getMessage());
            assertTrue(error.getMessage().contains("tick 1"), error.getMessage());
        }
    }

    @Test
    void awaitLineFailsOnceTheProgramEndsShowingItsStderr() {
        // Without --verify-file the counter exits at once with a usage error.
        try (Program broken = Program.start(dir, TestPrograms.compile("counter").toString())) {
            AssertionError error = assertThrows(AssertionError.class,
                    () -> broken.awaitLine(READY, Duration.ofMinutes(5)));
            assertTrue(error.getMessage().contains("ended without printing"), error.getMessage());
            assertTrue(error.getMessage().contains("missing required option --verify-file"), error.getMessage());
        }
    }

    @Test
    void compilingAMissingProgramNamesItsSource() {
        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> TestPrograms.compile("no-such-program"));
        assertTrue(error.getMessage().contains("testprograms/no-such-program.c"), error.getMessage());
    }
}
