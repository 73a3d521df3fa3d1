package io.hotclone.jmh;

import io.hotclone.capture.Checkpointer;
import io.hotclone.image.CheckpointKind;
import io.hotclone.image.Commit;
import io.hotclone.image.ImageHeader;
import io.hotclone.journal.CheckpointImage;
import io.hotclone.journal.CheckpointWriter;
import io.hotclone.journal.Journal;
import io.hotclone.journal.JournalFormat;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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

/**
 * The journal's own append rate, without any capture: one checkpoint of {@code mib} MiB of
 * pages, in page records of {@code runKib} KiB, written and committed into a journal on disk
 * (the appender thread's whole work per checkpoint). The process and thread records are those
 * of a real checkpoint of a small program, taken once. Each invocation prints its rate.
 *
 * <p>{@code jmh/run JournalAppendBenchmark}. Incremental checkpoints write scattered runs of a
 * few pages ({@code runKib=4,64}), which the append ring gathers into records of up to 1024 runs
 * ({@code runsPerRecord=1024}); full ones write 8 MiB runs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgsAppend = "-XX:+UseSerialGC")
public class JournalAppendBenchmark {
    private static final int PAGE = 4096;

    @Param({"64", "256"})
    public int mib;

    /** Bytes per page record: 4 (single scattered pages), 64, or 8192 (the most a record holds). */
    @Param({"4", "64", "8192"})
    public int runKib;

    /** Runs gathered in one page record: 1 (a record each) or up to 1024, as the append ring gathers them. */
    @Param({"1", "1024"})
    public int runsPerRecord;

    private final Arena arena = Arena.ofShared();
    private MemorySegment pages;
    private CheckpointImage model;
    private Path dir;
    private Journal journal;
    private long seq;
    private long started;

    @Setup(Level.Trial)
    public void takeModel() throws IOException {
        pages = arena.allocate((long) mib << 20, PAGE);
        long[] noise = ThreadLocalRandom.current().longs(pages.byteSize() / Long.BYTES).toArray();
        MemorySegment.copy(MemorySegment.ofArray(noise), 0, pages, 0, pages.byteSize());
        try (Memstate program = Memstate.start(4)) {
            Path modelDir = program.dir().resolve("model");
            try (Journal j = Journal.create(modelDir)) {
                long s = new Checkpointer(program.pid(), j, false).checkpoint().seq();
                model = j.read(s);
            }
        }
        dir = Files.createTempDirectory("hotclone-jmh-append-");
    }

    @Setup(Level.Invocation)
    public void openJournal() {
        Memstate.deleteTree(dir);
        journal = Journal.create(dir);
        seq = journal.nextSeq();
        started = System.nanoTime();
    }

    @Benchmark
    public Commit append() {
        ImageHeader h = model.header();
        ImageHeader header = new ImageHeader(h.formatVersion(), seq, h.epoch(), CheckpointKind.FULL, -1,
                h.kernelRelease(), h.machine(), h.pageSize(), h.xfeatures(), h.xstateSize(), System.currentTimeMillis());
        long run = (long) runKib << 10;
        // Runs at addresses a run apart, as scattered pages of an incremental checkpoint would be.
        long address = 0x7f00_0000_0000L;
        try (CheckpointWriter w = journal.begin(header)) {
            w.process(model.process());
            model.threads().forEach(w::thread);
            if (runsPerRecord == 1) {
                for (long at = 0; at < pages.byteSize(); at += run) {
                    w.pages(address + 2 * at, pages.asSlice(at, run));
                }
            } else {
                int per = (int) Math.min(runsPerRecord, JournalFormat.MAX_RUN_BYTES / run);
                long[] addresses = new long[per];
                long[] lengths = new long[per];
                for (long at = 0; at < pages.byteSize(); at += per * run) {
                    int n = (int) Math.min(per, (pages.byteSize() - at) / run);
                    for (int i = 0; i < n; i++) {
                        addresses[i] = address + 2 * (at + i * run);
                        lengths[i] = run;
                    }
                    w.pages(addresses, lengths, n, pages.asSlice(at, n * run));
                }
            }
            Commit c = new Commit(seq, 0, pages.byteSize() / PAGE, pages.byteSize(), 0, 0, 0, 0);
            w.commit(c);
            return c;
        }
    }

    @TearDown(Level.Invocation)
    public void report() {
        long nanos = System.nanoTime() - started;
        journal.close();
        System.out.printf("%n  appended %d MiB in %d KiB runs, %d a record: %.0f MB/s%n", mib, runKib, runsPerRecord,
                pages.byteSize() * 1e3 / nanos);
    }

    @TearDown(Level.Trial)
    public void release() {
        Memstate.deleteTree(dir);
        arena.close();
    }
}
