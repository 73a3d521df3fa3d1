package io.hotclone.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A program under test, started detached from this JVM or adopted by pid, with its stdout in
 * a file. Detached because hotclone ptraces these programs, and the JVM's reaper waits on
 * every child it started and would swallow their ptrace stops: the program's parent is init.
 *
 * <p>Stdout is opened with O_APPEND, so a restored process (whose fds are restored) appends
 * after whatever the checkpointed one wrote. Each Program reads its stdout from a start offset:
 * 0 for a started program; for an adopted one, the file's size when the one before it died.
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class Program implements AutoCloseable {
    public static final int SIGKILL = 9;
    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;

    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(10);
    private static final Pattern TICK = Pattern.compile("tick (\\d+)");
    private static final int TAIL_LINES = 15;
    // The background job is not a process group leader, so setsid execs in place and $! is
    // the program's own pid; sh then exits and the program is reparented to init.
    private static final String DETACH =
            "out=$1 err=$2; shift 2; setsid \"$@\" </dev/null >>\"$out\" 2>>\"$err\" & echo $!";

    private final int pid;
    private final Path stdout;
    private final Optional<Path> stderr;
    private final long fromByte;

    private Program(int pid, Path stdout, Optional<Path> stderr, long fromByte) {
        this.pid = pid;
        this.stdout = stdout;
        this.stderr = stderr;
        this.fromByte = fromByte;
    }

    /**
     * Starts a command detached, in workDir, stdin from /dev/null, stdout and stderr appended
     * to new files of workDir named after the command.
     */
    public static Program start(Path workDir, List<String> command) {
        String name = Path.of(command.getFirst()).getFileName().toString();
        try {
            Path stdout = Files.createTempFile(workDir, name + "-", ".out");
            Path stderr = stdout.resolveSibling(stdout.getFileName().toString().replace(".out", ".err"));
            Files.createFile(stderr);
            List<String> shell = new ArrayList<>(List.of("sh", "-c", DETACH, "sh",
                    stdout.toString(), stderr.toString()));
            shell.addAll(command);
            Process sh = new ProcessBuilder(shell).directory(workDir.toFile())
                    .redirectErrorStream(true).start();
            String echoed = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!sh.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS) || !echoed.matches("\\d+")) {
                sh.destroyForcibly();
                throw new IllegalStateException("could not start " + command + " detached in " + workDir
                        + ": sh printed '" + echoed + "'");
            }
            return new Program(Integer.parseInt(echoed), stdout, Optional.of(stderr), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + command + " in " + workDir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + command, e);
        }
    }

    public static Program start(Path workDir, String... command) {
        return start(workDir, List.of(command));
    }

    /** A process we did not start, such as a restored one, writing to stdout from its start. */
    public static Program adopt(int pid, Path stdout) {
        return adopt(pid, stdout, 0);
    }

    /**
     * A process we did not start whose output begins at fromByte of stdout: for a restored
     * process, the file's size once the checkpointed one is dead (see {@link #stdoutSize()}).
     */
    public static Program adopt(int pid, Path stdout, long fromByte) {
        return new Program(pid, stdout, Optional.empty(), fromByte);
    }

    public int pid() {
        return pid;
    }

    public Path stdout() {
        return stdout;
    }

    /** The current size of the stdout file: where a successor's output will begin. */
    public long stdoutSize() {
        try {
            return Files.size(stdout);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + stdout, e);
        }
    }

    /** The complete lines this program has written so far; a line still being written is left out. */
    public List<String> lines() {
        return completeLines(stdout, fromByte);
    }

    /** Every "tick N" this program printed, in order. */
    public List<Long> ticks() {
        return lines().stream().map(TICK::matcher).filter(Matcher::matches)
                .map(m -> Long.parseLong(m.group(1))).toList();
    }

    /** The last tick printed, 0 before the first. */
    public long lastTick() {
        List<Long> ticks = ticks();
        return ticks.isEmpty() ? 0 : ticks.getLast();
    }

    /**
     * Waits for a line matching regex (the whole line) and returns the first such line.
     *
     * @throws AssertionError after the timeout, or once the process has died without it,
     *     with the tail of its output
     */
    public String awaitLine(Pattern regex, Duration timeout) {
        return awaitLine(line -> regex.matcher(line).matches(), "a line matching '" + regex + "'", timeout);
    }

    /** Waits until the program has printed "tick N" with N at least atLeast; returns that N. */
    public long awaitTick(long atLeast, Duration timeout) {
        String line = awaitLine(l -> {
            Matcher m = TICK.matcher(l);
            return m.matches() && Long.parseLong(m.group(1)) >= atLeast;
        }, "tick " + atLeast + " or later", timeout);
        return Long.parseLong(line.substring("tick ".length()));
    }

    private String awaitLine(Predicate<String> wanted, String description, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Backoff backoff = new Backoff();
        while (true) {
            boolean runningBefore = isAlive();
            Optional<String> line = lines().stream().filter(wanted).findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            if (!runningBefore) {
                throw new AssertionError("pid " + pid + " ended without printing " + description + tail());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("pid " + pid + " did not print " + description + " within "
                        + timeout + tail());
            }
            backoff.pause();
        }
    }

    /** Sends a signal (kill(2)); fails if the process is gone. */
    public void signal(int signal) {
        int errno = Processes.kill(pid, signal);
        if (errno != 0) {
            throw new IllegalStateException("kill(" + pid + ", " + signal + ") failed with errno "
                    + errno + (errno == Processes.ESRCH ? " (no such process: it has exited)" : ""));
        }
    }

    /** Running: it exists and is not a zombie. */
    public boolean isAlive() {
        return Processes.isRunning(pid);
    }

    /** The parent's pid (1 or a subreaper for a started program), or -1 once it is gone. */
    public int parentPid() {
        return Processes.parent(pid).orElse(-1);
    }

    /**
     * SIGKILL to it and to every process under it (a program's children), then waits until it
     * is gone or a zombie, and its descendants are gone (reaped: their pids are free again).
     */
    public void kill9() {
        List<Integer> descendants = ProcessHandle.of(pid).stream().flatMap(ProcessHandle::descendants)
                .map(p -> (int) p.pid()).toList();
        int errno = Processes.kill(pid, SIGKILL);
        if (errno != 0 && errno != Processes.ESRCH) {
            throw new IllegalStateException("kill(" + pid + ", SIGKILL) failed with errno " + errno);
        }
        descendants.forEach(d -> Processes.kill(d, SIGKILL));
        awaitExit(EXIT_TIMEOUT);
        descendants.forEach(d -> awaitReaped(d, EXIT_TIMEOUT));
    }

    /** Waits until the process is gone and reaped: its pid is free again. */
    public void awaitReaped(Duration timeout) {
        awaitReaped(pid, timeout);
    }

    private void awaitReaped(int process, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Backoff backoff = new Backoff();
        while (Processes.parent(process).isPresent()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("pid " + process + " is not reaped after " + timeout + tail());
            }
            backoff.pause();
        }
    }

    /** Waits until the process is gone or a zombie. */
    public void awaitExit(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Backoff backoff = new Backoff();
        while (isAlive()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("pid " + pid + " still runs after " + timeout + tail());
            }
            backoff.pause();
        }
    }

    /** Kills the process if it still runs. */
    @Override
    public void close() {
        if (isAlive()) {
            kill9();
        }
    }

    @Override
    public String toString() {
        return "pid " + pid + " (stdout " + stdout + ")";
    }

    private String tail() {
        StringBuilder text = new StringBuilder("\n--- last lines of " + stdout + " from byte " + fromByte + ":\n");
        lastLines(lines()).forEach(l -> text.append(l).append('\n'));
        stderr.ifPresent(err -> {
            text.append("--- last lines of ").append(err).append(":\n");
            lastLines(completeLines(err, 0)).forEach(l -> text.append(l).append('\n'));
        });
        return text.toString();
    }

    private static List<String> lastLines(List<String> lines) {
        return lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size());
    }

    private static List<String> completeLines(Path file, long fromByte) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        int from = (int) Math.min(fromByte, bytes.length);
        String[] lines = new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8).split("\n", -1);
        // The last piece follows the last newline: it is empty or a line still being written.
        return Arrays.asList(lines).subList(0, lines.length - 1);
    }

    /** The one acceptable poll: a file another process writes. Short, then up to 50 ms. */
    private static final class Backoff {
        private long millis = 2;

        void pause() {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for a test program", e);
            }
            millis = Math.min(50, millis * 2);
        }
    }
}
