package io.hotclone.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The C test programs that take only --verify-file: each passes its check, and fails it per corruption. */
class SmallProgramsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private Program start(String program, String... extra) {
        List<String> command = new ArrayList<>(List.of(
                TestPrograms.compile(program).toString(), "--verify-file", dir.resolve("verify").toString()));
        command.addAll(List.of(extra));
        return Program.start(dir, command);
    }

    @ParameterizedTest
    @ValueSource(strings = {"counter", "mapchurn", "kernelwrites", "eventfds", "epolls", "threads", "threadchurn", "pipes",
            "timers", "names", "sockets", "inet", "tree", "forkchurn", "sharedanon", "zombies", "sysvipc", "fifos",
            "inotify"})
    void passesItsSelfCheckAfterTicking(String program) {
        try (Program p = start(program)) {
            p.awaitTick(3, TIMEOUT);
            Verify.assertPasses(p, dir.resolve("verify"), TIMEOUT);
            assertFalse(p.isAlive());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dontfork", "wipeonfork"})
    void counterPassesWithItsBlockInAMappingAForkLeavesOutOrEmpties(String advice) {
        try (Program p = start("counter", "--fork-advice", advice)) {
            p.awaitTick(2, TIMEOUT);
            Verify.assertPasses(p, dir.resolve("verify"), TIMEOUT);
        }
    }

    @Test
    void treePassesWithAPipeForTheHopBackToTheParent() {
        try (Program p = start("tree", "--pipes-only")) {
            p.awaitTick(3, TIMEOUT);
            Verify.assertPasses(p, dir.resolve("verify"), TIMEOUT);
            assertFalse(p.isAlive());
        }
    }

    @Test
    void treeChildrenDieWithTheirParent() {
        try (Program p = start("tree")) {
            p.awaitTick(2, TIMEOUT);
            List<ProcessHandle> children = ProcessHandle.of(p.pid()).orElseThrow().children().toList();
            assertEquals(2, children.size(), children.toString());
            p.kill9();
            for (ProcessHandle child : children) {
                Program.adopt((int) child.pid(), p.stdout()).awaitExit(TIMEOUT);
            }
        }
    }

    @Test
    void execselfPassesItsSelfCheckAsTheProgramItRan() throws IOException {
        try (Program p = start("execself", "--exec-file", dir.resolve("exec").toString())) {
            p.awaitTick(2, TIMEOUT);
            Files.createFile(dir.resolve("exec"));
            p.awaitLine(Pattern.compile("ready pid=\\d+ generation=1"), TIMEOUT);
            p.awaitTick(4, TIMEOUT);
            Verify.assertPasses(p, dir.resolve("verify"), TIMEOUT);
            assertTrue(p.lines().contains("generation 1"), "the check was generation 1's: " + p.lines());
        }
    }

    @ParameterizedTest
    @CsvSource({"execself, heap", "execself, counter", "counter, heap", "counter, counter", "mapchurn, region", "mapchurn, heap", "mapchurn, flip",
            "kernelwrites, read", "kernelwrites, child", "kernelwrites, stat", "kernelwrites, signal",
            "eventfds, count", "eventfds, cloexec", "eventfds, semaphore", "eventfds, nonblock",
            "threads, order", "threads, sum", "threads, tid", "threads, name", "threads, sigmask", "threads, tls",
            "threads, robust", "threads, altstack", "threads, join", "threads, sleep", "threads, wait", "threads, read",
            "threadchurn, join", "threadchurn, sum", "epolls, data", "epolls, events", "epolls, list", "epolls, cloexec",
            "pipes, data", "pipes, capacity", "pipes, flags", "pipes, dup", "timers, interval", "timers, remaining",
            "timers, clock", "timers, ticks", "timers, mask", "timers, signal", "timers, flags",
            "names, hostname", "names, domainname",
            "sockets, stream", "sockets, datagrams", "sockets, shutdown", "sockets, listen", "sockets, flags",
            "inet, port", "inet, options", "inet, udp", "inet, flags",
            "tree, token", "tree, pid", "tree, ppid", "tree, pdeathsig", "tree, log", "tree, tid", "tree, ring",
            "forkchurn, value", "forkchurn, status", "forkchurn, pid", "forkchurn, longlived",
            "sharedanon, shared", "sharedanon, contents", "sharedanon, children",
            "zombies, status", "zombies, pid", "zombies, group", "zombies, sigchld",
            "sysvipc, ids", "sysvipc, shm", "sysvipc, detached", "sysvipc, dest", "sysvipc, sem", "sysvipc, msg",
            "sysvipc, perms", "fifos, data", "fifos, child", "fifos, flags", "fifos, capacity", "fifos, path",
            "inotify, wd", "inotify, mask", "inotify, stray", "inotify, flags"})
    void failsItsSelfCheckWhenItsStateIsCorrupted(String program, String kind) {
        try (Program p = start(program, "--self-test-corrupt", kind)) {
            p.awaitTick(2, TIMEOUT);
            List<String> failures = Verify.failures(p, dir.resolve("verify"), TIMEOUT);
            assertEquals(1, failures.size(), failures.toString());
            assertTrue(failures.getFirst().startsWith(kind + ":"), failures.getFirst());
        }
    }
}
