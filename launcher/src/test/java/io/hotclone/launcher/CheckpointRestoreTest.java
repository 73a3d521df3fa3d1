package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The user's cycle, through the real command: a running program is checkpointed and keeps
 * running, is killed, and {@code hotclone restore --detach} brings it back from the journal
 * in a new process that continues from the checkpointed state and passes its own check.
 */
class CheckpointRestoreTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern PID = Pattern.compile("(?m)^pid (\\d+)$");

    @TempDir
    Path dir;

    @Test
    void memstateContinuesFromItsCheckpointWithHeapTlsHandlerMaskAndFilesIntact() throws Exception {
        Path verify = dir.resolve("verify");
        List<String> command = List.of(TestPrograms.compile("memstate").toString(), "--verify-file", verify.toString(),
                "--log", dir.resolve("log").toString(), "--data", dir.resolve("data").toString(), "--heap-mib", "64");
        cycle(command, verify, true);
    }

    @Test
    void python3StatefulScriptContinuesFromItsCheckpoint() throws Exception {
        Path verify = dir.resolve("verify");
        List<String> command = List.of(TestPrograms.python().toString(), TestPrograms.source("stateful.py").toString(),
                "--verify-file", verify.toString());
        cycle(command, verify, false);
    }

    /**
     * A self-checking program per kind of kernel state a descriptor holds: eventfds (counts,
     * semaphore mode, flags), epolls (interest list, data, triggers), pipes (queued bytes,
     * capacity, flags, a dup), timerfds and a signalfd (clocks, time left, expirations, mask),
     * Unix sockets (queues, shutdowns, names), TCP listeners and UDP sockets (ports, options).
     */
    @ParameterizedTest
    @ValueSource(strings = {"eventfds", "epolls", "pipes", "timers", "sockets", "inet", "tree"})
    void aProgramContinuesFromTheCheckpointWithItsDescriptorsState(String program) throws Exception {
        Path verify = dir.resolve("verify");
        cycle(List.of(TestPrograms.compile(program).toString(), "--verify-file", verify.toString()), verify, false);
    }

    /** The server is idle at the checkpoint: it holds its listening socket and no connection. */
    @Test
    void aCpythonHttpServerServesTheCountItHadAtTheCheckpointOnItsPort() throws Exception {
        Path journal = dir.resolve("journal");
        try (Program original = Program.start(dir, TestPrograms.python().toString(),
                TestPrograms.source("httpcounter.py").toString())) {
            Matcher ready = Pattern.compile("ready port=(\\d+)").matcher(original.awaitLine(Pattern.compile("ready port=\\d+"),
                    WAIT));
            assertTrue(ready.find());
            URI uri = URI.create("http://127.0.0.1:" + ready.group(1) + "/");
            try (HttpClient http = HttpClient.newHttpClient()) {
                for (int i = 1; i <= 3; i++) {
                    assertEquals(Integer.toString(i), get(http, uri));
                }
                HotcloneCli.Run checkpoint = HotcloneCli.run(dir, "checkpoint", "--pid", Integer.toString(original.pid()),
                        "--journal", journal.toString());
                assertEquals(0, checkpoint.exitCode(), checkpoint.toString());
                assertEquals("4", get(http, uri), "the original serves on after its checkpoint");
                original.kill9();
                HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
                assertEquals(0, restore.exitCode(), restore.toString());
                Matcher pid = PID.matcher(restore.out());
                assertTrue(pid.find(), restore.toString());
                try (Program restored = Program.adopt(Integer.parseInt(pid.group(1)), original.stdout())) {
                    assertEquals("4", get(http, uri), "the restored server counts on from the checkpoint, on its port");
                    assertEquals("5", get(http, uri));
                    assertTrue(restored.isAlive());
                }
            }
        }
    }

    /**
     * A program reads a FIFO whose writer is outside it: what that writer queued before the
     * checkpoint is there after the restore, and a writer that opens the FIFO again by its name
     * reaches the restored reader.
     */
    @Test
    void aFifoKeepsWhatAnOutsideWriterQueuedAndTheRestoredReaderGetsWhatComesNext() throws Exception {
        Path journal = dir.resolve("journal");
        Path fifo = dir.resolve("fifo");
        Path go = dir.resolve("go");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        String script = "import os, time\nfd = os.open('" + fifo + "', os.O_RDONLY | os.O_NONBLOCK)\n"
                + "print('tick 1', flush=True)\ngot = b''\nwhile True:\n"
                + "    if os.path.exists('" + go + "'):\n"
                + "        try:\n            got += os.read(fd, 100)\n        except BlockingIOError:\n            pass\n"
                + "        print('got ' + got.decode(), flush=True)\n"
                + "    time.sleep(0.05)\n";
        try (Program original = Program.start(dir, TestPrograms.python().toString(), "-c", script)) {
            original.awaitTick(1, WAIT);
            Files.write(fifo, "queued".getBytes(StandardCharsets.US_ASCII)); // opens it for writing, writes, closes
            HotcloneCli.Run checkpoint = HotcloneCli.run(dir, "checkpoint", "--pid", Integer.toString(original.pid()),
                    "--journal", journal.toString(), "--kill");
            assertEquals(0, checkpoint.exitCode(), checkpoint.toString());
            original.awaitReaped(WAIT);
            HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
            assertEquals(0, restore.exitCode(), restore.toString());
            Matcher pid = PID.matcher(restore.out());
            assertTrue(pid.find(), restore.toString());
            try (Program restored = Program.adopt(Integer.parseInt(pid.group(1)), original.stdout())) {
                Files.write(fifo, "-after".getBytes(StandardCharsets.US_ASCII));
                Files.createFile(go);
                restored.awaitLine(Pattern.compile("got queued-after"), WAIT);
            }
        }
    }

    private static String get(HttpClient http, URI uri) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(WAIT).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString()).body().strip();
    }

    private void cycle(List<String> command, Path verify, boolean sendsUsr1) throws Exception {
        Path journal = dir.resolve("journal");
        try (Program original = Program.start(dir, command)) {
            original.awaitTick(3, WAIT);
            HotcloneCli.Run checkpoint = HotcloneCli.run(dir, "checkpoint", "--pid", Integer.toString(original.pid()),
                    "--journal", journal.toString());
            assertEquals(0, checkpoint.exitCode(), checkpoint.toString());
            assertTrue(checkpoint.out().startsWith("checkpoint seq=1 "), checkpoint.toString());
            long ticksAfterCheckpoint = original.awaitTick(original.lastTick() + 2, WAIT);
            assertTrue(original.isAlive(), "the checkpointed program must keep running");
            original.kill9();
            original.awaitReaped(WAIT); // a program outside namespaces of its own is restored with the same pids
            long outputBeforeRestore = original.stdoutSize();

            HotcloneCli.Run restore = HotcloneCli.run(dir, "restore", "--journal", journal.toString(), "--detach");
            assertEquals(0, restore.exitCode(), restore.toString());
            Matcher pid = PID.matcher(restore.out());
            assertTrue(pid.find(), restore.toString());
            try (Program restored = Program.adopt(Integer.parseInt(pid.group(1)), original.stdout(), outputBeforeRestore)) {
                long firstTick = restored.awaitTick(1, WAIT);
                assertTrue(firstTick > 3 && firstTick < ticksAfterCheckpoint,
                        "the restored program must continue from the checkpoint (after tick 3, before tick "
                                + ticksAfterCheckpoint + " which came after it), not from its start: first tick "
                                + firstTick);
                restored.awaitTick(firstTick + 2, WAIT);
                if (sendsUsr1) {
                    restored.signal(Program.SIGUSR1);
                }
                Verify.assertPasses(restored, verify, WAIT);
            }
        }
    }
}
