package io.hotclone.launcher;

import io.hotclone.capture.Checkpointer;
import io.hotclone.journal.Journal;
import io.hotclone.restore.Restorer;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "demo",
        description = {
                "Show hotclone at work on this machine: protect, checkpoint, crash, restore.",
                "",
                "Starts a self-checking demo program (a 64 MiB heap it rewrites all the time, a TLS "
                        + "counter, a signal handler, a blocked signal, an append-only log, a file mapping ...), "
                        + "checkpoints it while it runs, kills it with SIGKILL, restores it from the journal in a "
                        + "new process, and shows that it carries on from the checkpoint and passes its own check "
                        + "of every piece of its state.",
                ""},
        mixinStandardHelpOptions = true)
final class DemoCommand implements Callable<Integer> {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Where to keep the demo's journal and files (default: a new temporary directory).")
    Path dir;

    @Option(names = "--heap-mib", paramLabel = "N", defaultValue = "64",
            description = "Heap of the demo program, in MiB (default: ${DEFAULT-VALUE}).")
    int heapMib;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws IOException {
        Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("hotclone-demo");
        Path verify = work.resolve("verify");
        Files.deleteIfExists(verify);
        out.println("hotclone demo, in " + work);
        Path binary = TestPrograms.compile("memstate", work);
        List<String> command = List.of(binary.toString(), "--verify-file", verify.toString(),
                "--log", work.resolve("memstate.log").toString(), "--data", work.resolve("memstate.data").toString(),
                "--heap-mib", Integer.toString(heapMib));
        try (Program program = Program.start(work, command)) {
            long tick = program.awaitTick(5, WAIT);
            out.printf("1. the program runs: pid %d, %d MiB heap, at tick %d%n", program.pid(), heapMib, tick);
            long beforeCheckpoint;
            Checkpointer.Result c;
            try (Journal journal = Journal.create(work.resolve("journal"))) {
                beforeCheckpoint = program.lastTick();
                c = new Checkpointer(program.pid(), journal, false).checkpoint();
            }
            out.printf("2. checkpoint seq=%d: %d pages (%.1f MiB), program frozen %.1f ms, %.1f ms in all%n",
                    c.seq(), c.pages(), c.pageBytes() / 1048576.0, c.freezeMicros() / 1000.0, c.durationMicros() / 1000.0);
            long crashTick = program.awaitTick(program.lastTick() + 3, WAIT);
            program.kill9();
            long outputBefore = program.stdoutSize();
            out.printf("3. crash: SIGKILL at tick %d; the program is gone%n", crashTick);
            Restorer.Result r;
            try (Journal journal = Journal.open(work.resolve("journal"))) {
                r = new Restorer(journal, -1).restore();
            }
            try (Program restored = Program.adopt(r.pid(), program.stdout(), outputBefore)) {
                out.printf("4. restored from checkpoint seq=%d as pid %d in %.1f ms%n", r.seq(), r.pid(),
                        r.durationMicros() / 1000.0);
                long resumed = restored.awaitTick(1, WAIT);
                out.printf("5. it carries on at tick %d, where the checkpoint left it (it began at tick %d),"
                        + " not at tick 1 nor at tick %d where it crashed%n", resumed, beforeCheckpoint, crashTick);
                restored.awaitTick(resumed + 2, WAIT);
                restored.signal(Program.SIGUSR1);
                Verify.assertPasses(restored, verify, WAIT);
                out.println("6. its own check of heap, TLS, handler, mask, files and mappings: PASS");
            }
        } catch (AssertionError e) {
            out.println("demo failed: " + e.getMessage());
            return 1;
        }
        out.println("done: the program survived its crash. See the journal with: hotclone journal ls "
                + work.resolve("journal"));
        return 0;
    }
}
