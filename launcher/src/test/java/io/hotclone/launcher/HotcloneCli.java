package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code ./hotclone} script of this checkout as a user would, with a time limit. */
final class HotcloneCli {
    /** Enough for a first build on a slow machine; a built launcher answers in seconds. */
    private static final long TIMEOUT_MINUTES = 10;

    /** @param stdout the file that received the command's stdout (and its children's) */
    record Run(int exitCode, String out, String err, Path stdout) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private HotcloneCli() {
    }

    /** Runs {@code ./hotclone args} in {@code workDir}, stdin from /dev/null. */
    static Run run(Path workDir, String... args) throws IOException, InterruptedException {
        String repo = System.getProperty("hotclone.repo");
        assertTrue(repo != null && Files.isExecutable(Path.of(repo, "hotclone")),
                "system property hotclone.repo must name the repository root holding ./hotclone (surefire sets it),"
                        + " got " + repo);
        List<String> command = new ArrayList<>(List.of(Path.of(repo, "hotclone").toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(workDir, "hotclone", ".out");
        Path err = Files.createTempFile(workDir, "hotclone", ".err");
        Process process = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        try {
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                fail("./hotclone " + String.join(" ", args) + " did not finish in " + TIMEOUT_MINUTES
                        + " minutes; stderr so far:\n" + Files.readString(err));
            }
            return new Run(process.exitValue(), Files.readString(out), Files.readString(err), out);
        } finally {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
