package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * What cannot work is refused with a message naming the problem and a non-zero exit, and leaves
 * nothing that could be taken for a valid checkpoint, nor a half-restored process.
 */
class CheckpointRestoreRefusalTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aMissingProcessIsNamedAndNoJournalIsCreated() throws Exception {
        Path journal = dir.resolve("journal");
        HotcloneCli.Run run = HotcloneCli.run(dir, "checkpoint", "--pid", "999999999", "--journal", journal.toString());
        assertEquals(1, run.exitCode(), run.toString());
        assertTrue(run.err().contains("process 999999999 does not exist"), run.toString());
        assertFalse(Files.exists(journal), "no journal may be created for a process that does not exist");
    }

    @Test
    void aJournalThatCannotBeWrittenIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        try (Program program = counter()) {
            Path journal = file.resolve("journal");
            HotcloneCli.Run run = HotcloneCli.run(dir, "checkpoint", "--pid", Integer.toString(program.pid()),
                    "--journal", journal.toString());
            assertEquals(1, run.exitCode(), run.toString());
            assertTrue(run.err().contains(journal.toString()), run.toString());
            assertTrue(program.isAlive(), "a refused checkpoint must leave the program running");
        }
    }

    @Test
    void anEmptyOrMissingJournalIsNamedOnRestore() throws Exception {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        HotcloneCli.Run run = HotcloneCli.run(dir, "restore", "--journal", empty.toString(), "--detach");
        assertEquals(1, run.exitCode(), run.toString());
        assertTrue(run.err().contains(empty.toString()), run.toString());
        HotcloneCli.Run missing = HotcloneCli.run(dir, "restore", "--journal", dir.resolve("nothing").toString());
        assertEquals(1, missing.exitCode(), missing.toString());
        assertTrue(missing.err().contains(dir.resolve("nothing").toString()), missing.toString());
    }

    /**
     * A Python program that sets up one resource hotclone cannot checkpoint yet, then waits; and
     * the words the refusal must name it with. A child it forks dies with it (PR_SET_PDEATHSIG).
     */
    /** A listening Unix socket (abstract name) and a client connected to it, not accepted. */
    private static final String UNIX_LISTENER = "import socket\nl = socket.socket(socket.AF_UNIX)\n"
            + "l.bind('\\0hc-wait-' + str(os.getpid()))\nl.listen()\nc = socket.socket(socket.AF_UNIX)\n"
            + "c.connect(l.getsockname())";

    static Stream<Arguments> unsupportedResources() {
        return Stream.of(
                Arguments.of("pipe with one end", "r, w = os.pipe()\nos.close(w)",
                        "fd \\d+ of process \\d+ is the read end of a pipe \\(pipe:\\[\\d+\\]\\) whose write end no process of"
                                + " the program holds"),
                Arguments.of("pipe in packet mode", "r, w = os.pipe2(os.O_DIRECT)",
                        "fd \\d+ is the (read|write) end of a pipe \\(pipe:\\[\\d+\\]\\) with open flags 04000[01]"),
                Arguments.of("netlink socket", "import socket\ns = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)",
                        "fd \\d+ is a socket"),
                Arguments.of("TCP connection", "import socket\nl = socket.create_server(('127.0.0.1', 0))\n"
                        + "c = socket.create_connection(l.getsockname())\na, _ = l.accept()",
                        "fd \\d+ is a TCP socket \\(127.0.0.1:\\d+ to 127.0.0.1:\\d+\\), a TCP connection"),
                Arguments.of("unix socket not accepted yet", UNIX_LISTENER,
                        "fd \\d+ is a Unix stream socket \\(socket:\\[\\d+\\]\\) connected to a socket that has no"
                                + " descriptor \\(a connection a listening socket has not accepted yet"),
                Arguments.of("unix socket accepted", UNIX_LISTENER + "\na, _ = l.accept()",
                        "fd \\d+ is a Unix stream socket \\(socket:\\[\\d+\\]\\) bound to @hc-wait-\\d+ and connected"),
                Arguments.of("eventfd with O_APPEND", "import fcntl\ne = os.eventfd(3)\nfcntl.fcntl(e, fcntl.F_SETFL, os.O_APPEND)",
                        "fd \\d+ is an eventfd with open flags 02002"),
                Arguments.of("epoll watching a file its fd no longer is", "import select\nr = os.eventfd(0)\n"
                        + "e = select.epoll()\ne.register(r)\nd = os.dup(r)\nos.close(r)",
                        "fd \\d+ is an epoll watching a file that fd \\d+ no longer is"),
                Arguments.of("io_uring", "import ctypes\nparams = ctypes.create_string_buffer(120)\n"
                        + "ring = ctypes.CDLL(None).syscall(425, 8, params)\nassert ring >= 0",
                        "fd \\d+ is an anonymous-inode file \\(\\[io_uring\\]\\)"),
                Arguments.of("userfaultfd of its own", "import ctypes\nuffd = ctypes.CDLL(None).syscall(323, 0)\n"
                        + "assert uffd >= 0", "fd \\d+ is an anonymous-inode file \\(\\[userfaultfd\\]\\)"),
                Arguments.of("terminal of its own", "m, s = os.openpty()", "fd \\d+ is a terminal \\(/dev/"),
                Arguments.of("memfd", "m = os.memfd_create('hc')", "fd \\d+ is a deleted file \\(/memfd:hc"),
                Arguments.of("deleted file", "f = open('gone', 'w')\nos.unlink('gone')", "fd \\d+ is a deleted file \\(.*/gone \\(deleted\\)"),
                Arguments.of("anonymous memory two children share, their parent unmapped", "import mmap\n"
                        + "m = mmap.mmap(-1, 4096)\nfor _ in range(2):\n    if os.fork() == 0:\n        time.sleep(600)\n"
                        + "m.close()",
                        "share anonymous memory \\(MAP_SHARED \\| MAP_ANONYMOUS\\) that process \\d+ did not inherit"
                                + " over fork where its parent still maps it"),
                Arguments.of("a group whose leader is a zombie", "r, w = os.pipe()\nleader = os.fork()\n"
                        + "if leader == 0:\n    os.read(r, 1)\n    os._exit(0)\nos.setpgid(leader, leader)\n"
                        + "member = os.fork()\nif member == 0:\n    time.sleep(600)\nos.setpgid(member, leader)\n"
                        + "os.write(w, b'x')\nos.waitid(os.P_PID, leader, os.WEXITED | os.WNOWAIT)",
                        "is in process group \\d+, whose leader is gone or comes after it"),
                Arguments.of("System V shared memory", "import ctypes\nlibc = ctypes.CDLL(None)\n"
                        + "libc.shmat.restype = ctypes.c_void_p\nid = libc.shmget(0, 4096, 0o1600)\n"
                        + "libc.shmat(id, None, 0)\nlibc.shmctl(id, 0, None)",
                        "is System V shared memory segment \\d+ \\(key 0x00000000\\) of the node's IPC namespace"),
                Arguments.of("System V IPC in a namespace hotclone did not make", "import ctypes\nlibc = ctypes.CDLL(None)\n"
                        + "assert libc.unshare(0x08000000) == 0\nassert libc.semget(0, 2, 0o1600) >= 0",
                        "its IPC namespace holds the System V semaphore set 0 \\(key 0x00000000, 2 semaphores\\), which"
                                + " a restore makes again only for a program hotclone started"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unsupportedResources")
    void anUnsupportedResourceIsNamedAndTheJournalHoldsNoCheckpoint(String what, String setUp, String named)
            throws Exception {
        try (Program program = Program.start(dir, TestPrograms.python().toString(), "-c", script(setUp))) {
            program.awaitTick(1, WAIT);
            assertRefused(what, program, program.pid(), named);
        }
    }

    /**
     * What is refused even of a program in namespaces of its own, pid 1 there, as hotclone run
     * starts one (here unshare(1) starts it so).
     */
    static Stream<Arguments> unsupportedInNamespacesOfItsOwn() {
        String libc = "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.shmat.restype = ctypes.c_void_p\n";
        return Stream.of(
                Arguments.of("System V segment attached in part", libc + "id = libc.shmget(0, 3 * 4096, 0o1600)\n"
                        + "a = libc.shmat(id, None, 0)\nassert libc.munmap(ctypes.c_void_p(a + 4096), 4096) == 0",
                        "maps only part of the System V shared memory segment 0 \\(key 0x00000000, 12288 bytes\\)"),
                Arguments.of("System V segment larger than a checkpoint carries", libc
                        + "assert libc.shmget(0, 9 << 20, 0o1600) >= 0", "System V shared memory segment 0 \\(key"
                        + " 0x00000000, 9437184 bytes\\) is larger than the 8 MiB a checkpoint carries"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unsupportedInNamespacesOfItsOwn")
    void anUnsupportedResourceOfAProgramInNamespacesOfItsOwnIsNamed(String what, String setUp, String named)
            throws Exception {
        try (Program unshare = Program.start(dir, "unshare", "--pid", "--ipc", "--fork", TestPrograms.python().toString(),
                "-c", script(setUp))) {
            unshare.awaitTick(1, WAIT);
            ProcessHandle program = ProcessHandle.of(unshare.pid()).orElseThrow().children().findFirst().orElseThrow();
            assertRefused(what, unshare, (int) program.pid(), named);
        }
    }

    private static String script(String setUp) {
        return "import os, time\n" + setUp + "\nprint('tick 1', flush=True)\ntime.sleep(600)\n";
    }

    /** Asserts that a checkpoint of {@code pid} is refused naming {@code named}, and leaves it and nothing else. */
    private void assertRefused(String what, Program program, int pid, String named) throws Exception {
        Path journal = dir.resolve("journal");
        HotcloneCli.Run run = HotcloneCli.run(dir, "checkpoint", "--pid", Integer.toString(pid), "--journal",
                journal.toString());
        assertEquals(1, run.exitCode(), what + ": " + run);
        assertTrue(Pattern.compile(named).matcher(run.err()).find(), what + " must be named: " + run);
        assertTrue(program.isAlive(), "a refused checkpoint must leave the program running");
        HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
        assertEquals(1, restore.exitCode(), "a refused checkpoint must leave nothing to restore: " + restore);
    }

    @Test
    void aCorruptedPageIsNamedOnRestoreAndNoProcessIsLeft() throws Exception {
        Path journal = dir.resolve("journal");
        Path binary = TestPrograms.compile("counter");
        try (Program program = counter()) {
            HotcloneCli.Run checkpoint = HotcloneCli.run(dir, "checkpoint", "--pid", Integer.toString(program.pid()),
                    "--journal", journal.toString(), "--kill");
            assertEquals(0, checkpoint.exitCode(), checkpoint.toString());
        }
        flipFirstCopyOfCountersHeapPattern(journal);
        HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
        assertEquals(1, restore.exitCode(), restore.toString());
        assertTrue(restore.err().toLowerCase().contains("crc"), restore.toString());
        assertFalse(restore.out().contains("pid "), "no pid may be reported for a failed restore: " + restore);
        List<ProcessHandle> left = ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.equals(binary.toString())).orElse(false)).toList();
        assertTrue(left.isEmpty(), "a failed restore must leave no process behind: " + left);
    }

    private Program counter() {
        Program program = Program.start(dir, TestPrograms.compile("counter").toString(), "--verify-file",
                dir.resolve("verify").toString());
        program.awaitTick(2, WAIT);
        return program;
    }

    /** counter.c fills its heap block with sc_pattern(i, 0); flips one bit of word 0 in the journal. */
    private static void flipFirstCopyOfCountersHeapPattern(Path journal) throws Exception {
        long x = 0xD1B54A32D192ED03L;
        x ^= x >>> 31;
        x *= 0xBF58476D1CE4E5B9L;
        x ^= x >>> 29;
        List<Path> files;
        try (var stream = Files.list(journal)) {
            files = stream.filter(p -> p.toString().endsWith(".cq4")).toList();
        }
        for (Path file : files) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                var map = channel.map(FileChannel.MapMode.READ_WRITE, 0, channel.size()).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i + 8 <= map.limit(); i++) {
                    if (map.getLong(i) == x) {
                        map.put(i, (byte) (map.get(i) ^ 1));
                        return;
                    }
                }
            }
        }
        throw new AssertionError("counter's heap pattern is not in the journal's files " + files);
    }
}
