package io.hotclone.capture;

import io.hotclone.process.Host;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.dirty.DirtySet;
import io.hotclone.capture.dirty.DirtyTracker;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.image.AreaClassifier;
import io.hotclone.image.AreaKind;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.FrozenCopy;
import io.hotclone.process.ptrace.ProcessGoneException;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.image.CheckpointKind;
import io.hotclone.image.Commit;
import io.hotclone.image.FdState;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;
import io.hotclone.image.SysvIpc;
import io.hotclone.image.SysvShm;
import io.hotclone.image.ZombieState;
import io.hotclone.journal.CheckpointWriter;
import io.hotclone.journal.Journal;
import io.hotclone.journal.JournalFormat;
import io.hotclone.vid.VidTable;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static io.hotclone.bindings.linux.Kcmp.KCMP_FILES;
import static io.hotclone.bindings.linux.Kcmp.KCMP_VM;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_EXITKILL;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACECLONE;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACEFORK;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACESYSGOOD;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_kcmp;

/**
 * Takes one checkpoint of a running process from the outside: walks the DUMP automaton
 * ({@link DumpPhase}) and hands the pages to the {@link PageCapture} its {@link CapturePlan}
 * chose at the barrier (streamed, staged, or read from a copy-on-write fork).
 *
 * <p>Thread confinement: runs on the calling thread, which becomes the program's tracer for
 * the duration of the checkpoint; it must be a platform thread.
 */
public final class Checkpointer {
    /** Offset of xfeatures in the software-reserved bytes of the xsave area (struct _fpx_sw_bytes). */
    private static final int XSTATE_XFEATURES_OFFSET = 472;
    /** A one-shot checkpoint's ring: two slots let reading one batch overlap writing the other,
     *  and allocate (touch) no more than needed for one checkpoint. */
    private static final int ONE_SHOT_SLOTS = 2;
    /** The tracer's work for a seized program: none. */
    private static final Runnable NOTHING = () -> { };

    /**
     * What one checkpoint produced.
     *
     * @param threads     threads of every process
     * @param copyOnWrite whether the pages were read from a copy-on-write copy after the freeze
     * @param processes   how many processes the program has
     */
    public record Result(long seq, int threads, int areas, long pages, long pageBytes, int fds,
                         long freezeMicros, long durationMicros, boolean copyOnWrite, VidTable vids, int processes) {
    }

