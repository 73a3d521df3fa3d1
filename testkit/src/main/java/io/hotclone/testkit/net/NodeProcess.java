package io.hotclone.testkit.net;

import io.hotclone.testkit.Program;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** A command started in a {@link Node}, and its log. */
public final class NodeProcess {
    private static final Duration GONE = Duration.ofSeconds(30);

    private final Process process;
    private final Path log;

    NodeProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** The pid, in the root namespace, of the {@code unshare} that holds the command's PID namespace. */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /**
     * Waits for a line of the log that matches {@code line} as a whole and returns the first.
     *
     * @throws AssertionError after {@code timeout}, or once the process ended without it, with the log's tail
     */
    public String awaitLine(Pattern line, Duration timeout) {
        // The log read as the output of a program: unshare lives as long as the command.
        return Program.adopt((int) pid(), log).awaitLine(line, timeout);
    }

    /** Waits for the command to exit; returns its status. */
    public int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("still running after " + timeout + ": " + log + tail());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * SIGKILL to the PID namespace's first process, which makes the kernel kill every other one
     * with it; returns them all, to wait for.
     */
    List<ProcessHandle> killNamespace() {
        List<ProcessHandle> all = new ArrayList<>(process.toHandle().descendants().toList());
        process.toHandle().children().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        all.add(process.toHandle());
        return all;
    }

    static void awaitGone(List<ProcessHandle> all, Path log) {
        long deadline = System.nanoTime() + GONE.toNanos();
        for (ProcessHandle p : all) {
            while (p.isAlive()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("process " + p.pid() + " of " + log + " outlived its PID namespace by " + GONE);
                }
                sleep(5);
            }
        }
    }

    private List<String> lines() {
        try {
            // Lenient: a program's output need not be valid UTF-8.
            return Files.exists(log) ? new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList() : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String tail() {
        List<String> lines = lines();
        return ":\n  " + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
