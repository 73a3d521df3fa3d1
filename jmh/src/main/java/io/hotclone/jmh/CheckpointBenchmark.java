package io.hotclone.jmh;

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

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A full checkpoint of a running memstate of {@code rssMib} MiB into a fresh journal, as
 * {@code hotclone checkpoint} takes it: time per checkpoint. Each one prints its page bytes,
 * freeze and capture rate (page bytes / duration). The program runs on between checkpoints and
 * must pass its own state check at the end of the trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 10)
@Fork(1)
public class CheckpointBenchmark {
    @Param({"64", "1024"})
    public int rssMib;

    private Memstate program;
    private Path journalDir;
    private Journal journal;
    private Checkpointer.Result result;

    @Setup(Level.Trial)
    public void startProgram() {
        program = Memstate.start(rssMib);
        journalDir = program.dir().resolve("journal");
    }

    @Setup(Level.Invocation)
    public void createJournal() {
        journal = Journal.create(journalDir);
    }

    @Benchmark
    public Checkpointer.Result checkpoint() {
        result = new Checkpointer(program.pid(), journal, false).checkpoint();
        return result;
    }

    @TearDown(Level.Invocation)
    public void deleteJournal() {
        journal.close();
        Memstate.deleteTree(journalDir);
        System.out.printf("%n  checkpoint: %d MiB of pages in %.1f ms (freeze %.1f ms): %.2f GB/s%n",
                result.pageBytes() >> 20, result.durationMicros() / 1e3, result.freezeMicros() / 1e3,
                result.pageBytes() / (result.durationMicros() * 1e3));
    }

    @TearDown(Level.Trial)
    public void checkAndStopProgram() {
        try {
            program.assertPasses();
        } finally {
            program.close();
        }
    }
}
