package io.hotclone.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The self-checking programs of the repository's {@code testprograms/} folder: C sources
 * compiled with the machine's gcc once per JVM, and scripts run as they are.
 */
public final class TestPrograms {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Map<String, Path> COMPILED = new ConcurrentHashMap<>();

    private TestPrograms() {
    }

    /**
     * Compiles {@code testprograms/NAME.c} into {@code target/testprograms/NAME} of the current
     * module, the first time it is asked for in this JVM, and returns the binary.
     *
     * @throws IllegalStateException with gcc's output when the compilation fails
     */
    public static Path compile(String name) {
        return COMPILED.computeIfAbsent(name,
                n -> compile(n, Path.of(System.getProperty("user.dir"), "target", "testprograms")));
    }

    /** A file of {@code testprograms/}, such as a script; fails if it does not exist. */
    public static Path source(String fileName) {
        Path file = repoRoot().resolve("testprograms").resolve(fileName);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("no test program " + file
                    + ": add it to testprograms/ or fix the name");
        }
        return file;
    }

    /** Debian's python3: a plain dynamically linked glibc program, unlike a pyenv shim. */
    public static Path python() {
        if (!Files.isExecutable(PYTHON)) {
            throw new IllegalStateException(PYTHON + " is missing: install Debian's python3 package");
        }
        return PYTHON;
    }

    /**
     * The repository's root: the system property {@code hotclone.repo} (which surefire sets)
     * when it holds {@code testprograms/}, else the nearest directory above the working
     * directory that does.
     */
    public static Path repoRoot() {
        String property = System.getProperty("hotclone.repo");
        if (property != null && Files.isDirectory(Path.of(property, "testprograms"))) {
            return Path.of(property);
        }
        for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath(); dir != null;
                dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("testprograms"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no testprograms/ folder above " + System.getProperty("user.dir")
                + ": run the tests from the repository or set -Dhotclone.repo=<repository root>");
    }

    /** Compiles {@code testprograms/NAME.c} into {@code outputDir/NAME} now, and returns the binary. */
    public static Path compile(String name, Path outputDir) {
        Path source = source(name + ".c");
        Path binary = outputDir.resolve(name);
        try {
            Files.createDirectories(outputDir);
            // Build aside and move into place, so a concurrent JVM never runs half a binary.
            Path partial = outputDir.resolve(name + "." + ProcessHandle.current().pid() + ".partial");
            Process gcc = new ProcessBuilder("gcc", "-O2", "-g", "-Wall", "-Wextra", "-Werror",
                    "-o", partial.toString(), source.toString())
                    .redirectErrorStream(true)
                    .start();
            String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
                gcc.destroyForcibly();
                Files.deleteIfExists(partial);
                throw new IllegalStateException("gcc failed to compile " + source + ":\n" + output);
            }
            return Files.move(partial, binary, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot compile " + source + " into " + binary
                    + " (is gcc installed?)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while compiling " + source, e);
        }
    }
}
