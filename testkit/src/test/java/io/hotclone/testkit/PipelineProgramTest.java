package io.hotclone.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * pipeline.c as the shell pipeline it is written for, {@code sh -c 'pipeline produce | pipeline
 * relay | pipeline consume --verify-file P'}: the program under test is the sh, and the
 * consumer says ready and ticks.
 */
class PipelineProgramTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Program sh;

    private Program start(String... consumeExtra) {
        String pipeline = quoted(TestPrograms.compile("pipeline").toString());
        StringBuilder command = new StringBuilder(pipeline).append(" produce | ").append(pipeline)
                .append(" relay | ").append(pipeline).append(" consume --verify-file ")
                .append(quoted(dir.resolve("verify").toString()));
        for (String extra : consumeExtra) {
            command.append(' ').append(quoted(extra));
        }
        sh = Program.start(dir, "/bin/sh", "-c", command.toString());
        return sh;
    }

    private static String quoted(String word) {
        return "'" + word.replace("'", "'\\''") + "'";
    }

    /** The sh leads a process group of its own (Program starts it with setsid): its pipeline goes with it. */
    @AfterEach
    void killThePipeline() {
        if (sh != null) {
            Processes.kill(-sh.pid(), Program.SIGKILL);
        }
    }

    @Test
    void passesItsSelfCheckAfterTickingAndEndsQuietly() throws IOException {
        try (Program p = start()) {
            p.awaitLine(Pattern.compile("ready pid=\\d+"), TIMEOUT);
            p.awaitTick(3, TIMEOUT);
            Verify.assertPasses(p, dir.resolve("verify"), TIMEOUT);
            assertFalse(p.isAlive(), "sh still runs: a process of its pipeline did not end");
            try (Stream<Path> files = Files.list(dir)) {
                for (Path err : files.filter(f -> f.toString().endsWith(".err")).toList()) {
                    assertEquals("", Files.readString(err), "stderr of the pipeline");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"skip", "dup", "checksum"})
    void failsItsSelfCheckWhenItsStateIsCorrupted(String kind) {
        try (Program p = start("--self-test-corrupt", kind)) {
            p.awaitTick(2, TIMEOUT);
            List<String> failures = Verify.failures(p, dir.resolve("verify"), TIMEOUT);
            assertEquals(1, failures.size(), failures.toString());
            assertTrue(failures.getFirst().startsWith(kind + ":"), failures.getFirst());
        }
    }
}
