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

class MapchurnProgramTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Program start(String... extra) {
        Path verify = dir.resolve("verify");
        List<String> command = new ArrayList<>(List.of(
                TestPrograms.compile("mapchurn").toString(), "--verify-file", verify.toString()));
        command.addAll(List.of(extra));
        return Program.start(dir, command);
    }

    @Test
    void passesItsSelfCheckAfterTicking() {
        try (Program mapchurn = start()) {
            mapchurn.awaitTick(3, TIMEOUT);
            Verify.assertPasses(mapchurn, dir.resolve("verify"), TIMEOUT);
            assertFalse(mapchurn.isAlive());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"region", "heap", "flip"})
    void failsItsSelfCheckWhenItsStateIsCorrupted(String kind) {
        try (Program mapchurn = start("--self-test-corrupt", kind)) {
            mapchurn.awaitTick(1, TIMEOUT);
            List<String> failures = Verify.failures(mapchurn, dir.resolve("verify"), TIMEOUT);
            assertEquals(1, failures.size(), failures.toString());
            assertTrue(failures.getFirst().startsWith(kind + ":"), failures.getFirst());
        }
    }
}
