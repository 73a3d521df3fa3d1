package io.hotclone.demo;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.launcher.Main;
import io.hotclone.testkit.Program;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A hotclone node the demo starts: this same hotclone, run in a JVM of its own with a
 * subcommand, its stdout in DIR/NAME.out and its log in DIR/NAME.log.
 */
final class DemoNode {
    private final Process process;
    private final Path stdout;
    private final Path log;

    private DemoNode(Process process, Path stdout, Path log) {
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
            return new DemoNode(process, stdout, log);
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

    /**
     * Waits for a line of the node's log matching {@code line} and returns it.
     *
     * @throws AssertionError after {@code timeout}, or once the node ended without it, with the log's tail
     */
    String awaitLog(Pattern line, Duration timeout) {
        return Program.adopt((int) process.pid(), log).awaitLine(line, timeout);
    }

    /** Whether the node's log has a line matching {@code line} already. */
    boolean logged(Pattern line) {
        return Program.adopt((int) process.pid(), log).lines().stream().anyMatch(l -> line.matcher(l).matches());
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
}
