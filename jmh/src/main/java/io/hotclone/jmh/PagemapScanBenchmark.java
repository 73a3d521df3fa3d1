package io.hotclone.jmh;

import io.hotclone.capture.dirty.DirtySet;
import io.hotclone.capture.dirty.UffdWpTracker;
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

import java.util.concurrent.TimeUnit;

/**
 * What a collect costs at the barrier: one PAGEMAP_SCAN walk that returns the written pages and
 * protects them again, by area size and by the fraction of its pages written (spread evenly, so
 * every written page is a range of its own: the worst case). "populated" false leaves the area
 * untouched but for the written pages, as a reservation the program grows into.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PagemapScanBenchmark {
    @Param({"16", "256", "1024"})
    public int areaMiB;

    @Param({"0", "0.01", "0.1", "1"})
    public double dirtyFraction;

    @Param({"true", "false"})
    public boolean populated;

    private OwnArea area;
    private UffdWpTracker tracker;

    @Setup(Level.Trial)
    public void map() {
        area = new OwnArea((long) areaMiB << 20, false);
        if (populated) {
            area.write(0, 1);
        }
        tracker = area.track();
    }

    @Setup(Level.Iteration)
    public void dirty() {
        if (dirtyFraction > 0) {
            area.write(0, Math.round(1 / dirtyFraction));
        }
    }

    @Benchmark
    public DirtySet collect() {
        DirtySet set = tracker.collect();
        tracker.commit(set);
        return set;
    }

    @TearDown(Level.Trial)
    public void unmap() {
        tracker.close();
        area.close();
    }
}
