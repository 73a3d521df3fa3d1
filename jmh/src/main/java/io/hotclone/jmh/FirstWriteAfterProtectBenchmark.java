package io.hotclone.jmh;

import io.hotclone.capture.dirty.UffdWpTracker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What dirty tracking costs the program: the first write to a page after each checkpoint.
 * Before every invocation the memory is given back and touched again (so huge pages are huge
 * again), then protected by a collect; the invocation writes one byte per page. "none" is the
 * same write with no protection.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class FirstWriteAfterProtectBenchmark {
    private static final int PAGES = 4096;
    private static final int PAGES_PER_HUGE = 512;

    @Param({"none", "uffd-wp"})
    public String protection;

    @Param({"4k", "thp"})
    public String backing;

    private OwnArea area;
    private UffdWpTracker tracker;

    @Setup(Level.Trial)
    public void map() {
        area = new OwnArea((long) PAGES * OwnArea.PAGE, backing.equals("thp"));
        if (protection.equals("uffd-wp")) {
            tracker = area.track();
        }
    }

    @Setup(Level.Invocation)
    public void protect() {
        area.discard();
        area.write(0, 1);
        if (tracker != null) {
            tracker.commit(tracker.collect());
        }
    }

    /** Per page: a write-protect fault of its own, plus a split for the first page of a huge one. */
    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void everyPage() {
        area.write(0, 1);
    }

    /** Per 2 MiB: with huge pages, the write that splits one. */
    @Benchmark
    @OperationsPerInvocation(PAGES / PAGES_PER_HUGE)
    public void firstPageOfEach2MiB() {
        area.write(0, PAGES_PER_HUGE);
    }

    @TearDown(Level.Trial)
    public void unmap() {
        if (tracker != null) {
            tracker.close();
        }
        area.close();
    }
}
