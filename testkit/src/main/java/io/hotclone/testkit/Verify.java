package io.hotclone.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/** The verify trigger of the self-checking programs, and their verdict. */
public final class Verify {
    private static final String FAIL = "FAIL: ";
    private static final Pattern VERDICT = Pattern.compile("PASS|" + FAIL + ".*");

    private Verify() {
    }

    /** Creates the file a program watches through --verify-file: it then checks its state. */
    public static void trigger(Path verifyFile) {
        try {
            Files.createFile(verifyFile);
        } catch (FileAlreadyExistsException e) {
            // already triggered: the program reads only that the file exists
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the verify file " + verifyFile, e);
        }
    }

    /**
     * Triggers verification, waits for the verdict and for the program to exit, and returns
     * its FAIL lines without the "FAIL: " prefix: empty when it printed PASS.
     */
    public static List<String> failures(Program program, Path verifyFile, Duration timeout) {
        trigger(verifyFile);
        program.awaitLine(VERDICT, timeout);
        program.awaitExit(timeout); // after the first FAIL it prints the others, then exits
        return program.lines().stream().filter(l -> l.startsWith(FAIL))
                .map(l -> l.substring(FAIL.length())).toList();
    }

    /**
     * Triggers verification and waits for PASS.
     *
     * @throws AssertionError with every FAIL line when the program fails its own check
     */
    public static void assertPasses(Program program, Path verifyFile, Duration timeout) {
        List<String> failures = failures(program, verifyFile, timeout);
        if (!failures.isEmpty()) {
            throw new AssertionError(program + " failed its self-check:\n" + String.join("\n", failures));
        }
    }
}
