package io.hotclone.restore;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.clone_args;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.launch.HeldStart;
import io.hotclone.process.launch.Spawn;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.image.AddressSpace;
import io.hotclone.image.FdState;
import io.hotclone.image.ImageHeader;
import io.hotclone.image.MemoryArea;
import io.hotclone.image.ProcessState;
import io.hotclone.image.ThreadState;
import io.hotclone.image.FdExchange;
import io.hotclone.image.ProcessImage;
import io.hotclone.image.SysvIpc;
import io.hotclone.image.ZombieState;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.journal.Journal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

import static io.hotclone.bindings.linux.Errno.EEXIST;
import static io.hotclone.bindings.linux.Errno.EAGAIN;
import static io.hotclone.bindings.linux.Prctl.PR_SET_DUMPABLE;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_exit_group;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_kill;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_prctl;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_sigaction;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_rt_sigtimedwait;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACECLONE;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACEFORK;
import static io.hotclone.bindings.linux.Signal.SIGCHLD;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_clone3;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_setpgid;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_setsid;
import static io.hotclone.bindings.linux.Signal.SIGKILL;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_getpid;

/**
 * A process being built from its image, in two steps: {@link #start} (or {@link #fork} for a
 * child) and {@link #fill} give it the image's address space and memory (it stays stopped,
 * every area writable, and can take the pages of later checkpoints with the same mappings);
 * {@link #files}, {@link #resume} and {@link #release} install the rest (protections, mm
 * fields, files, signal state, limits, threads, registers) and let it run.
 * {@link ProgramBuild} drives them over every process of the program.
 *
 * <p>Thread confinement: the thread that started it makes every call (it is the tracer).
 */
