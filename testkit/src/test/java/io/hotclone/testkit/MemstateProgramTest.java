package io.hotclone.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemstateProgramTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Program start(String... extra) {
        List<String> command = new ArrayList<>(List.of(TestPrograms.compile("memstate").toString(),
                "--verify-file", dir.resolve("verify").toString(),
                "--log", dir.resolve("memstate.log").toString(),
                "--data", dir.resolve("memstate.data").toString()));
        command.addAll(List.of(extra));
        return Program.start(dir, command);
    }

    @Test
    void passesItsSelfCheckWithTheDefault64MiBHeap() throws IOException {
        try (Program memstate = start()) {
            memstate.awaitTick(3, TIMEOUT);
            memstate.signal(Program.SIGUSR1);
            Verify.assertPasses(memstate, dir.resolve("verify"), TIMEOUT);
            List<String> expectedLog = LongStream.rangeClosed(1, memstate.lastTick())
                    .mapToObj(n -> "tick " + n).toList();
            assertEquals(expectedLog, Files.readAllLines(dir.resolve("memstate.log")));
        }
    }

    @Test
    void failsItsSelfCheckWhenSigusr1NeverArrived() {
        try (Program memstate = start("--heap-mib", "4")) {
            memstate.awaitTick(1, TIMEOUT);
            List<String> failures = Verify.failures(memstate, dir.resolve("verify"), TIMEOUT);
            assertEquals(List.of("sigaction: the SIGUSR1 handler never ran (send SIGUSR1 before the verify file)"),
                    failures);
        }
    }

    /** Each corruption must be caught, and only by the check of the piece it broke. */
    @ParameterizedTest
    @ValueSource(strings = {"heap", "tls", "sigaction", "sigmask", "log", "log-append", "log-steps", "rofile",
            "private", "private-kind", "shared", "shared-kind", "stack"})
    void failsItsSelfCheckWhenOnePieceOfStateIsCorrupted(String kind) {
        String piece = kind.split("-")[0] + ":";
        try (Program memstate = start("--heap-mib", "4", "--self-test-corrupt", kind)) {
            memstate.awaitTick(1, TIMEOUT);
            memstate.signal(Program.SIGUSR1);
            List<String> failures = Verify.failures(memstate, dir.resolve("verify"), TIMEOUT);
            assertFalse(failures.isEmpty(), kind + " corrupted, yet memstate passed");
            assertTrue(failures.stream().allMatch(f -> f.startsWith(piece)), failures.toString());
        }
    }
}