    private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);

    private final int pid;
    private final Journal journal;
    private final boolean kill;
    private final Chain chain;
    /** The program traced for its whole life, stopped at the barrier already; null: seized for this checkpoint. */
    private final LifelongTracee tracer;
    /** Whether the program runs again already. */
    private boolean released;
    /** Checkpoints of the program that failed since its last committed one, for the commit to tell. */
    private final int failedBefore;
    /** Whether this checkpoint was asked to be full, whatever it could build on. */
    private boolean full;
    private DumpPhase phase;

    /**
     * One full checkpoint, nothing tracked after it.
     *
     * @param kill whether to kill the program once the checkpoint is committed (else it runs on)
     */
    public Checkpointer(int pid, Journal journal, boolean kill) {
        this(pid, journal, kill, null, null, 0);
    }

    /**
     * A checkpoint of a protected program: incremental when {@code chain} has a committed
     * checkpoint and an armed dirty tracker to build on, else full, arming the tracker.
     */
    public Checkpointer(int pid, Journal journal, Chain chain) {
        this(pid, journal, false, chain, null, 0);
    }

    /**
     * A checkpoint of a protected program, after {@code failedBefore} checkpoints of it failed
     * since its last committed one (its commit records them). With {@code tracer}, the program
     * is traced for its whole life by it and now in an interrupt stop on this thread; the
     * program runs again (PTRACE_SYSCALL) once its pages are read or copied, or when the
     * checkpoint fails. From then on, this thread runs the tracer's work between the batches of
     * pages it reads and while it waits for the journal. Without (null), the program is seized
     * for this checkpoint.
     */
    Checkpointer(int pid, Journal journal, Chain chain, LifelongTracee tracer, int failedBefore) {
        this(pid, journal, false, chain, tracer, failedBefore);
    }

    private Checkpointer(int pid, Journal journal, boolean kill, Chain chain, LifelongTracee tracer,
                         int failedBefore) {
        this.pid = pid;
        this.journal = journal;
        this.kill = kill;
        this.chain = chain;
        this.tracer = tracer;
        this.failedBefore = failedBefore;
    }

    /** The phase reached; after a failure, the phase that failed. */
    public DumpPhase phase() {
        return phase;
    }

    public Result checkpoint() {
        try {
            return checkpointOnce();
        } finally {
            if (tracer != null && !released) {
                try {
                    release(null);
                } catch (RuntimeException gone) {
                    // The program ended; its tracer learns so from its next wait.
                }
            }
        }
    }

    private Result checkpointOnce() {
        long begin = System.nanoTime();
        phase = DumpPhase.PRE_DUMP;
        ProcFs proc = new ProcFs(pid);
        refuseWhatCannotBeCaptured(pid);
        full = chain != null && chain.takeFullRequest();
        long seq = journal.nextSeq();
        // Made before the freeze: allocating the ring's slots faults in their memory.
        AppendRing ring = chain != null ? chain.ring(pid)
                : new AppendRing("hotclone-appender-" + pid, ONE_SHOT_SLOTS, w -> w);
        try {
            try {
                return checkpoint(begin, proc, seq, ring);
            } catch (ForkCapture.Unfaithful e) {
                LOG.info("process {}: {}; its pages are read while it is frozen from now on", pid, e.getMessage());
                chain.forkUnfaithful();
                if (tracer != null) {
                    throw e; // its lifelong tracer runs it again already: the next checkpoint is taken without
                }
                return checkpoint(begin, proc, seq, ring);
            }
        } finally {
            ring.whileWaiting(null);
            if (chain == null) {
                ring.close();
            }
        }
    }

    private Result checkpoint(long begin, ProcFs proc, long seq, AppendRing ring) {
        List<Frozen> images = new ArrayList<>();
        // A protected program dies with its hotclone if that dies mid-capture, rather than run on with
        // half-restored registers: the journal's last committed checkpoint is where it resumes.
        long options = chain != null ? PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL : PTRACE_O_TRACESYSGOOD;
        // A lifelong tracee is stopped since before this checkpoint began.
        long frozen = tracer == null ? System.nanoTime() : begin;
        CheckpointAppend append = new CheckpointAppend(ring, journal);
        try (ProgramBarrier seized = tracer == null
                ? ProgramBarrier.stop(proc, options, chain == null ? Set.of() : chain.copiesLeft()) : null) {
            phase = DumpPhase.DUMP;
            if (tracer != null) {
                refuseUnderLifelongTracer(proc);
            }
            List<ProgramBarrier.Member> members = seized != null ? seized.members()
                    : List.of(new ProgramBarrier.Member(proc, 0, null));
            Map<Integer, Integer> vpids = new HashMap<>();
            List<FdState.Held> program = new ArrayList<>();
            Map<Integer, List<ZombieState>> zombies = new HashMap<>();
            if (seized != null) {
                seized.zombies().forEach(z -> zombies.computeIfAbsent(z.parent(), p -> new ArrayList<>())
                        .add(ZombieState.dump(z.proc())));
            }
            for (ProgramBarrier.Member m : members) {
                Tracee leader = m.threads() == null ? tracer.tracee() : m.threads().leader();
                List<Tracee> others = m.threads() == null ? List.of() : m.threads().others();
                Frozen image = capture(m.proc(), leader, others, seq, tracer != null ? tracer.options() : options,
                        m.parent() == 0 ? 0 : vpids.get(m.parent()), program,
                        zombies.getOrDefault(m.proc().pid(), List.of()));
                images.add(image);
                vpids.put(m.proc().pid(), image.process().vpid());
            }
            Map<Integer, Set<Long>> inherited = refuseUnrestorable(images);
            Frozen root = images.getFirst();
            boolean incremental = images.stream().anyMatch(i -> i.dirty() != null);
            append.header(header(seq, root.threads().getFirst(), incremental));
            long pageCount = 0;
            // The journal holds the children first, the program's first process last: its pages
            // may still come after the freeze, and each process's pages follow its records.
            for (Frozen child : images.subList(1, images.size()).reversed()) {
                CheckpointPages pages = pages(child, inherited.get(child.process().pid()), seq, append);
                pageCount += child.pages().whileFrozen(pages) + child.pages().afterRelease(pages);
                pages.append();
            }
            PageCapture capture = root.pages();
            CheckpointPages pages = pages(root, Set.of(), seq, append);
            pageCount += capture.whileFrozen(pages);
            phase = DumpPhase.POST_DUMP;
            long freeze = (System.nanoTime() - frozen) / 1000;
            if (!kill) {
                release(seized);
                if (tracer != null) {
                    ring.whileWaiting(tracer.serve());
                }
            }
            LOG.debug("checkpoint seq {} of process {}: pages {}: {}", seq, pid, root.plan().how(),
                    root.plan().why());
            pageCount += capture.afterRelease(pages);
            AppendRing.Append appended = pages.append();
            appended.drain();
            int areas = images.stream().mapToInt(i -> i.areas().size()).sum();
            int fds = images.stream().mapToInt(i -> i.fds().size()).sum();
            int threads = images.stream().mapToInt(i -> i.threads().size()).sum();
            Result result = new Result(seq, threads, areas, pageCount, pageCount * Host.PAGE_SIZE, fds, freeze,
                    (System.nanoTime() - begin) / 1000, root.plan().how() == CapturePlan.How.FORKED,
                    vids(images), images.size());
            appended.commit(new Commit(result.seq(), result.areas(), result.pages(), result.pageBytes(),
                    result.fds(), result.freezeMicros(), result.durationMicros(), failedBefore));
            if (chain != null) {
                Map<Integer, List<MemoryArea>> committed = new HashMap<>();
                images.forEach(i -> committed.put(i.process().pid(), i.areas()));
                chain.committed(seq, committed);
                images.stream().filter(i -> i.dirty() != null)
                        .forEach(i -> chain.process(i.process().pid()).tracker().commit(i.dirty()));
            }
            if (kill) {
                // SIGKILL ends even a ptrace-stopped process; closing the tracee then has nothing to let go.
                members.forEach(m -> ProcessHandle.of(m.proc().pid()).ifPresent(ProcessHandle::destroyForcibly));
            }
            return result;
        } catch (RuntimeException e) {
            DumpPhase failed = phase;
            phase = DumpPhase.ABORT_DUMP;
            if (chain != null) {
                for (Frozen i : images) {
                    ProcessChain p = chain.process(i.process().pid());
                    if (i.dirty() != null && p.tracker() != null) {
                        p.tracker().abort(i.dirty());
                    }
                }
            }
            if (chain != null && images.stream().anyMatch(i -> i.dirty() == null) && !(e instanceof ForkCapture.Unfaithful)) {
                // The tracker counts pages written before a full checkpoint's barrier as carried:
                // what builds on the last committed checkpoint instead would miss them.
                chain.askFull();
            }
            if (e instanceof HotcloneException) {
                throw e;
            }
            throw new HotcloneException("checkpoint of process " + pid + " failed in " + failed + ": " + e, e);
        } finally {
            append.close();
            images.forEach(i -> i.pages().close());
        }
    }

    /**
     * Refuses, naming the reason, a program whose processes cannot be restored as they are,
     * which only the whole program tells: a pipe end whose other end it does not hold; a process
     * in a session it does not lead and its parent is not in, or in a process group no process
     * of the program made before it leads (a daemon's, whose first parent ended); processes that
     * share their memory or their descriptor table (vfork, clone without CLONE_THREAD); shared
     * anonymous memory that a process holds but did not inherit where its parent maps it (see
     * {@link MemoryArea#inherited}).
     *
     * @return the areas of each process (by pid) that it shares with its parent, inherited over
     * fork: their pages are its parent's, which the checkpoint carries once
     */
    private static Map<Integer, Set<Long>> refuseUnrestorable(List<Frozen> images) {
        Map<Integer, List<FdState>> fds = new HashMap<>();
        images.forEach(i -> fds.put(i.process().pid(), i.fds()));
        FdState.refuseUnpaired(fds);
        Map<Long, String> sharedMemory = new HashMap<>();
        Map<Integer, Frozen> before = new HashMap<>();
        Map<Integer, Set<Long>> inherited = new HashMap<>();
        Map<Long, SysvShm> segments = new HashMap<>();
        images.getFirst().ipc().forEach(o -> {
            if (o instanceof SysvShm s) {
                segments.put((long) s.id(), s);
            }
        });
        String programIpc = new ProcFs(images.getFirst().process().pid()).link("ns/ipc");
        for (Frozen i : images) {
            ProcessState p = i.process();
            refuseForeignSysv(i, segments, programIpc);
            Frozen parent = before.get(p.vppid());
            Set<Long> fromParent = parent == null ? Set.of() : MemoryArea.inherited(i.areas(), parent.areas());
            inherited.put(p.pid(), fromParent);
            for (MemoryArea a : i.areas()) {
                if (a.kind() != AreaKind.SHARED_ANONYMOUS || a.file() == null || fromParent.contains(a.start())) {
                    continue;
                }
                String holder = "process " + p.pid() + " at 0x" + Long.toHexString(a.start());
                String other = sharedMemory.putIfAbsent(a.file().inode(), holder);
                if (other != null) {
                    throw new HotcloneException("cannot checkpoint the program: " + other + " and " + holder + " share"
                            + " anonymous memory (MAP_SHARED | MAP_ANONYMOUS) that " + holder.substring(0,
                            holder.indexOf(" at ")) + " did not inherit over fork where its parent still maps it,"
                            + " which hotclone cannot restore as shared yet");
                }
            }
            if (parent != null) {
                String what = "cannot checkpoint the program: process " + p.pid() + " (pid " + p.vpid()
                        + " in the program)";
                ProcessState parentState = parent.process();
                refuseSharing(what, parentState.pid(), p.pid(), KCMP_VM, "memory (vfork, or clone with CLONE_VM)");
                refuseSharing(what, parentState.pid(), p.pid(), KCMP_FILES, "descriptor table (clone with CLONE_FILES)");
                if (p.vsid() != parentState.vsid() && p.vsid() != p.vpid()) {
                    throw new HotcloneException(what + " is in session " + p.vsid() + ", which neither it nor its"
                            + " parent " + parentState.vpid() + " is in, and which hotclone cannot restore yet");
                }
                if (p.vpgid() != parentState.vpgid() && p.vpgid() != p.vpid() && !before.containsKey(p.vpgid())) {
                    throw new HotcloneException(what + " is in process group " + p.vpgid() + ", whose leader is gone"
                            + " or comes after it, which hotclone cannot restore yet");
                }
            }
            before.put(p.vpid(), i);
        }
        return inherited;
    }

    /**
     * Refuses a process in another IPC namespace than the program's first one, or attaching only
     * part of a System V segment (a restore attaches it whole).
     */
    private static void refuseForeignSysv(Frozen image, Map<Long, SysvShm> segments, String programIpc) {
        int pid = image.process().pid();
        if (!new ProcFs(pid).link("ns/ipc").equals(programIpc)) {
            throw new HotcloneException("cannot checkpoint the program: process " + pid + " is in an IPC namespace"
                    + " other than its first process's (it called unshare(CLONE_NEWIPC)), which hotclone cannot restore");
        }
        for (MemoryArea a : image.areas()) {
            if (a.kind() != AreaKind.SYSV_SHM) {
                continue;
            }
            SysvShm segment = segments.get(a.file().inode());
            String at = "process " + pid + " at 0x" + Long.toHexString(a.start());
            if (segment == null) {
                throw new HotcloneException("cannot checkpoint the program: " + at + " attaches System V shared memory"
                        + " segment " + a.file().inode() + ", which its IPC namespace no longer lists");
            }
            if (a.offset() != 0 || a.length() != segment.mappedLength()) {
                throw new HotcloneException("cannot checkpoint the program: " + at + " maps only part of the "
                        + segment.describe() + " (bytes " + a.offset() + " to " + (a.offset() + a.length()) + ", after an"
                        + " munmap or an mprotect of part of it), which hotclone cannot restore yet");
            }
        }
    }

    /** Refuses, as {@code what}, a process that shares its {@code resource} ({@code kind} of kcmp(2)) with its parent. */
    private static void refuseSharing(String what, int parent, int pid, int kind, String resource) {
        MemorySegment cs = Native.callState();
        if (Libc.syscall(cs, SYS_kcmp, parent, pid, kind, 0, 0, 0) == 0) {
            throw new HotcloneException(what + " shares its parent's " + resource + ", which hotclone cannot restore"
                    + " yet; the checkpoint is tried again (a vfork ends at the child's exec)");
        }
    }

    /**
     * What {@code image}'s capture works with: its areas and pages, its part of the chain, the checkpoint's append.
     *
     * @param inherited the starts of the areas whose pages its parent's part of the checkpoint carries
     */
    private CheckpointPages pages(Frozen image, Set<Long> inherited, long seq, CheckpointAppend append) {
        int of = image.process().pid();
        List<MemoryArea> own = image.areas().stream().filter(a -> !inherited.contains(a.start())).toList();
        return new CheckpointPages(of, chain, chain == null ? null : chain.process(of), seq, own, image.dirty(),
                () -> append.section(image::write), tracer != null ? tracer.serve() : NOTHING);
    }

    /** Each thread's real id behind the one the program knows it by, of every process. */
    private static VidTable vids(List<Frozen> images) {
        return VidTable.of(images.stream().flatMap(i -> i.threads().stream())
                .collect(Collectors.toMap(ThreadState::programTid, ThreadState::tid)));
    }

    /**
     * A program traced for its whole life is followed in one thread of one process
     * (--dirty-tracking mprotect): refuses one with more.
     */
    private void refuseUnderLifelongTracer(ProcFs proc) {
        if (proc.tasks().size() > 1) {
            throw new Uncapturable("cannot checkpoint process " + pid + ": it has " + proc.tasks().size()
                    + " threads, and --dirty-tracking mprotect follows a single thread; run it with"
                    + " --dirty-tracking uffd");
        }
        List<Integer> children = proc.children().stream().filter(c -> !chain.copiesLeft().contains(c)).toList();
        if (!children.isEmpty()) {
            throw new Uncapturable("cannot checkpoint process " + pid + ": it has child processes " + children
                    + ", and --dirty-tracking mprotect follows a single process; run it with --dirty-tracking uffd");
        }
    }

    /**
     * Lets the program run again after the freeze: a seized one ({@code barrier}) goes free, a
     * lifelong one goes on being traced.
     */
    private void release(ProgramBarrier barrier) {
        released = true;
        if (tracer != null) {
            tracer.tracee().syscall(0);
        } else {
            barrier.release();
        }
    }

    private ImageHeader header(long seq, ThreadState thread, boolean incremental) {
        byte[] xstate = thread.xstate();
        long xfeatures = xstate.length >= XSTATE_XFEATURES_OFFSET + 8
                ? MemorySegment.ofArray(xstate).get(ValueLayout.JAVA_LONG_UNALIGNED, XSTATE_XFEATURES_OFFSET) : 0;
        long epoch = chain != null ? chain.epoch() : journal.maxEpoch();
        return new ImageHeader(JournalFormat.FORMAT_VERSION, seq, epoch,
                incremental ? CheckpointKind.INCREMENTAL : CheckpointKind.FULL, incremental ? chain.seq() : -1,
                Host.KERNEL_RELEASE, Host.MACHINE, Host.PAGE_SIZE, xfeatures, xstate.length,
                System.currentTimeMillis());
    }

    /**
     * Everything but the pages, read at the barrier.
     *
     * @param dirty the pages written since the chain's last checkpoint, or null for a full checkpoint
     * @param plan  how the pages are captured, and why
     * @param pages the capture {@code plan} chose, holding what it made at the barrier (a fork)
     */
    private record Frozen(ProcessState process, List<ThreadState> threads, List<MemoryArea> areas, List<FdState> fds,
                          List<ZombieState> zombies, List<SysvIpc> ipc, DirtySet dirty, CapturePlan plan,
                          PageCapture pages) {
        /** Writes the process's records, its section's head. */
        void write(CheckpointWriter writer) {
            writer.process(process);
            threads.forEach(writer::thread);
            areas.forEach(writer::area);
            fds.forEach(writer::fd);
            zombies.forEach(writer::zombie);
            ipc.forEach(writer::ipc);
        }
    }

    /**
     * Everything of one process at the barrier; its pages are read by the capture it plans.
     *
     * @param others  every thread of the process but {@code tracee}, its leader, stopped with it
     * @param options the ptrace options the program is traced with
     * @param vppid   the pid the program knows the process's parent by, 0 for its first process
     * @param program the descriptors of the program's processes captured before, which this one's may share
     * @param zombies its children that ended and were not waited for
     */
    private Frozen capture(ProcFs proc, Tracee tracee, List<Tracee> others, long seq, long options, int vppid,
                           List<FdState.Held> program, List<ZombieState> zombies) {
        boolean root = proc.pid() == pid;
        ProcessChain process = chain == null ? null : chain.process(proc.pid());
        boolean seen = process != null && process.seen();
        if (process != null && !process.follow()) {
            if (seen) {
                LOG.info("process {} ran another program (exec) since the last checkpoint: its dirty tracking and page"
                        + " reading are set up anew for its new memory, and its part of checkpoint seq {} is full",
                        proc.pid(), seq);
            } else if (chain.seq() != -1) {
                LOG.debug("process {} is new since the last checkpoint: checkpoint seq {} carries it whole", proc.pid(),
                        seq);
            }
        }
        boolean builds = process != null && chain.canBuildOn(process);
        // Read on the namespace's thread beside this capture: nothing changes them while the program is stopped.
        try (IpcRead ipc = root ? IpcRead.start(chain, proc.pid()) : IpcRead.NONE) {
            List<MapsEntry> kernelAreas = proc.maps();
            List<MapsEntry> maps = process != null && process.tracker() != null ? process.tracker().view(kernelAreas)
                    : kernelAreas;
            AreaClassifier classifier = new AreaClassifier(proc, builds ? process.areas() : Map.of(), kernelAreas);
            List<MemoryArea> areas = maps.stream().map(m -> classifier.classify(m, seq)).toList();
            if (builds) {
                areas = process.continued(areas);
            }
            List<FdState> fds = FdState.dumpAll(proc, program);
            List<Tracee> all = new ArrayList<>(List.of(tracee));
            all.addAll(others);
            List<byte[]> xstates = all.stream().map(Tracee::xstate).toList();
            List<byte[]> sharedPending = tracee.pendingSignals(true);
            try (RemoteSyscalls remote = RemoteSyscalls.infectForCapture(tracee, maps)) {
                List<ThreadState> threads = dumpThreads(proc, remote, all, xstates);
                ThreadState thread = threads.getFirst();
                ProcessState state = ProcessState.dump(proc, remote, sharedPending, vppid);
                List<SysvIpc> objects = ipc.take(proc.pid(), state.vpid());
                DirtySet dirty = process == null ? null : track(process, remote, areas, thread);
                if (chain != null && root) {
                    chain.reapCopies(remote);
                }
                CapturePlan plan = root ? plan(proc, process, areas, seq, dirty) : CapturePlan.streamed();
                PageCapture pages = switch (plan.how()) {
                    case STREAMED -> new StreamedCapture();
                    case STAGED -> new StagedCapture();
                    case FORKED -> new ForkCapture(fork(tracee, remote, thread.programTid() == 1, options),
                            plan.stageShort());
                };
                try {
                    remote.cure(remote.savedRegisters(), remote.savedSigmask(), true);
                } catch (RuntimeException e) {
                    pages.close();
                    throw e;
                }
                return new Frozen(state, List.copyOf(threads), areas, fds, zombies, objects, dirty, plan, pages);
            }
        }
    }

    /**
     * Every thread's state, {@code all.getFirst()} the leader {@code remote} runs in: the others
     * are taken over as its siblings, as many at once as its scratch has slots for, so that
     * their injected calls overlap.
     */
    private static List<ThreadState> dumpThreads(ProcFs proc, RemoteSyscalls remote, List<Tracee> all,
                                                 List<byte[]> xstates) {
        List<ThreadState> threads = new ArrayList<>();
        for (int from = 0; from < all.size(); from += remote.slots()) {
            int to = Math.min(all.size(), from + remote.slots());
            List<RemoteSyscalls> group = new ArrayList<>();
            try {
                for (int i = from; i < to; i++) {
                    group.add(i == 0 ? remote : remote.sibling(all.get(i), i - from));
                }
                threads.addAll(ThreadState.dumpAll(proc, group, xstates.subList(from, to)));
            } finally {
                group.stream().filter(r -> r != remote).forEach(RemoteSyscalls::close);
            }
        }
        return threads;
    }

    /** At the barrier: the plan for this checkpoint's pages, from what the chain and /proc say. */
    private CapturePlan plan(ProcFs proc, ProcessChain process, List<MemoryArea> areas, long seq, DirtySet dirty) {
        long bound = dirty == null ? Long.MAX_VALUE : process.pagesBound(areas, seq, dirty, process.untracked());
        boolean stageable = dirty != null && chain.stageable(bound);
        return CapturePlan.decide(dirty != null, bound, stageable, () -> proc.statm().residentPages() * Host.PAGE_SIZE,
                stageable && chain.stageHolds(bound), () -> forkable(proc));
    }

    /**
     * Forks the frozen program, following the copy (PTRACE_O_TRACEFORK, PTRACE_O_TRACECLONE) for
     * this one call only: a lifelong tracer waits for the program alone, and a thread the
     * program makes before the barrier holds it must not be attached to this one. A copy left a
     * zombie of the program's (an init's) is reaped at the next barrier.
     *
     * @param options the options {@code tracee} is traced with
     */
    private FrozenCopy fork(Tracee tracee, RemoteSyscalls remote, boolean init, long options) {
        tracee.setOptions(options | PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE);
        try {
            FrozenCopy copy = FrozenCopy.fork(remote, init);
            if (copy.programPid() != 0) {
                chain.reapLater(copy.pid(), copy.programPid());
            }
            return copy;
        } finally {
            tracee.setOptions(options);
        }
    }

    /**
     * Whether the pages may be read from a fork of the frozen program after the freeze: only for
     * a protected program (its parent is this hotclone, which reaps the copy) whose forks have
     * not been found to leave out or wipe memory ({@link ForkCapture}).
     */
    private boolean forkable(ProcFs proc) {
        return chain != null && chain.forkFaithful() && proc.stat().ppid() == ProcessHandle.current().pid();
    }

    /**
     * At the barrier: the pages written since the chain's last checkpoint, or null when this
     * checkpoint must be full, in which case the tracker is (re)armed here so that every write
     * after it is seen.
     */
    private DirtySet track(ProcessChain process, RemoteSyscalls remote, List<MemoryArea> areas, ThreadState thread) {
        if (chain.tracking() == Tracking.NONE) {
            return null;
        }
        if (!full && chain.canBuildOn(process)) {
            try {
                process.tracker().barrier(remote, thread);
                process.tracker().track(areas);
                return process.tracker().collect();
            } catch (ProcessGoneException e) {
                throw e; // not the tracking's failure: the program ended
            } catch (HotcloneException e) {
                LOG.warn("dirty tracking of process {} broke, taking it whole: {}", process.pid(), e.getMessage());
                process.dropTracker();
            }
        }
        if (process.tracker() == null) {
            process.tracker(DirtyTracker.start(chain.tracking(), remote, areas, thread));
        } else {
            // This full checkpoint carries whatever was written: the tracker goes on from its barrier.
            process.tracker().barrier(remote, thread);
            process.tracker().track(areas);
            process.tracker().commit(process.tracker().collect());
        }
        return null;
    }

    /**
     * Refuses, naming the reason, a process that cannot be checkpointed, as far as that can be
     * told without stopping it; callers may check before they create anything for it.
     */
    public static void refuseWhatCannotBeCaptured(int pid) {
        ProcFs proc = new ProcFs(pid);
        if (!proc.exists()) {
            throw new HotcloneException("process " + pid + " does not exist (no /proc/" + pid + ")");
        }
        if (pid == ProcessHandle.current().pid()) {
            throw new HotcloneException("process " + pid + " is this hotclone itself");
        }
    }
}
