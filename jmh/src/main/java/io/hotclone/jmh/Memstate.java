package io.hotclone.jmh;

import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The memstate test program with a heap of {@code heapMib} MiB (its resident size, give or take
 * a MiB), running detached from this JVM in a temporary directory of its own, which holds its
 * files and the benchmark's journal and goes away with it.
 */
final class Memstate implements AutoCloseable {
    private static final Duration WAIT = Duration.ofMinutes(2);

    private final Path dir;
    private final Program program;

    private Memstate(Path dir, Program program) {
        this.dir = dir;
        this.program = program;
    }

    /** Starts it and returns once it has handled SIGUSR1 and ticked: its state is all set up. */
    static Memstate start(int heapMib) {
        Path dir;
        try {
            dir = Files.createTempDirectory("hotclone-jmh-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for memstate under " + System.getProperty("java.io.tmpdir"), e);
        }
        Path binary = TestPrograms.compile("memstate", dir);
        Program program = Program.start(dir, binary.toString(), "--verify-file", dir.resolve("verify").toString(),
                "--log", dir.resolve("log").toString(), "--data", dir.resolve("data").toString(),
                "--heap-mib", Integer.toString(heapMib));
        Memstate memstate = new Memstate(dir, program);
        // JMH skips the trial's teardown when a setup fails: the program must not outlive the fork.
        Runtime.getRuntime().addShutdownHook(new Thread(memstate::close));
        try {
            long tick = program.awaitTick(1, WAIT);
            // Its self-check wants the SIGUSR1 handler to have run: in every checkpoint of it, it has.
            program.signal(Program.SIGUSR1);
            program.awaitTick(tick + 1, WAIT);
            return memstate;
        } catch (RuntimeException | AssertionError e) {
            memstate.close();
            throw e;
        }
    }

    int pid() {
        return program.pid();
    }

    /** A directory that is deleted with this program. */
    Path dir() {
        return dir;
    }

    /** A restored copy of it, which writes to the same stdout from now on. */
    Program adopt(int pid) {
        return Program.adopt(pid, program.stdout(), program.stdoutSize());
    }

    /** Makes {@code copy} (this program or a restored copy of it) check its state; fails unless it passes. */
    void assertPasses(Program copy) {
        Verify.assertPasses(copy, dir.resolve("verify"), WAIT);
    }

    void assertPasses() {
        assertPasses(program);
    }

    @Override
    public void close() {
        try {
            program.close();
        } finally {
            deleteTree(dir);
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
