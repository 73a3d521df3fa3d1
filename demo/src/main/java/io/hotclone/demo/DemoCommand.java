package io.hotclone.demo;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.cluster.Coordinator;
import io.hotclone.journal.CheckpointSummary;
import io.hotclone.launcher.ContributedCommand;
import io.hotclone.launcher.JournalWatch;
import io.hotclone.launcher.ProtectionOptions;
import io.hotclone.launcher.Values;
import io.hotclone.testkit.Program;
import io.hotclone.testkit.TestPrograms;
import io.hotclone.testkit.Verify;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

@Command(name = "demo",
        description = {
                "Show hotclone at work on this machine: a primary, a standby and a coordinator; a crash; a switch.",
                "",
                "Starts an embedded coordinator, a `hotclone standby` and a `hotclone run` that protects a "
                        + "self-checking demo program (a heap it rewrites all the time, a TLS counter, a signal "
                        + "handler, a blocked signal, an append-only log, a file mapping ...) and replicates its "
                        + "checkpoints to the standby. Then it kills the primary, hotclone and program together, "
                        + "with SIGKILL, and shows the standby taking the program over: from which checkpoint, how "
                        + "fast, and that the program carries on from there and passes its own check of every piece "
                        + "of its state. Each node's log is kept in the demo's directory.",
                ""},
        mixinStandardHelpOptions = true)
public final class DemoCommand implements ContributedCommand {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** How old the standby's newest checkpoint may be when the demo crashes the primary. */
    private static final Duration FRESH = Duration.ofMillis(300);
    private static final Pattern PROTECTED = Pattern.compile(".* as pid (\\d+),.*");
    private static final Pattern SWITCHED = Pattern.compile(".*(switched: pid (\\d+) from checkpoint seq (\\d+) .*)");

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Where to keep the demo's journals, logs and files (default: a new temporary directory).")
    Path dir;

    @Option(names = "--heap-mib", paramLabel = "N", defaultValue = "64", converter = Values.Count.class,
            description = "Heap of the demo program, in MiB (default: ${DEFAULT-VALUE}).")
    int heapMib;

    @Option(names = "--lease", paramLabel = "DURATION", defaultValue = "1s", converter = Values.Period.class,
            description = "The nodes' lease: how long a dead primary goes unnoticed (default: ${DEFAULT-VALUE}).")
    Duration lease;

