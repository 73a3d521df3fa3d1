package io.hotclone.jmh;

import io.hotclone.process.launch.HeldStart;
import io.hotclone.bindings.CallState;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.capture.Checkpointer;
import io.hotclone.journal.Journal;
import io.hotclone.restore.Restorer;
import io.hotclone.testkit.Program;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.hotclone.bindings.linux.Signal.SIGKILL;

/**
 * A restore of one full checkpoint of memstate of {@code rssMib} MiB, from a journal written
 * once (its files in the page cache), as {@code hotclone restore} does it: time per restore.
 * The journal is opened afresh for each restore (untimed), as a restoring process finds it, so
 * its mapping is cold. Each restored process is killed after its restore; one more, restored
 * at the end of the trial, must pass the program's own state check.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 10)
@Fork(1)
public class RestoreBenchmark {
    @Param({"64", "1024"})
    public int rssMib;

    private Memstate program;
    private Path journalDir;
    private Journal journal;
    private Restorer.Result result;

    @Setup(Level.Trial)
    public void checkpointProgram() {
        program = Memstate.start(rssMib);
        journalDir = program.dir().resolve("journal");
        try (Journal written = Journal.create(journalDir)) {
            new Checkpointer(program.pid(), written, true).checkpoint();
        }
    }

    @Setup(Level.Invocation)
    public void openJournal() {
        journal = Journal.open(journalDir);
    }

    @Benchmark
    public Restorer.Result restore() {
        result = new Restorer(journal, -1, HeldStart.Lifetime.FREE).restore();
        return result;
    }

    @TearDown(Level.Invocation)
    public void killRestored() {
        journal.close();
        boolean ran = program.adopt(result.pid()).isAlive();
        killAndReap(result.pid());
        if (!ran) {
            throw new IllegalStateException("the restored process " + result.pid() + " died by itself: "
                    + "the restore is broken, so its time means nothing");
        }
        System.out.printf("%n  restore: %d MiB of pages in %.1f ms: %.2f GB/s%n", result.pages() >> 8,
                result.durationMicros() / 1e3, result.pages() * 4096 / (result.durationMicros() * 1e3));
    }

    @TearDown(Level.Trial)
    public void checkRestoredAndClean() {
        try (Journal last = Journal.open(journalDir)) {
            int pid = new Restorer(last, -1, HeldStart.Lifetime.FREE).restore().pid();
            try {
                program.assertPasses(program.adopt(pid));
            } finally {
                killAndReap(pid);
            }
        } finally {
            program.close();
        }
    }

    /** A restored process is this JVM's child (not ProcessBuilder's): reap it, or it stays a zombie. */
    private static void killAndReap(int pid) {
        try (CallState state = new CallState(); Arena arena = Arena.ofConfined()) {
            state.check(Libc.kill(state.segment(), pid, SIGKILL), "kill(" + pid + ", SIGKILL)");
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            state.check(Libc.waitpid(state.segment(), pid, status, 0), "waitpid(" + pid + ")");
        }
    }
}
