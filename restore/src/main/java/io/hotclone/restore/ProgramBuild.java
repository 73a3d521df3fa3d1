package io.hotclone.restore;

import io.hotclone.image.FdExchange;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessImage;
import io.hotclone.image.SysvIpc;
import io.hotclone.image.ZombieState;
import io.hotclone.journal.CheckpointImage;
import io.hotclone.journal.Journal;
import io.hotclone.process.launch.HeldStart;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The program being built from a checkpoint, one {@link ProcessBuild} per process: the first
 * process started held, each other made by its parent (so that parents, pids, sessions and
 * groups are the image's), every address space given its mappings and pages, then at
 * {@link #finish} the descriptors of every process (parents first, so that what a child shares
 * with its parent is there to take), the rest of each process, and all let go at once.
 *
 * <p>Thread confinement: the thread that started it makes every call (it is the tracer, and the
 * first process's parent).
 */
final class ProgramBuild {
    /** Each process, by the pid the program knows it by, parents first. */
    private final Map<Integer, ProcessBuild> builds;
    /** The children that ended and were not waited for, made again as they were. */
    private final Set<ZombieState> zombies;
    /** The System V IPC objects its IPC namespace was made with, described (see {@link SysvIpc#describe}). */
    private final List<String> ipc;

    private ProgramBuild(Map<Integer, ProcessBuild> builds, Set<ZombieState> zombies, List<String> ipc) {
        this.builds = builds;
        this.zombies = zombies;
        this.ipc = ipc;
    }

    /** The System V IPC objects of {@code image}'s IPC namespace, described. */
    private static List<String> ipc(CheckpointImage image) {
        return ipcOf(image).stream().map(SysvIpc::describe).toList();
    }

    private static List<SysvIpc> ipcOf(CheckpointImage image) {
        return image.processes().getFirst().ipc();
    }

    /** The zombies of {@code image}, whoever captured them (without their pids on that node). */
    private static Set<ZombieState> zombies(CheckpointImage image) {
        return image.processes().stream().flatMap(p -> p.zombies().stream())
                .map(z -> new ZombieState(0, z.vpid(), z.vpgid(), z.vsid(), z.waitStatus()))
                .collect(java.util.stream.Collectors.toSet());
    }

    /** Starts every process of {@code image}, with its mappings, empty. */
    static ProgramBuild start(CheckpointImage image, HeldStart.Lifetime lifetime) {
        List<MemoryArea> every = image.processes().stream().flatMap(p -> p.areas().stream()).toList();
        Map<Integer, ProcessBuild> builds = new LinkedHashMap<>();
        Map<Integer, ProcessImage> byVpid = new HashMap<>();
        try {
            for (ProcessImage p : image.processes()) {
                ProcessImage parent = byVpid.get(p.process().vppid());
                ProcessBuild build = builds.isEmpty() ? ProcessBuild.start(p, image.header(), lifetime, every)
                        : builds.get(parent.vpid()).fork(p, parent);
                builds.put(p.vpid(), build);
                byVpid.put(p.vpid(), p);
            }
            // After every process: a process group or session a zombie was in is there to join.
            for (ProcessImage p : image.processes()) {
                p.zombies().forEach(z -> builds.get(p.vpid()).zombie(z, p.process()));
            }
            return new ProgramBuild(builds, zombies(image), ipc(image));
        } catch (RuntimeException e) {
            new ProgramBuild(builds, Set.of(), List.of()).kill();
            throw e;
        }
    }

    /** The pid here of the program's first process. */
    int pid() {
        return builds.values().iterator().next().pid();
    }

    /** The pid here of each process, by the pid the program knows it by. */
    Map<Integer, Integer> pids() {
        Map<Integer, Integer> pids = new LinkedHashMap<>();
        builds.forEach((vpid, b) -> pids.put(vpid, b.pid()));
        return pids;
    }

    /**
     * Whether {@code image} holds exactly the processes this build has (by their pids in the
     * program), the same zombies and System V IPC objects, each process sharing with its parent the memory it shares
     * here.
     */
    boolean holdsTheProcessesOf(CheckpointImage image) {
        Map<Integer, ProcessImage> byVpid = new HashMap<>();
        image.processes().forEach(p -> byVpid.put(p.vpid(), p));
        return builds.keySet().equals(byVpid.keySet()) && zombies.equals(zombies(image)) && ipc.equals(ipc(image))
                && image.processes().stream().allMatch(p -> {
            ProcessImage parent = byVpid.get(p.process().vppid());
            return builds.get(p.vpid()).inherited().equals(parent == null ? Set.of()
                    : MemoryArea.inherited(p.areas(), parent.areas()));
        });
    }

    /** Whether any area of {@code image} lies on the scratch area of the process that will hold it. */
    boolean onScratch(CheckpointImage image) {
        return image.processes().stream().anyMatch(p -> builds.get(p.vpid()).onScratch(p.areas()));
    }

    /** Brings every process's mappings from {@code had} to {@code now}, which holds the same processes. */
    void reconcile(CheckpointImage had, CheckpointImage now) {
        Map<Integer, ProcessImage> before = new HashMap<>();
        had.processes().forEach(p -> before.put(p.vpid(), p));
        for (ProcessImage p : now.processes()) {
            builds.get(p.vpid()).reconcile(before.get(p.vpid()).areas(), p.areas());
        }
    }

    /**
     * Copies every process's pages of the checkpoints of {@code chain} into place (see
     * {@link ProcessBuild#fill}), and the System V IPC objects' contents of {@code image}.
     */
    void fill(Journal journal, List<Long> chain, CheckpointImage image) {
        for (ProcessImage p : image.processes()) {
            builds.get(p.vpid()).fill(journal, chain, p.areas());
        }
        SysvIpc.fill(pid(), ipcOf(image));
    }

    /**
     * Installs everything but the memory in every process and lets them all run; returns the
     * pid here of the program's first process.
     */
    int finish(CheckpointImage image) {
        try {
            FdExchange exchange = new FdExchange(image.processes());
            for (ProcessImage p : image.processes()) {
                builds.get(p.vpid()).files(p, exchange);
            }
            exchange.finish();
            for (ProcessImage p : image.processes()) {
                builds.get(p.vpid()).resume(p);
            }
            SysvIpc.removeDestroyed(pid(), ipcOf(image));
        } catch (RuntimeException e) {
            kill();
            throw e;
        }
        int pid = pid();
        // Children first: a parent that runs finds its children there, ready to run.
        new ArrayList<>(builds.values()).reversed().forEach(ProcessBuild::release);
        return pid;
    }

    /** Kills every process built so far, children first. */
    void kill() {
        new ArrayList<>(builds.values()).reversed().forEach(b -> {
            try {
                b.kill();
            } catch (RuntimeException ignored) {
                // the next is killed whatever became of this one
            }
        });
    }
}