final class ProcessBuild {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessBuild.class);
    /** How long an ended child made again may take to end (it runs one system call). */
    private static final int ZOMBIE_MILLIS = 5000;
    private final Tracee tracee;
    private final RemoteSyscalls remote;
    private final AddressSpace space;
    private final ProcFs proc;
    private final int vpid;
    /**
     * The starts of its shared anonymous areas inherited from its parent as it was made, the
     * parent's memory: neither unmapped, mapped nor filled here.
     */
    private final Set<Long> inherited;
    /** The image's other threads, made by {@link #resume} and let go by {@link #release}. */
    private final List<Tracee> made = new ArrayList<>();
    private boolean killed;

    private ProcessBuild(Tracee tracee, RemoteSyscalls remote, ProcFs proc, int vpid, Set<Long> inherited) {
        this.tracee = tracee;
        this.remote = remote;
        this.space = new AddressSpace(remote);
        this.proc = proc;
        this.vpid = vpid;
        this.inherited = inherited;
    }

    /**
     * Starts the host of the program's first process (its own executable, held at the end of
     * its exec) and gives it the image's mappings, empty.
     *
     * @param avoid every area of every process of the image: the scratch area, which children
     *              inherit, lies apart from all of them
     */
    static ProcessBuild start(ProcessImage image, ImageHeader header, HeldStart.Lifetime lifetime,
                              List<MemoryArea> avoid) {
        // A program checkpointed as pid 1 of namespaces of its own gets them again, where its ids are free.
        int leader = image.vpid();
        HeldStart.Placement placement = leader == 1 ? new HeldStart.OwnNamespaces()
                : new HeldStart.SharedNamespaces(leader);
        Tracee tracee = HeldStart.start(List.of(image.process().exe()), List.of(),
                group(image.process()), lifetime, placement);
        int pid = tracee.tid();
        if (leader != 1 && pid != leader) {
            LOG.warn("pid {} is taken on this node: the program is restored as pid {}, and an id it holds of itself is"
                    + " wrong (a program that hotclone runs has namespaces of its own, where its ids are free)", leader, pid);
        }
        RemoteSyscalls remote = null;
        try {
            checkXstate(tracee, header);
            ProcFs proc = new ProcFs(pid);
            List<MapsEntry> now = proc.maps();
            long scratch = AddressSpace.freeRange(now, avoid, RemoteSyscalls.SCRATCH_SIZE);
            remote = RemoteSyscalls.infect(tracee, now, scratch);
            ProcessBuild build = new ProcessBuild(tracee, remote, proc, leader, Set.of());
            // Its IPC namespace's segments are there for its areas (and its children's) to attach.
            SysvIpc.make(pid, image.ipc());
            build.become(image);
            return build;
        } catch (RuntimeException e) {
            if (remote != null) {
                remote.close();
            }
            tracee.close();
            HeldStart.kill(pid);
            throw e;
        }
    }

    /**
     * Makes {@code child}, a child of this process in the image, with its pid there (clone3
     * with set_tid), in the session and process group it had, and gives it its mappings,
     * empty. Made before this process's descriptors are restored, it inherits none it keeps;
     * made after its mappings, it keeps the shared anonymous memory it had inherited.
     */
    ProcessBuild fork(ProcessImage child, ProcessImage parent) {
        int id = child.vpid();
        int pid = clone(id, "process " + id + " (" + child.process().exe() + ")");
        Tracee t = Tracee.autoAttached(pid);
        RemoteSyscalls r = null;
        try {
            t.awaitInterruptStop();
            t.setOptions(HeldStart.OPTIONS);
            r = remote.inheritedBy(t);
            ProcessState c = child.process();
            join(r, c.vpid(), c.vpgid(), c.vsid(), parent.process());
            ProcessBuild build = new ProcessBuild(t, r, new ProcFs(pid), id,
                    MemoryArea.inherited(child.areas(), parent.areas()));
            build.become(child);
            return build;
        } catch (RuntimeException e) {
            if (r != null) {
                try {
                    r.close();
                } catch (RuntimeException ignored) {
                    // it is killed below
                }
            }
            t.close();
            HeldStart.kill(pid);
            throw e;
        }
    }

    /**
     * Makes {@code zombie}, a child of this process ({@code parent} in the image) that had ended
     * and was not waited for: made with its pid, in its session and group, it ends as it ended
     * (exit_group with its status, or killed by its signal, without a core dump), and this
     * process is left with no SIGCHLD of it pending: the program had taken the one its end sent.
     */
    void zombie(ZombieState zombie, ProcessState parent) {
        int pid = clone(zombie.vpid(), "the ended child " + zombie.vpid());
        Tracee t = Tracee.autoAttached(pid);
        int pidfd = -1;
        try {
            t.awaitInterruptStop();
            try (RemoteSyscalls r = remote.inheritedBy(t)) {
                join(r, zombie.vpid(), zombie.vpgid(), zombie.vsid(), parent);
                pidfd = Spawn.pidfd(pid);
                if (zombie.signaled()) {
                    r.check("prctl(PR_SET_DUMPABLE, 0)", SYS_prctl, PR_SET_DUMPABLE, 0);
                    if (zombie.signal() != SIGKILL) {
                        r.check("rt_sigaction(" + zombie.signal() + ", SIG_DFL)", SYS_rt_sigaction, zombie.signal(),
                                r.put(0, MemorySegment.ofArray(new long[4])), 0, 8);
                    }
                    r.detachInto(0, SYS_kill, zombie.vpid(), zombie.signal());
                } else {
                    r.detachInto(-1L, SYS_exit_group, zombie.exitStatus());
                }
            }
            if (!Spawn.awaitEnd(pidfd, ZOMBIE_MILLIS)) {
                throw new HotcloneException("the ended child " + zombie.vpid() + " of process " + vpid + " did not end"
                        + " again within " + ZOMBIE_MILLIS + " ms of being made (it should have " + zombie.ending() + ")");
            }
            if (new ProcFs(pid).stat().state() != 'Z') {
                throw new HotcloneException("the ended child " + zombie.vpid() + " of process " + vpid + " was reaped as"
                        + " soon as it ended again: its parent ignores SIGCHLD where it is restored");
            }
        } catch (RuntimeException e) {
            t.close();
            HeldStart.kill(pid);
            throw e;
        } finally {
            if (pidfd >= 0) {
                Libc.close(io.hotclone.bindings.Native.callState(), pidfd);
            }
        }
        t.close();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment set = local.allocate(ValueLayout.JAVA_LONG);
            set.set(ValueLayout.JAVA_LONG, 0, 1L << (SIGCHLD - 1));
            MemorySegment none = local.allocate(16); // a zero timeout: take it if it is there
            long r = remote.call(SYS_rt_sigtimedwait, remote.put(0, set), 0, remote.put(8, none), 8);
            if (r != SIGCHLD && r != -EAGAIN) {
                throw new SyscallException("rt_sigtimedwait(SIGCHLD) in process " + pid(), (int) -r);
            }
        }
    }

    /** Makes a child of this process with pid {@code id} in the program (clone3 with set_tid); returns its pid here. */
    private int clone(int id, String what) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment ids = local.allocate(ValueLayout.JAVA_INT);
            ids.set(ValueLayout.JAVA_INT, 0, id);
            MemorySegment args = clone_args.allocate(local);
            clone_args.exit_signal(args, SIGCHLD);
            clone_args.set_tid(args, remote.put(clone_args.sizeof(), ids));
            clone_args.set_tid_size(args, 1);
            tracee.setOptions(HeldStart.OPTIONS | PTRACE_O_TRACEFORK);
            try {
                return remote.callForking("clone3(set_tid=" + id + ")", SYS_clone3, remote.put(0, args),
                        clone_args.sizeof());
            } catch (SyscallException e) {
                if (e.errno() == EEXIST) {
                    throw new HotcloneException("cannot recreate " + what + ": its pid is taken in the pid namespace"
                            + " the program is restored into", e);
                }
                throw e;
            } finally {
                tracee.setOptions(HeldStart.OPTIONS);
            }
        }
    }

    /** Leads the session or process group the child led, or joins the group it was in (a sibling's). */
    private static void join(RemoteSyscalls child, int vpid, int vpgid, int vsid, ProcessState parent) {
        if (vsid == vpid && vsid != parent.vsid()) {
            child.check("setsid", SYS_setsid);
        } else if (vpgid != parent.vpgid()) {
            child.check("setpgid(0, " + vpgid + ")", SYS_setpgid, 0, vpgid == vpid ? 0 : vpgid);
        }
    }

    /** Trades the mappings it has for the image's, empty (the kernel's moved to the image's addresses). */
    private void become(ProcessImage image) {
        List<MapsEntry> now = proc.maps();
        space.clear(now.stream().filter(m -> !inherited.contains(m.start())).toList());
        List<MapsEntry> kept = proc.maps();
        space.moveVdso(kept, image.areas(), AddressSpace.freeRange(kept, image.areas(), 64L << 20));
        space.map(own(image.areas()));
    }

    /** {@code areas} but those inherited from its parent. */
    private List<MemoryArea> own(List<MemoryArea> areas) {
        return inherited.isEmpty() ? areas : areas.stream().filter(a -> !inherited.contains(a.start())).toList();
    }

    /** The starts of its shared anonymous areas that are its parent's memory (see {@link MemoryArea#inherited}). */
    Set<Long> inherited() {
        return inherited;
    }

    int pid() {
        return tracee.tid();
    }

    /** The pid the program knows it by. */
    int vpid() {
        return vpid;
    }

    /** The session and process group the program led, if any: it leads them again. */
    private static Spawn.Group group(ProcessState process) {
        return process.sessionLeader() ? Spawn.Group.OWN_SESSION
                : process.groupLeader() ? Spawn.Group.OWN_GROUP : Spawn.Group.INHERIT;
    }

    /** Whether any of {@code areas} lies on the scratch area hotclone's injected calls use. */
    boolean onScratch(List<MemoryArea> areas) {
        long from = remote.scratch();
        long to = from + RemoteSyscalls.SCRATCH_SIZE;
        return areas.stream().anyMatch(a -> Long.compareUnsigned(a.start(), to) < 0 && Long.compareUnsigned(from, a.end()) < 0);
    }

    /**
     * Brings the mappings from {@code had} to {@code now} (see {@link AddressSpace#reconcile}),
     * both of which inherit the same areas from its parent.
     */
    void reconcile(List<MemoryArea> had, List<MemoryArea> now) {
        space.reconcile(own(had), own(now));
    }

    /**
     * Copies this process's pages of every checkpoint of {@code chain} (oldest first, so newer
     * pages win) into place. A page goes only into an area whose contents count from that
     * checkpoint on ({@link MemoryArea#sinceSeq()}): older pages at its addresses belonged to
     * another mapping.
     */
    void fill(Journal journal, List<Long> chain, List<MemoryArea> areas) {
        NavigableMap<Long, MemoryArea> byStart = new TreeMap<>(Long::compareUnsigned);
        own(areas).stream().filter(MemoryArea::hasContents).forEach(a -> byStart.put(a.start(), a));
        for (long seq : chain) {
            journal.pages(seq, vpid, (address, contents) -> {
                long end = address + contents.byteSize();
                for (long at = address; Long.compareUnsigned(at, end) < 0; ) {
                    Map.Entry<Long, MemoryArea> e = byStart.floorEntry(at);
                    if (e == null || !e.getValue().contains(at)) {
                        Long next = byStart.higherKey(at);
                        at = next == null || Long.compareUnsigned(next, end) > 0 ? end : next;
                        continue;
                    }
                    MemoryArea area = e.getValue();
                    long stop = Long.compareUnsigned(area.end(), end) < 0 ? area.end() : end;
                    if (area.sinceSeq() <= seq) {
                        remote.memory().write(at, contents.asSlice(at - address, stop - at));
                    }
                    at = stop;
                }
            });
        }
    }

    /** Installs the final protections, the mm fields and the descriptors ({@code exchange}: those shared with the program's other processes). */
    void files(ProcessImage image, FdExchange exchange) {
        ProcessState process = image.process();
        space.protect(image.areas());
        // A child made by its parent's fork has its parent's executable until it is given its own.
        process.mm().restore(remote, process.auxv(), proc.link("exe").equals(process.exe()) ? null : process.exe());
        FdState.restoreAll(remote, proc.fds(), image.fds(), vpid, exchange);
    }

    /**
     * Installs the rest but the memory and files (signal state, limits, names), makes the
     * image's other threads with their ids, and gives every thread its registers; they stay
     * stopped until {@link #release}.
     */
    void resume(ProcessImage image) {
        image.process().restore(remote, pid());
        // The ids the program's own pid namespace gives it, which its injected calls name.
        int self = (int) remote.check("getpid", SYS_getpid);
        List<ThreadState> others = image.threads().subList(1, image.threads().size());
        tracee.setOptions(HeldStart.OPTIONS | PTRACE_O_TRACECLONE);
        for (ThreadState t : others) {
            made.add(t.recreate(remote));
        }
        for (int i = 0; i < others.size(); i++) {
            ThreadState t = others.get(i);
            try (RemoteSyscalls thread = remote.sibling(made.get(i))) {
                t.restore(thread, self, t.programTid());
                install(thread, t);
            }
        }
        ThreadState leader = image.threads().getFirst();
        leader.restore(remote, self, self);
        install(remote, leader);
        remote.close();
    }

    /** Lets every thread run. */
    void release() {
        for (Tracee t : made) {
            t.detach(0);
            t.close();
        }
        tracee.detach(0);
        tracee.close();
    }

    /** The thread's registers, signal mask and xstate, last: {@code remote}'s calls are done. */
    private static void install(RemoteSyscalls remote, ThreadState thread) {
        remote.cure(MemorySegment.ofArray(thread.registers()), thread.blockedMask(), false);
        remote.tracee().setXstate(thread.xstate());
    }

    /** Kills the half-built process (before its half-made threads are let go), once. */
    void kill() {
        if (killed) {
            return;
        }
        killed = true;
        int pid = pid();
        Spawn.kill(pid, SIGKILL);
        try {
            remote.close();
        } catch (RuntimeException ignored) {
            // it is killed whatever state its registers are in
        }
        made.forEach(Tracee::close);
        tracee.close();
        HeldStart.kill(pid);
    }

    private static void checkXstate(Tracee tracee, ImageHeader h) {
        int here = tracee.xstate().length;
        if (here != h.xstateSize()) {
            throw new HotcloneException("checkpoint " + h.seq() + " holds " + h.xstateSize()
                    + "-byte xsave state but this CPU uses " + here + " bytes: restore it on a node with the same"
                    + " CPU features");
        }
    }
}