    @Option(names = "--dirty-tracking", paramLabel = "MODE", defaultValue = "uffd",
            description = "How both nodes find written pages: uffd or mprotect (see `hotclone help run`; "
                    + "default: ${DEFAULT-VALUE}).")
    ProtectionOptions.DirtyTracking tracking;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws IOException {
        Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("hotclone-demo");
        Path verify = work.resolve("verify");
        Files.deleteIfExists(verify);
        out.println("hotclone demo, in " + work);
        Path binary = TestPrograms.compile("memstate", work);
        List<String> program = List.of(binary.toString(), "--verify-file", verify.toString(),
                "--log", work.resolve("memstate.log").toString(), "--data", work.resolve("memstate.data").toString(),
                "--heap-mib", Integer.toString(heapMib));
        Path standbyJournal = work.resolve("standby-journal");
        Path primaryJournal = work.resolve("primary-journal");
        List<DemoNode> nodes = new ArrayList<>();
        try (Coordinator coordinator = Coordinator.start(new InetSocketAddress("127.0.0.1", 0), work.resolve("coordinator"))) {
            String zk = coordinator.connectString();
            out.println("1. coordinator (embedded ZooKeeper) on " + zk);
            DemoNode standby = DemoNode.start(work, "standby", List.of("standby", "--name", "standby", "--lease", Values.Period.text(lease),
                    "--listen", "127.0.0.1:0", "--journal", standbyJournal.toString(), "--zk", zk,
                    "--dirty-tracking", tracking.name()));
            nodes.add(standby);
            standby.awaitLog(Pattern.compile(".*standby of service .* listening on .*"), WAIT);
            DemoNode primary = DemoNode.start(work, "primary", concat(List.of("run", "--name", "primary", "--lease", Values.Period.text(lease),
                    "--journal", primaryJournal.toString(), "--zk", zk, "--dirty-tracking", tracking.name(), "--"),
                    program));
            nodes.add(primary);
            Matcher protectedPid = PROTECTED.matcher(primary.awaitLog(PROTECTED, WAIT));
            protectedPid.matches();
            int pid = Integer.parseInt(protectedPid.group(1));
            out.printf("2. standby (pid %d) and primary (pid %d) joined; the primary protects the demo program,"
                    + " pid %d, %d MiB heap, checkpointed every 100 ms%n", standby.pid(), primary.pid(), pid, heapMib);
            try (Program running = Program.adopt(pid, primary.stdout())) {
                running.awaitTick(5, WAIT);
                // Steady protection first: on one small machine the nodes' JVMs lag while they warm up.
                awaitReplica(standbyJournal, 20);
                CheckpointSummary held = awaitFresh(standbyJournal);
                out.printf("3. the program runs (tick %d); the standby holds its checkpoints up to seq %d (%s)%n",
                        running.lastTick(), held.seq(), describe(held));
                if (standby.logged(SWITCHED)) {
                    throw new HotcloneException("the standby took over before the crash: the primary lost its lease"
                            + " (see primary.log); --lease " + Values.Period.text(lease) + " is too short for this machine");
                }
                long outputBefore = Files.size(standby.stdout());
                long crashTick = running.lastTick();
                long crash = System.nanoTime();
                primary.kill();
                out.printf("4. crash: the primary's hotclone and program killed together with SIGKILL, at tick %d%n",
                        crashTick);
                Matcher switched = SWITCHED.matcher(standby.awaitLog(SWITCHED, WAIT));
                switched.matches();
                out.println("5. the standby: " + switched.group(1));
                try (Program restored = Program.adopt(Integer.parseInt(switched.group(2)), standby.stdout(), outputBefore)) {
                    long resumed = restored.awaitTick(1, WAIT);
                    long gap = (System.nanoTime() - crash) / 1_000_000;
                    out.printf("6. the program carries on at tick %d, from checkpoint seq %s (it crashed at tick %d):"
                            + " %d ms from the crash to its first output on the standby%n", resumed,
                            switched.group(3), crashTick, gap);
                    restored.awaitTick(resumed + 2, WAIT);
                    restored.signal(Program.SIGUSR1);
                    Verify.assertPasses(restored, verify, WAIT);
                    out.println("7. its own check of heap, TLS, handler, mask, files and mappings: PASS");
                    restored.kill9();
                }
            }
            nodes.forEach(DemoNode::stop); // before the coordinator goes, or they would report losing it
        } catch (AssertionError | HotcloneException e) {
            nodes.forEach(DemoNode::stop);
            out.println("demo failed: " + e.getMessage());
            out.println("node logs: " + work.resolve("*.log"));
            return 1;
        }
        out.println("done: the program survived the loss of its machine. Node logs: " + work.resolve("*.log")
                + "; the new primary's journal: hotclone journal ls " + standbyJournal);
        return 0;
    }

    /**
     * Waits until the standby holds a checkpoint taken at most {@link #FRESH} ago, three looks in
     * a row: the crash then shows what protection keeps once the nodes' JVMs have warmed up, not
     * the lag of their first seconds. Returns the newest checkpoint the standby holds.
     */
    private static CheckpointSummary awaitFresh(Path standby) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int fresh = 0;
        while (true) {
            CheckpointSummary newest = awaitReplica(standby, 1);
            fresh = System.currentTimeMillis() - newest.capturedAtMillis() <= FRESH.toMillis() ? fresh + 1 : 0;
            if (fresh == 3) {
                return newest;
            }
            if (System.nanoTime() > deadline) {
                throw new HotcloneException("the standby's newest checkpoint stayed more than " + FRESH.toMillis()
                        + " ms old for " + WAIT.toSeconds() + " s: the machine is too busy for the demo (see primary.log)");
            }
            JournalWatch.pause();
        }
    }

    /** Waits until the standby's replica holds committed checkpoint {@code seq} or later. */
    private static CheckpointSummary awaitReplica(Path journal, long seq) {
        return JournalWatch.await(journal, c -> c.seq() >= seq, "checkpoint seq " + seq
                + " (see standby.log and primary.log)", WAIT);
    }

    private static String describe(CheckpointSummary c) {
        return String.format("%s, %d pages, the program frozen %.1f ms", c.kind().name().toLowerCase(), c.pages(),
                c.freezeMicros() / 1000.0);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
