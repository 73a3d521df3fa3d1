package io.hotclone.jmh;

import io.hotclone.capture.dirty.Tracking;
import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.ProtectedProgram;
import io.hotclone.process.launch.Spawn;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.journal.Journal;
import io.hotclone.replication.AckPolicy;
import io.hotclone.replication.ReplicaListener;
import io.hotclone.replication.ReplicaServer;
import io.hotclone.replication.Replication;
import io.hotclone.replication.ReplicationListener;
import io.hotclone.testkit.TestPrograms;
import org.openjdk.jmh.annotations.AuxCounters;
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
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a program keeps of its speed under {@code hotclone run}: hotset (a heap of
 * {@code heapMib} MiB written mostly in a hot set of {@code hotMib} MiB) runs {@code seconds}
 * seconds unprotected ({@code interval=0}) or checkpointed every {@code interval} ms, and
 * reports its own writes per second and longest stall. Secondary results: writesPerSecond,
 * maxStallMicros (the program's), checkpoints, and hotclone's freezes: freezeMeanMicros,
 * freezeMaxMicros, freezeP50/P90/P99Micros (every checkpoint but the first, taken during
 * hotset's setup).
 *
 * <p>{@code jmh/run ProtectedRunBenchmark}; the ratio of writesPerSecond with and without
 * protection is the throughput the program keeps. {@code -p standbys=0,1} measures the cost of
 * replication: the same run with every checkpoint shipped to a standby (secondary result
 * wireBytesPerCheckpoint). {@code -p tracking=UFFD,MPROTECT} compares the two ways of finding
 * written pages; {@code -p thp=0,1} runs hotset's heap in small or transparent huge pages.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = "-XX:+UseSerialGC")
public class ProtectedRunBenchmark {
    private static final Pattern RESULT = Pattern.compile("writes=\\d+ per_second=(\\d+) max_stall_us=(\\d+)");

    @Param({"256"})
    int heapMib;

    @Param({"1", "8"})
    int hotMib;

    @Param({"0", "100"})
    int interval;

    /**
     * Share of hotset's writes that go to its hot set; the others go anywhere in the heap. At 0
     * nearly every write is the first to its page since the last checkpoint: writesPerSecond is
     * then the rate of first writes the tracking serves (its inverse, the cost of one).
     */
    @Param({"100"})
    int hotPercent;

    @Param({"5"})
    int seconds;

    /** How written pages are found: uffd (userfaultfd write-protect) or mprotect (page protection and SIGSEGV). */
    @Param({"UFFD"})
    Tracking tracking;

    /** 1: hotset's heap is backed by transparent huge pages (which write-protection splits). */
    @Param({"0"})
    int thp;

    /** 1: every checkpoint is shipped to a standby (in this JVM, over loopback TCP) as it is written. */
    @Param({"0"})
    int standbys;

    private Path dir;
    private Path binary;

    /** The program's and hotclone's own figures for one run, summed over iterations by JMH. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Figures {
        public double writesPerSecond;
        public double maxStallMicros;
        public double checkpoints;
        public double freezeMeanMicros;
        public double freezeMaxMicros;
        /** The freeze distribution: median, 90th and 99th percentile (nearest rank). */
        public double freezeP50Micros;
        public double freezeP90Micros;
        public double freezeP99Micros;
        /** Page bytes of an incremental checkpoint (the median), as shipped to a standby (0 without one). */
        public double wireBytesPerCheckpoint;

        @Setup(Level.Iteration)
        public void clear() {
            writesPerSecond = maxStallMicros = checkpoints = freezeMeanMicros = freezeMaxMicros = 0;
            freezeP50Micros = freezeP90Micros = freezeP99Micros = 0;
            wireBytesPerCheckpoint = 0;
        }
    }

    @Setup(Level.Trial)
    public void compile() throws IOException {
        dir = Files.createTempDirectory("hotclone-jmh-run-");
        binary = TestPrograms.compile("hotset", dir);
    }

    @Benchmark
    public void run(Figures figures) throws Exception {
        Path journal = dir.resolve("journal-" + System.nanoTime());
        Path out = dir.resolve("hotset.out");
        List<String> argv = List.of("/bin/sh", "-c", "exec \"$0\" \"$@\" >\"$OUT\"", binary.toString(),
                "--heap-mib", Integer.toString(heapMib), "--hot-mib", Integer.toString(hotMib),
                "--hot-percent", Integer.toString(hotPercent), "--seconds", Integer.toString(seconds), "--thp", Integer.toString(thp));
        int pid = Spawn.spawn("/bin/sh", argv, List.of("OUT=" + out), Spawn.Group.OWN_GROUP);
        if (interval == 0) {
            Spawn.waitFor(pid);
        } else {
            List<Long> freezes = new ArrayList<>();
            Path replicaDir = dir.resolve("replica-" + System.nanoTime());
            try (ReplicaServer replica = standbys == 0 ? null
                         : ReplicaServer.listen(new InetSocketAddress("127.0.0.1", 0), replicaDir, "bench", ReplicaListener.NONE);
                 Journal j = Journal.create(journal);
                 ProtectedProgram program = new ProtectedProgram(pid, j, Duration.ofMillis(interval), tracking, 0, 1.0, Duration.ofMinutes(1),
                         new ProtectedProgram.Listener() {
                             @Override
                             public void checkpointed(Checkpointer.Result r) {
                                 freezes.add(r.freezeMicros());
                             }

                             @Override
                             public void checkpointFailed(HotcloneException failure) {
                                 throw failure;
                             }
                         });
                 Replication replication = replica == null ? null : new Replication(j, "bench", 0,
                         List.of(replica.address()), AckPolicy.ALL, ReplicationListener.NONE)) {
                program.run();
                if (replica != null) {
                    long last = j.checkpoints().getLast().seq();
                    replication.awaitReplicated(last).get(1, TimeUnit.MINUTES);
                    // The median: the first checkpoints fall in hotset's setup, which touches its whole heap.
                    long[] bytes = replica.journal().checkpoints().stream().skip(1)
                            .mapToLong(CheckpointSummary::pageBytes).sorted().toArray();
                    figures.wireBytesPerCheckpoint = bytes.length == 0 ? 0 : bytes[bytes.length / 2];
                }
            }
            if (standbys > 0) {
                delete(replicaDir);
            }
            // The first checkpoint, full, falls in the program's setup, before it measures.
            List<Long> measured = freezes.subList(Math.min(1, freezes.size()), freezes.size());
            figures.checkpoints = freezes.size();
            figures.freezeMeanMicros = measured.stream().mapToLong(Long::longValue).average().orElse(0);
            figures.freezeMaxMicros = measured.stream().mapToLong(Long::longValue).max().orElse(0);
            long[] sorted = measured.stream().mapToLong(Long::longValue).sorted().toArray();
            figures.freezeP50Micros = percentile(sorted, 50);
            figures.freezeP90Micros = percentile(sorted, 90);
            figures.freezeP99Micros = percentile(sorted, 99);
            delete(journal);
        }
        Matcher m = RESULT.matcher(Files.readString(out));
        if (!m.find()) {
            throw new IllegalStateException("hotset printed no result: " + Files.readString(out));
        }
        figures.writesPerSecond = Double.parseDouble(m.group(1));
        figures.maxStallMicros = Double.parseDouble(m.group(2));
    }

    /** The nearest-rank percentile {@code p} of {@code sorted}, 0 if empty. */
    private static long percentile(long[] sorted, int p) {
        return sorted.length == 0 ? 0 : sorted[Math.max(0, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    @TearDown(Level.Trial)
    public void clean() throws IOException {
        delete(dir);
    }

    private static void delete(Path path) throws IOException {
        try (Stream<Path> files = Files.walk(path)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
