package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real {@code ./hotclone} script of this checkout, from another directory. Under
 * {@code mvn test} the launcher jar does not exist yet, so the first run also proves the script
 * builds it by itself.
 */
class HotcloneScriptTest {
    /** Enough for a first build on a slow machine; a built launcher answers in under a second. */
    private static final long TIMEOUT_MINUTES = 10;

    @TempDir
    Path elsewhere;

    private record Run(int exitCode, String out, String err) {}

    private Run hotclone(String... args) throws IOException, InterruptedException {
        String repo = System.getProperty("hotclone.repo");
        assertTrue(repo != null && Files.isExecutable(Path.of(repo, "hotclone")),
                "system property hotclone.repo must name the repository root holding ./hotclone (surefire sets it),"
                        + " got " + repo);
        List<String> command = new ArrayList<>(List.of(Path.of(repo, "hotclone").toString()));
        command.addAll(List.of(args));
        Path out = elsewhere.resolve("out");
        Path err = elsewhere.resolve("err");
        Process process = new ProcessBuilder(command)
                .directory(elsewhere.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        try {
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                fail("./hotclone " + String.join(" ", args) + " did not finish in " + TIMEOUT_MINUTES
                        + " minutes; stderr so far:\n" + Files.readString(err));
            }
            return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    @Test
    void helpWorksFromAnyDirectory() throws Exception {
        Run help = hotclone("--help");
        assertEquals(0, help.exitCode(), help.err());
        assertTrue(help.out().startsWith("Usage: hotclone"), help.out());
    }

    @Test
    void exitCodeIsTheCommandsOwn() throws Exception {
        Run unknown = hotclone("frobnicate");
        assertEquals(2, unknown.exitCode(), unknown.err());
        assertTrue(unknown.err().contains("hotclone: unknown command 'frobnicate'"), unknown.err());
    }
}
