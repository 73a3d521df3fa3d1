package io.hotclone.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CounterProgramTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Program start(String... extra) {
        Path verify = dir.resolve("verify");
        List<String> command = new ArrayList<>(List.of(
                TestPrograms.compile("counter").toString(), "--verify-file", verify.toString()));
        command.addAll(List.of(extra));
        return Program.start(dir, command);
    }

    @Test
    void passesItsSelfCheckAfterTicking() {
        try (Program counter = start()) {
            counter.awaitTick(3, TIMEOUT);
            Verify.assertPasses(counter, dir.resolve("verify"), TIMEOUT);
            assertFalse(counter.isAlive());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"heap", "counter"})
    void failsItsSelfCheckWhenItsStateIsCorrupted(String kind) {
        try (Program counter = start("--self-test-corrupt", kind)) {
            counter.awaitTick(1, TIMEOUT);
            List<String> failures = Verify.failures(counter, dir.resolve("verify"), TIMEOUT);
            assertEquals(1, failures.size(), failures.toString());
            assertTrue(failures.getFirst().startsWith(kind + ":"), failures.getFirst());
        }
    }
}
