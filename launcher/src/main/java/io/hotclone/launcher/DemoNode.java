package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A hotclone node the demo starts: this same hotclone, run in a JVM of its own with a
 * subcommand, its stdout in DIR/NAME.out and its log in DIR/NAME.log.
 */
final class DemoNode {
    private final String name;
    private final Process process;
    private final Path stdout;
    private final Path log;

    private DemoNode(String name, Process process, Path stdout, Path log) {
        this.name = name;
        this.process = process;
        this.stdout = stdout;
        this.log = log;
    }

    static DemoNode start(Path dir, String name, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        Path stdout = dir.resolve(name + ".out");
        Path log = dir.resolve(name + ".log");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(stdout.toFile())
                    .redirectError(log.toFile())
                    .start();
            return new DemoNode(name, process, stdout, log);
        } catch (IOException e) {
            throw new HotcloneException("cannot start the demo's " + name + " node (" + e.getMessage() + ")", e);
        }
    }

    long pid() {
        return process.pid();
    }

    Path stdout() {
        return stdout;
    }

    /** Waits for a line of the node's log matching {@code line} and returns it. */
    String awaitLog(Pattern line, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean alive = process.isAlive();
            Optional<String> found = lines().stream().filter(l -> line.matcher(l).matches()).findFirst();
            if (found.isPresent()) {
                return found.get();
            }
            if (!alive || System.nanoTime() > deadline) {
                List<String> lines = lines();
                throw new HotcloneException("the " + name + " node " + (alive ? "did not log" : "ended without logging")
                        + " a line matching " + line + " within " + timeout + "; the end of " + log + ":\n  "
                        + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
            }
            pause();
        }
    }

    /** Whether the node's log has a line matching {@code line} already. */
    boolean logged(Pattern line) {
        return lines().stream().anyMatch(l -> line.matcher(l).matches());
    }

    private List<String> lines() {
        try {
            return Files.exists(log) ? Files.readAllLines(log) : List.of();
        } catch (IOException e) {
            throw new HotcloneException("cannot read " + log + ": " + e.getMessage(), e);
        }
    }

    /**
     * Kills the node's hotclone and everything it started at once, with SIGKILL, and returns
     * without waiting: the moment of the crash is now.
     */
    List<ProcessHandle> kill() {
        List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
        all.add(process.toHandle());
        all.forEach(ProcessHandle::destroyForcibly);
        return all;
    }

    /** Kills the node and waits until its processes are gone. */
    void stop() {
        kill().forEach(p -> p.onExit().join());
    }

    private static void pause() {
        try {
            Thread.sleep(10); // another process's log file: nothing to block on
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HotcloneException("interrupted");
        }
    }
}
