package io.hotclone.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code hotclone run} in the background (./hotclone execs the JVM, so the process is hotclone
 * itself), killed with everything it started at the end.
 */
record Launched(Process process, Path out, Path err) implements AutoCloseable {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern PROTECTED_PID = Pattern.compile("protecting \\S+ as pid (\\d+)");
    private static final Pattern FIRST_CHECKPOINT = Pattern.compile("first checkpoint");

    /**
     * Starts {@code hotclone run --journal JOURNAL OPTIONS -- COMMAND} in the journal's parent
     * directory, its stdout and stderr in JOURNAL.out and JOURNAL.err there.
     */
    static Launched start(Path journal, List<String> options, List<String> command) throws IOException {
        return start(journal.getParent(), journal, options, command);
    }

    /** As {@link #start(Path, List, List)}, in {@code dir}, which holds JOURNAL.out and JOURNAL.err. */
    static Launched start(Path dir, Path journal, List<String> options, List<String> command) throws IOException {
        List<String> args = new ArrayList<>(List.of(Path.of(System.getProperty("hotclone.repo"), "hotclone").toString(),
                "run", "--journal", journal.toString()));
        args.addAll(options);
        args.add("--");
        args.addAll(command);
        Path out = dir.resolve(journal.getFileName() + ".out");
        Path err = dir.resolve(journal.getFileName() + ".err");
        Process process = new ProcessBuilder(args).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        return new Launched(process, out, err);
    }

    /** Waits for the first checkpoint; returns the protected program's pid. */
    int awaitCheckpoint() throws Exception {
        return awaitLine(FIRST_CHECKPOINT);
    }

    /** Waits until hotclone protects its program; returns the program's pid. */
    int awaitProtection() throws Exception {
        return awaitLine(PROTECTED_PID);
    }

    /** Waits until hotclone's log holds {@code line} and names its program; returns the program's pid. */
    int awaitLine(Pattern line) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            String log = Files.readString(err);
            Matcher pid = PROTECTED_PID.matcher(log);
            if (line.matcher(log).find() && pid.find()) {
                return Integer.parseInt(pid.group(1));
            }
            process.waitFor(10, TimeUnit.MILLISECONDS);
        }
        throw new AssertionError("no '" + line + "' within " + WAIT + "; stderr:\n" + Files.readString(err));
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }
}
