package io.hotclone.jmh;

import io.hotclone.capture.dirty.Tracking;
import io.hotclone.capture.Chain;
import io.hotclone.capture.Checkpointer;
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
 * The freeze of a full checkpoint of a protected program vs its size: its pages read from a
 * copy-on-write copy after the freeze ({@code capture=copy}: the freeze is the barrier, the
 * metadata and a fork, whose page-table copy grows with the RSS) or under it
 * ({@code capture=streamed}). The program is hotset (private memory only, rewriting a 1 MiB hot
 * set), started as this JVM's child as {@code hotclone run} starts one. Time per op is the whole
 * checkpoint; the secondary result freezeMicros is what the program felt.
 *
 * <p>{@code jmh/run FullCheckpointFreezeBenchmark -p rssMib=256,1024 -p thp=0,1}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 8)
@Fork(1)
public class FullCheckpointFreezeBenchmark {
    @Param({"64", "256", "1024"})
    public int rssMib;

    @Param({"copy", "streamed"})
    public String capture;

    /** 1: the heap is backed by transparent huge pages (fewer page-table entries for a fork to copy). */
    @Param({"0", "1"})
    public int thp;

    private Path dir;
    private int pid;
    private Journal journal;


    @Setup(Level.Trial)
    public void startProgram() throws IOException {
        dir = Files.createTempDirectory("hotclone-jmh-freeze-");
        pid = Hotset.start(dir, List.of("--heap-mib", Integer.toString(rssMib), "--hot-mib", "1", "--hot-percent", "100",
                "--thp", Integer.toString(thp)));
    }

    @Setup(Level.Invocation)
    public void createJournal() {
        journal = Journal.create(dir.resolve("journal"));
    }

    @Benchmark
    public Checkpointer.Result checkpoint(Freeze freeze) {
        Checkpointer.Result r;
        if (capture.equals("copy")) {
            try (Chain chain = new Chain(0, Tracking.NONE)) {
                r = new Checkpointer(pid, journal, chain).checkpoint();
            }
            if (!r.copyOnWrite()) {
                throw new IllegalStateException("the checkpoint was not read from a copy: " + r);
            }
        } else {
            r = new Checkpointer(pid, journal, false).checkpoint();
        }
        freeze.freezeMicros = r.freezeMicros();
        return r;
    }

    @TearDown(Level.Invocation)
    public void deleteJournal() {
        journal.close();
        Memstate.deleteTree(dir.resolve("journal"));
    }

    @TearDown(Level.Trial)
    public void stopProgram() {
        Hotset.stop(pid);
        Memstate.deleteTree(dir);
    }
}
