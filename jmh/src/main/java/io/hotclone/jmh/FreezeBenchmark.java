package io.hotclone.jmh;

import io.hotclone.capture.Chain;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.journal.Journal;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The freeze of an incremental checkpoint (uffd dirty tracking, as {@code hotclone run} takes
 * them) by the program's thread count and process count: hotset with a 1 MiB hot set in a
 * 64 MiB heap, {@code threads - 1} threads waiting on a condition variable and
 * {@code processes - 1} children that let go of the heap and wait, so that what grows with the
 * count is hotclone's work per thread (stop, registers, xstate, masks, the injected calls,
 * /proc) or per process (its barrier, areas, fds, dirty tracker) and not the program's. Each op
 * is one checkpoint; the secondary result freezeMicros is what the program felt. The freeze per
 * extra thread is (freeze(64) - freeze(1)) / 63, per extra process (freeze(16) - freeze(1)) / 15.
 *
 * <p>{@code jmh/run FreezeBenchmark -p threads=1,8,64} and
 * {@code jmh/run FreezeBenchmark -p processes=1,4,16}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 20)
@Measurement(iterations = 40)
@Fork(1)
public class FreezeBenchmark {
    @Param({"1", "8", "64"})
    public int threads;

    @Param({"1"})
    public int processes;

    private Path dir;
    private int pid;
    private Journal journal;
    private Chain chain;


    @Setup(Level.Trial)
    public void startProgram() throws IOException {
        dir = Files.createTempDirectory("hotclone-jmh-freeze-");
        pid = Hotset.start(dir, List.of("--heap-mib", "64", "--hot-mib", "1", "--hot-percent", "100", "--threads",
                Integer.toString(threads), "--processes", Integer.toString(processes)));
        journal = Journal.create(dir.resolve("journal"));
        chain = new Chain(0, Tracking.UFFD);
        new Checkpointer(pid, journal, chain).checkpoint(); // the full one the incrementals build on
    }

    @Benchmark
    public Checkpointer.Result checkpoint(Freeze freeze) {
        Checkpointer.Result r = new Checkpointer(pid, journal, chain).checkpoint();
        if (r.threads() != threads + processes - 1 || r.processes() != processes) {
            throw new IllegalStateException("the checkpoint holds " + r.threads() + " threads in " + r.processes()
                    + " processes, not " + threads + " threads and " + (processes - 1) + " one-thread children");
        }
        freeze.freezeMicros = r.freezeMicros();
        return r;
    }

    @TearDown(Level.Trial)
    public void stopProgram() {
        chain.close();
        journal.close();
        Hotset.stop(pid);
        Memstate.deleteTree(dir);
    }
}
