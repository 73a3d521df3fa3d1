package io.hotclone.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StatefulScriptTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Program start(String... extra) {
        List<String> command = new ArrayList<>(List.of(TestPrograms.python().toString(),
                TestPrograms.source("stateful.py").toString(), "--verify-file", dir.resolve("verify").toString()));
        command.addAll(List.of(extra));
        return Program.start(dir, command);
    }

    @Test
    void passesItsSelfCheckAfterTicking() {
        try (Program stateful = start()) {
            stateful.awaitTick(3, TIMEOUT);
            Verify.assertPasses(stateful, dir.resolve("verify"), TIMEOUT);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"state", "iterator"})
    void failsItsSelfCheckWhenItsStateIsCorrupted(String kind) {
        try (Program stateful = start("--self-test-corrupt", kind)) {
            stateful.awaitTick(1, TIMEOUT);
            List<String> failures = Verify.failures(stateful, dir.resolve("verify"), TIMEOUT);
            assertEquals(1, failures.size(), failures.toString());
            assertTrue(failures.getFirst().startsWith(kind + ":"), failures.getFirst());
        }
    }
}
